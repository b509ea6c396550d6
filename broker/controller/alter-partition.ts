/**
 * AlterPartition decided: which of a leader's proposed ISR changes the
 * controller commits, and what each partition is told. A pure function of
 * the image, checked in Kafka's order per partition:
 * - the partition exists (UNKNOWN_TOPIC_OR_PARTITION, also for a topic id
 *   of an earlier incarnation);
 * - the sender leads it at the leader epoch it names (NOT_LEADER_OR_FOLLOWER
 *   / FENCED_LEADER_EPOCH): a deposed leader cannot shrink the ISR;
 * - it names the current partition epoch (INVALID_UPDATE_VERSION): a change
 *   built on a state that moved on is not applied over it;
 * - the new ISR is a non-empty subset of the replicas that holds the leader
 *   (INVALID_REQUEST), and only unfenced brokers may join it (INELIGIBLE_REPLICA).
 * A proposal equal to the current ISR is answered with the state, unchanged.
 * The broker epoch is checked by the caller, for the whole request.
 */
import { Errors, type ErrorName } from '../../protocol/errors.js';
import type { AlterPartitionRequest, AlterPartitionResponse, AlterPartitionResult } from '../../protocol/messages.js';
import type { PartitionChanged } from '../metadata/changes.js';
import type { MetadataImage, PartitionState } from '../metadata/image.js';
import { nextPartitionState, partitionChangedFor } from './election.js';

export function alterPartitionDecision(image: MetadataImage, request: AlterPartitionRequest): { changes: PartitionChanged[]; response: AlterPartitionResponse } {
  const changes: PartitionChanged[] = [];
  const topics: AlterPartitionResponse['topics'] = request.topics.map((asked) => {
    const topic = image.topics.get(asked.name);
    const partitions = asked.partitions.map((p): AlterPartitionResult => {
      const state = topic !== undefined && topic.topicId === asked.topicId ? topic.partitionStates[p.partition] : undefined;
      if (topic === undefined || state === undefined) return refused(p.partition, 'UNKNOWN_TOPIC_OR_PARTITION', `${asked.name}-${p.partition} does not exist (in topic id ${asked.topicId})`);
      const refuse = (name: ErrorName, message: string): AlterPartitionResult => refused(p.partition, name, message, state);
      if (state.leader !== request.brokerId) return refuse('NOT_LEADER_OR_FOLLOWER', `broker ${request.brokerId} does not lead ${asked.name}-${p.partition} (its leader is ${state.leader})`);
      if (p.leaderEpoch !== state.leaderEpoch) return refuse('FENCED_LEADER_EPOCH', `leader epoch ${p.leaderEpoch} named, the partition is at ${state.leaderEpoch}`);
      if (p.partitionEpoch !== state.partitionEpoch) return refuse('INVALID_UPDATE_VERSION', `partition epoch ${p.partitionEpoch} named, the partition is at ${state.partitionEpoch}`);
      const isr = p.newIsr;
      if (isr.length === 0 || new Set(isr).size !== isr.length || !isr.every((id) => state.replicas.includes(id)) || !isr.includes(state.leader)) {
        return refuse('INVALID_REQUEST', `ISR [${isr.join(',')}] is not a set of the replicas [${state.replicas.join(',')}] that holds the leader ${state.leader}`);
      }
      const ineligible = isr.filter((id) => !state.isr.includes(id) && image.brokers.get(id)?.fenced !== false);
      if (ineligible.length > 0) return refuse('INELIGIBLE_REPLICA', `broker(s) ${ineligible.join(', ')} may not join the ISR: fenced or not registered`);
      const next = nextPartitionState(state, { leader: state.leader, isr });
      if (next === null) return accepted(p.partition, state);
      changes.push(partitionChangedFor(topic, p.partition, next));
      return accepted(p.partition, next);
    });
    return { name: asked.name, partitions };
  });
  return { changes, response: { errorCode: Errors.NONE.code, errorMessage: null, topics } };
}

function accepted(partition: number, state: PartitionState): AlterPartitionResult {
  return { partition, errorCode: Errors.NONE.code, errorMessage: null, leader: state.leader, leaderEpoch: state.leaderEpoch, partitionEpoch: state.partitionEpoch, isr: [...state.isr] };
}

function refused(partition: number, name: ErrorName, message: string, state?: PartitionState): AlterPartitionResult {
  return { partition, errorCode: Errors[name].code, errorMessage: message, leader: state?.leader ?? -1, leaderEpoch: state?.leaderEpoch ?? -1, partitionEpoch: state?.partitionEpoch ?? -1, isr: state === undefined ? [] : [...state.isr] };
}
