/**
 * OffsetCommit and OffsetFetch against a shard's group and offsets (called
 * by group-shard.ts, which owns both):
 * - a member commits with its epoch: a newer epoch or an unknown member is
 *   refused (FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID); the epoch before its
 *   current one only for partitions it still holds (a commit racing its new
 *   epoch), else STALE_MEMBER_EPOCH, so a consumer that lost a partition
 *   cannot move its offset back; tools commit as no member (epoch -1, id "")
 *   only while the group has no members (NON_EMPTY_GROUP);
 * - fetch answers replicated commits only (offsets-store.ts), and with
 *   `requireStable` UNSTABLE_OFFSET_COMMIT for one still being replicated.
 */
import { Errors, type ErrorName } from '../../protocol/errors.js';
import type { OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse } from '../../protocol/messages.js';
import type { RequestEnv } from './group-shard.js';
import type { ConsumerGroup, Member } from './group.js';
import type { OffsetsStore } from './offsets-store.js';
import { splitTp, tp } from './partition-set.js';
import type { CoordinatorRecord, OffsetValue } from './records.js';
import type { CoordinatorSettings } from './settings.js';

/** The answer and the records of the accepted partitions, written (pending) into `offsets` at `seq`. */
export function commitOffsets(at: { group: ConsumerGroup | undefined; offsets: OffsetsStore; settings: CoordinatorSettings; seq: number }, request: OffsetCommitRequest, env: RequestEnv): { response: OffsetCommitResponse; records: CoordinatorRecord[] } {
  const { group, offsets, settings, seq } = at;
  const fromTool = request.memberEpoch === -1 && request.memberId === '';
  const failAll = (name: ErrorName, message: string) => ({
    response: { throttleTimeMs: 0, topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: Errors[name].code, errorMessage: message })) })) },
    records: [],
  });
  if (request.groupId === '') return failAll('INVALID_GROUP_ID', 'the group id is empty');
  let member: Member | undefined;
  if (fromTool) {
    if (group !== undefined && group.members.size > 0) return failAll('NON_EMPTY_GROUP', `group ${request.groupId} has ${group.members.size} member(s); offsets are set from outside the group only while it has none (stop its consumers first)`);
  } else {
    member = group?.members.get(request.memberId);
    if (member === undefined) return failAll('UNKNOWN_MEMBER_ID', `group ${request.groupId} has no member ${request.memberId}; the commit is refused (rejoin first)`);
    if (request.memberEpoch > member.memberEpoch || member.memberEpoch === -2) return failAll('FENCED_MEMBER_EPOCH', `commit with epoch ${request.memberEpoch}, but member ${request.memberId}'s epoch is ${member.memberEpoch}; rejoin with epoch 0`);
  }
  const records: CoordinatorRecord[] = [];
  const topics: OffsetCommitResponse['topics'] = [];
  for (const topic of request.topics) {
    const partitions: OffsetCommitResponse['topics'][number]['partitions'] = [];
    topics.push({ name: topic.name, partitions });
    const count = env.topics.get(topic.name);
    for (const p of topic.partitions) {
      const refuse = (name: ErrorName, message: string): void => {
        partitions.push({ partition: p.partition, errorCode: Errors[name].code, errorMessage: message });
      };
      if (count === undefined || p.partition < 0 || p.partition >= count) {
        refuse('UNKNOWN_TOPIC_OR_PARTITION', `${topic.name}-${p.partition} does not exist`);
        continue;
      }
      if (member !== undefined && request.memberEpoch < member.memberEpoch) {
        // An older epoch commits only partitions the member still holds: nobody else can have consumed them meanwhile.
        const key = tp(topic.name, p.partition);
        if (request.memberEpoch !== member.previousMemberEpoch || !(member.assigned.has(key) || member.revoking.has(key))) {
          refuse('STALE_MEMBER_EPOCH', `commit with epoch ${request.memberEpoch}, member ${request.memberId} is at epoch ${member.memberEpoch}; commit again with its current epoch`);
          continue;
        }
      }
      if (p.committedMetadata !== null && Buffer.byteLength(p.committedMetadata, 'utf8') > settings.offsetMetadataMaxBytes) {
        refuse('OFFSET_METADATA_TOO_LARGE', `the metadata of ${topic.name}-${p.partition} is ${Buffer.byteLength(p.committedMetadata, 'utf8')} bytes, above offset.metadata.max.bytes (${settings.offsetMetadataMaxBytes})`);
        continue;
      }
      if (!Number.isSafeInteger(p.committedOffset) || p.committedOffset < 0) {
        refuse('INVALID_REQUEST', `offset ${p.committedOffset} of ${topic.name}-${p.partition} is negative`);
        continue;
      }
      const value: OffsetValue = { offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.committedMetadata, commitTimestampMs: env.nowMs };
      offsets.write(seq, request.groupId, tp(topic.name, p.partition), value);
      records.push({ kind: 'offset', groupId: request.groupId, topic: topic.name, partition: p.partition, value });
      partitions.push({ partition: p.partition, errorCode: Errors.NONE.code, errorMessage: null });
    }
  }
  return { response: { throttleTimeMs: 0, topics }, records };
}

export function fetchOffsets(group: ConsumerGroup | undefined, offsets: OffsetsStore, request: OffsetFetchRequest): OffsetFetchResponse {
  const fail = (name: ErrorName, message: string): OffsetFetchResponse => ({ throttleTimeMs: 0, errorCode: Errors[name].code, errorMessage: message, topics: [] });
  if (request.memberId !== null && request.memberEpoch >= 0) {
    if (group === undefined) return fail('GROUP_ID_NOT_FOUND', `no group ${request.groupId}`);
    const member = group.members.get(request.memberId);
    if (member === undefined) return fail('UNKNOWN_MEMBER_ID', `group ${request.groupId} has no member ${request.memberId}`);
    if (request.memberEpoch !== member.memberEpoch) return fail('STALE_MEMBER_EPOCH', `member ${request.memberId} is at epoch ${member.memberEpoch}, not ${request.memberEpoch}`);
  }
  const stable = offsets.stable(request.groupId);
  const asked = request.topics ?? groupByTopic([...new Set([...stable.keys(), ...offsets.latest(request.groupId).keys()])]);
  const topics = asked.map(({ name, partitions }) => ({
    name,
    partitions: partitions.map((partition) => {
      const key = tp(name, partition);
      if (request.requireStable && offsets.isUnstable(request.groupId, key)) {
        return { partition, committedOffset: -1, committedLeaderEpoch: -1, metadata: null, commitTimestampMs: -1, errorCode: Errors.UNSTABLE_OFFSET_COMMIT.code };
      }
      const value = stable.get(key);
      if (value === undefined) return { partition, committedOffset: -1, committedLeaderEpoch: -1, metadata: null, commitTimestampMs: -1, errorCode: Errors.NONE.code };
      return { partition, committedOffset: value.offset, committedLeaderEpoch: value.leaderEpoch, metadata: value.metadata, commitTimestampMs: value.commitTimestampMs, errorCode: Errors.NONE.code };
    }),
  }));
  return { throttleTimeMs: 0, errorCode: Errors.NONE.code, errorMessage: null, topics };
}

function groupByTopic(keys: readonly string[]): { name: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const key of [...keys].sort()) {
    const { topic, partition } = splitTp(key);
    let list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  return [...byTopic].map(([name, partitions]) => ({ name, partitions: partitions.sort((a, b) => a - b) }));
}
