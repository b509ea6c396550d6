/**
 * The admin's consumer-group calls: list (every broker, merged), describe,
 * committed offsets, lag, offset reset (plan, then commit as a tool) and
 * delete. Each group request goes to the group's coordinator, found again
 * on every attempt (admin calls are rare, so a cached coordinator would
 * save little and could only be stale), and is retried within the client's
 * budget while the answer is retriable: NOT_COORDINATOR and
 * COORDINATOR_NOT_AVAILABLE (the group's `__consumer_offsets` partition
 * moved or has no leader yet), COORDINATOR_LOAD_IN_PROGRESS (a new
 * coordinator still reading the log).
 */
import { errorNameOf } from '../../protocol/errors.js';
import { COORDINATOR_KEY_GROUP, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type DescribedGroup, type OutgoingRequestBodies, type ResponseBodies } from '../../protocol/messages.js';
import type { ApiName } from '../../protocol/api-keys.js';
import { RunnelError, invalidArgument, systemCodeOf } from '../errors.js';
import { addTo } from '../group-by.js';
import type { Cluster } from '../metadata.js';
import { listOffsets, offsetsForTimestamps } from '../offsets.js';
import { byTopicPartition, partitionLags } from '../lag.js';
import type { CommittedOffset, GroupDescription, GroupListing, GroupOutcome, GroupPartitionLag, GroupTopicPartition, OffsetResetPlanEntry, OffsetResetResult, OffsetResetSpec } from './group-types.js';
import { checkResetSpec, plannedOffset } from './reset-plan.js';

/** The tool's identity in OffsetCommit / OffsetFetch: no member, allowed only while the group has none. */
const NO_MEMBER_EPOCH = -1;

function checkGroupId(groupId: unknown): asserts groupId is string {
  if (typeof groupId !== 'string' || groupId === '') throw invalidArgument(`a group id must be a non-empty string, got ${JSON.stringify(groupId)}`);
}

/** One attempt: FindCoordinator on any broker, then the request to the coordinator it names. */
export async function toCoordinator<A extends ApiName>(cluster: Cluster, groupId: string, api: A, body: OutgoingRequestBodies[A]): Promise<{ res: ResponseBodies[A]; coordinator: number }> {
  const found = await cluster.anyConnection().request('FindCoordinator', { keyType: COORDINATOR_KEY_GROUP, keys: [groupId] });
  const c = found.coordinators.find((x) => x.key === groupId);
  if (c === undefined) throw new RunnelError('COORDINATOR_NOT_AVAILABLE', `FindCoordinator named no coordinator for group "${groupId}"; retrying.`);
  if (errorNameOf(c.errorCode) !== 'NONE') throw RunnelError.fromCode(c.errorCode, `Finding the coordinator of group "${groupId}"`, c.errorMessage);
  let conn;
  try {
    conn = cluster.broker(c.nodeId);
  } catch {
    // A broker the metadata has not named yet (this admin has not asked, or the cluster grew): learn it.
    await cluster.fetchMetadata([]);
    conn = cluster.broker(c.nodeId);
  }
  return { res: await conn.request(api, body), coordinator: c.nodeId };
}

function sortPartitions<T extends GroupTopicPartition>(list: T[]): T[] {
  return list.sort(byTopicPartition);
}

export async function listGroups(cluster: Cluster, states: readonly string[]): Promise<GroupListing[]> {
  const meta = await cluster.withRetries('listing the brokers', () => cluster.fetchMetadata([]));
  const ids = meta.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
  // Every broker must answer: one that cannot be asked would hide its groups, so the call fails rather than list some.
  const answers = await Promise.all(ids.map((id) => cluster.withRetries(`listing the groups of broker ${id}`, async () => {
    const res = await cluster.broker(id).request('ListGroups', { statesFilter: [...states], typesFilter: [] });
    if (errorNameOf(res.errorCode) !== 'NONE') throw RunnelError.fromCode(res.errorCode, `Listing the groups of broker ${id}`);
    return res.groups.map((g): GroupListing => ({ group: g.groupId, state: g.groupState, type: g.groupType, coordinator: id }));
  }).catch((err: unknown) => {
    throw unlistedBroker(cluster, id, err);
  })));
  // While a group's coordinator moves, the old and the new one may both list it: the first (lowest broker id) is kept.
  const merged = new Map<string, GroupListing>();
  for (const g of answers.flat()) if (!merged.has(g.group)) merged.set(g.group, g);
  return [...merged.values()].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
}

/**
 * A broker that could not be asked, said as what it means for the list (its
 * groups would be missing), not as "cannot reach the cluster": the other
 * brokers answered. No `cause`, so the CLI does not read the socket error as
 * an unreachable bootstrap address.
 */
function unlistedBroker(cluster: Cluster, id: number, err: unknown): unknown {
  if (!(err instanceof RunnelError) || !UNANSWERED.has(err.errorName)) return err;
  let address = `broker ${id}`;
  try {
    address = `broker ${id} (${cluster.broker(id).address})`;
  } catch {
    // not in the metadata any more: its id says enough
  }
  const why = systemCodeOf(err) ?? err.reason.replace(/\.$/, '');
  return new RunnelError('BROKER_NOT_AVAILABLE', `Could not ask ${address} for its groups (${why}), so a list now would miss the groups it coordinates; try again once it is back, or once the cluster has fenced it (its groups then move to other brokers).`, { retriable: false });
}

/** Errors after which a broker gave no answer at all. */
const UNANSWERED: ReadonlySet<string> = new Set(['CONNECTION_FAILED', 'NETWORK_EXCEPTION', 'REQUEST_TIMED_OUT', 'BROKER_CIRCUIT_OPEN']);

function describedGroup(g: DescribedGroup, coordinator: number): GroupDescription {
  const flat = (list: { topic: string; partitions: number[] }[]): GroupTopicPartition[] => sortPartitions(list.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition }))));
  return {
    group: g.groupId,
    state: g.groupState,
    groupEpoch: g.groupEpoch,
    assignmentEpoch: g.assignmentEpoch,
    assignor: g.assignorName,
    coordinator,
    members: g.members
      .map((m) => ({ memberId: m.memberId, instanceId: m.instanceId, clientId: m.clientId, host: m.clientHost, memberEpoch: m.memberEpoch, assignment: flat(m.assignment), targetAssignment: flat(m.targetAssignment) }))
      .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0)),
  };
}

export async function describeGroup(cluster: Cluster, groupId: string): Promise<GroupDescription> {
  checkGroupId(groupId);
  return cluster.withRetries(`describing group "${groupId}"`, async () => {
    const { res, coordinator } = await toCoordinator(cluster, groupId, 'ConsumerGroupDescribe', { groupIds: [groupId] });
    const g = res.groups.find((x) => x.groupId === groupId);
    if (g === undefined) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The coordinator's ConsumerGroupDescribe answer left out group "${groupId}".`);
    if (errorNameOf(g.errorCode) !== 'NONE') throw RunnelError.fromCode(g.errorCode, `Describing group "${groupId}"`, g.errorMessage);
    return describedGroup(g, coordinator);
  });
}

/** The group's committed offsets; none for a group that does not exist (it has no offsets). */
export async function listGroupOffsets(cluster: Cluster, groupId: string, topics?: readonly string[]): Promise<CommittedOffset[]> {
  checkGroupId(groupId);
  const offsets = await cluster.withRetries(`fetching the committed offsets of group "${groupId}"`, async () => {
    const { res } = await toCoordinator(cluster, groupId, 'OffsetFetch', { groupId, memberId: null, memberEpoch: NO_MEMBER_EPOCH, topics: null, requireStable: false });
    const error = errorNameOf(res.errorCode);
    if (error === 'GROUP_ID_NOT_FOUND') return [];
    if (error !== 'NONE') throw RunnelError.fromCode(res.errorCode, `Fetching the committed offsets of group "${groupId}"`, res.errorMessage);
    const out: CommittedOffset[] = [];
    for (const t of res.topics) {
      for (const p of t.partitions) {
        if (errorNameOf(p.errorCode) !== 'NONE') throw RunnelError.fromCode(p.errorCode, `Fetching the committed offset of ${t.name}-${p.partition} for group "${groupId}"`, null, { topicPartition: { topic: t.name, partition: p.partition } });
        if (p.committedOffset >= 0) out.push({ topic: t.name, partition: p.partition, offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.metadata, commitTimestampMs: p.commitTimestampMs });
      }
    }
    return out;
  });
  return sortPartitions(topics === undefined ? offsets : offsets.filter((o) => topics.includes(o.topic)));
}

/**
 * A group (an Empty one when the coordinator knows only its offsets) with
 * the lag of every partition it has an offset for or assigns.
 */
export async function groupLag(cluster: Cluster, groupId: string): Promise<{ description: GroupDescription; partitions: GroupPartitionLag[] }> {
  const [described, offsets] = await Promise.all([
    describeGroup(cluster, groupId).catch((err: unknown) => {
      if (err instanceof RunnelError && err.errorName === 'GROUP_ID_NOT_FOUND') return err;
      throw err;
    }),
    listGroupOffsets(cluster, groupId),
  ]);
  if (described instanceof RunnelError && offsets.length === 0) throw described;
  const description = described instanceof RunnelError
    ? { group: groupId, state: 'Empty', groupEpoch: -1, assignmentEpoch: -1, assignor: '', coordinator: -1, members: [] }
    : described;
  const owners = new Map<string, { member: string; host: string }>();
  for (const m of description.members) for (const tp of m.assignment) owners.set(`${tp.topic}\0${tp.partition}`, { member: m.memberId, host: m.host });
  const positions = new Map<string, { topic: string; partition: number; position: number | null }>();
  for (const m of description.members) for (const tp of m.assignment) positions.set(`${tp.topic}\0${tp.partition}`, { ...tp, position: null });
  for (const o of offsets) positions.set(`${o.topic}\0${o.partition}`, { topic: o.topic, partition: o.partition, position: o.offset });
  const lags = await partitionLags(cluster, [...positions.values()]);
  return {
    description,
    partitions: lags.map((l) => {
      const owner = owners.get(`${l.topic}\0${l.partition}`);
      return { ...l, member: owner?.member ?? null, host: owner?.host ?? null };
    }),
  };
}

/** The partitions a reset names: every partition of each topic (or those listed), or every one the group has an offset for. */
async function resetTargets(cluster: Cluster, topics: readonly { topic: string; partitions?: readonly number[] }[] | 'all', current: readonly CommittedOffset[]): Promise<GroupTopicPartition[]> {
  if (topics === 'all') return current.map((o) => ({ topic: o.topic, partition: o.partition }));
  // Keyed, so a partition named twice (`--topic orders --topic orders:1`) is planned and committed once.
  const out = new Map<string, GroupTopicPartition>();
  for (const t of topics) {
    const info = await cluster.topic(t.topic);
    const count = info.partitions.length;
    const wanted = t.partitions ?? Array.from({ length: count }, (_, i) => i);
    for (const partition of wanted) {
      if (!Number.isInteger(partition) || partition < 0 || partition >= count) throw new RunnelError('UNKNOWN_TOPIC_OR_PARTITION', `Topic "${t.topic}" has ${count} partitions; partition ${partition} does not exist.`, { retriable: false, topicPartition: { topic: t.topic, partition } });
      out.set(`${t.topic}\0${partition}`, { topic: t.topic, partition });
    }
  }
  return [...out.values()];
}

/** Where each partition would go: the bounds of each from its leader, the offsets by time when the spec is a time. */
async function resetPlan(cluster: Cluster, targets: readonly GroupTopicPartition[], current: readonly CommittedOffset[], spec: OffsetResetSpec): Promise<OffsetResetPlanEntry[]> {
  const committed = new Map(current.map((o) => [`${o.topic}\0${o.partition}`, o.offset]));
  const byTopic = new Map<string, number[]>();
  for (const tp of targets) addTo(byTopic, tp.topic, tp.partition);
  const plans = await Promise.all([...byTopic].map(([topic, partitions]) => cluster.withRetries(`planning the offsets of "${topic}"`, async () => {
    const at = (timestamp: number) => partitions.map((partition) => ({ partition, timestamp }));
    const [starts, ends, byTime] = await Promise.all([
      listOffsets(cluster, topic, at(EARLIEST_TIMESTAMP)),
      listOffsets(cluster, topic, at(LATEST_TIMESTAMP)),
      'to' in spec && spec.to === 'datetime' ? offsetsForTimestamps(cluster, topic, at(spec.timestampMs)) : null,
    ]);
    return partitions.map((partition): OffsetResetPlanEntry => {
      const currentOffset = committed.get(`${topic}\0${partition}`) ?? null;
      const bounds = { topic, partition, logStartOffset: starts.get(partition)!, highWatermark: ends.get(partition)!, currentOffset, offsetAtTime: byTime?.get(partition) };
      return { topic, partition, currentOffset, newOffset: plannedOffset(spec, bounds) };
    });
  })));
  return sortPartitions(plans.flat());
}

export async function resetGroupOffsets(cluster: Cluster, groupId: string, opts: { topics: readonly { topic: string; partitions?: readonly number[] }[] | 'all'; spec: OffsetResetSpec; execute?: boolean }): Promise<OffsetResetResult> {
  checkGroupId(groupId);
  if (opts === null || typeof opts !== 'object' || (opts.topics !== 'all' && !Array.isArray(opts.topics))) throw invalidArgument('resetGroupOffsets takes (groupId, { topics: [{ topic, partitions? }] | "all", spec, execute? })');
  checkResetSpec(opts.spec);
  const execute = opts.execute === true;
  if (execute) await refuseWithMembers(cluster, groupId);
  const current = await listGroupOffsets(cluster, groupId);
  const targets = await resetTargets(cluster, opts.topics, current);
  const partitions = await resetPlan(cluster, targets, current, opts.spec);
  if (!execute || partitions.length === 0) return { executed: false, partitions };
  await commitAsTool(cluster, groupId, partitions);
  return { executed: true, partitions };
}

/**
 * Moving a live group's offsets would race its members' own commits (and
 * the coordinator refuses a commit from outside a group with members):
 * say so up front, naming the members, rather than fail half-way.
 */
async function refuseWithMembers(cluster: Cluster, groupId: string): Promise<void> {
  let members: GroupDescription['members'];
  try {
    ({ members } = await describeGroup(cluster, groupId));
  } catch (err) {
    if (err instanceof RunnelError && err.errorName === 'GROUP_ID_NOT_FOUND') return;
    throw err;
  }
  if (members.length === 0) return;
  const who = members.map((m) => `${m.memberId} (${m.clientId} at ${m.host})`).join(', ');
  throw new RunnelError('NON_EMPTY_GROUP', `Group "${groupId}" has ${members.length} active member${members.length === 1 ? '' : 's'} (${who}); its offsets can be reset only while it has none: stop its consumers first (or wait for their sessions to time out).`, { retriable: false });
}

async function commitAsTool(cluster: Cluster, groupId: string, partitions: readonly OffsetResetPlanEntry[]): Promise<void> {
  const byTopic = new Map<string, OffsetResetPlanEntry[]>();
  for (const p of partitions) addTo(byTopic, p.topic, p);
  const topics = [...byTopic].map(([name, list]) => ({ name, partitions: list.map((p) => ({ partition: p.partition, committedOffset: p.newOffset, committedLeaderEpoch: -1, committedMetadata: null })) }));
  // Committing the same offsets again is harmless, so a retry after a lost answer is safe.
  await cluster.withRetries(`committing the offsets of group "${groupId}"`, async () => {
    const { res } = await toCoordinator(cluster, groupId, 'OffsetCommit', { groupId, memberId: '', memberEpoch: NO_MEMBER_EPOCH, groupInstanceId: null, topics });
    for (const t of res.topics) {
      for (const p of t.partitions) {
        if (errorNameOf(p.errorCode) === 'NONE') continue;
        throw RunnelError.fromCode(p.errorCode, `Committing the offset of ${t.name}-${p.partition} for group "${groupId}"`, p.errorMessage, { topicPartition: { topic: t.name, partition: p.partition } });
      }
    }
  });
}

export async function deleteGroups(cluster: Cluster, groupIds: readonly string[]): Promise<GroupOutcome[]> {
  if (!Array.isArray(groupIds)) throw invalidArgument('deleteGroups takes a list of group ids');
  for (const g of groupIds) checkGroupId(g);
  return Promise.all(groupIds.map(async (group): Promise<GroupOutcome> => {
    try {
      await cluster.withRetries(`deleting group "${group}"`, async () => {
        const { res } = await toCoordinator(cluster, group, 'DeleteGroups', { groupsNames: [group] });
        const r = res.results.find((x) => x.groupId === group);
        if (r === undefined) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The coordinator's DeleteGroups answer left out group "${group}".`);
        if (errorNameOf(r.errorCode) !== 'NONE') throw RunnelError.fromCode(r.errorCode, `Deleting group "${group}"`, r.errorMessage);
      });
      return { group, error: null };
    } catch (err) {
      if (!(err instanceof RunnelError)) throw err;
      return { group, error: { name: err.errorName, message: err.reason } };
    }
  }));
}
