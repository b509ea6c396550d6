/**
 * `runnel groups` end to end on a real broker process and its group
 * coordinator: a reset with --execute prepares a new group's offsets (a
 * commit as no member), describe gives the issue's --json with lag in
 * records and seconds, list finds it; a member that joins (a bare
 * ConsumerGroupHeartbeat) shows in describe with its partitions, and while
 * it is in the group reset --execute and delete are refused and change
 * nothing; once it leaves both go through.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Runnel } from '../../client/index.js';
import { errorNameOf } from '../../protocol/errors.js';
import type { ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse } from '../../protocol/messages.js';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { RawClient } from '../support/raw-client.js';
import { linesOf, runnel } from './run-cli.js';

interface Report {
  group: string;
  state: string;
  members: { memberId: string; assignment: { topic: string; partition: number }[] }[];
  partitions: { topic: string; partition: number; currentOffset: number | null; logEndOffset: number | null; lag: number | null; lagSeconds: number | null; member: string | null }[];
}

let broker: BrokerProcess;
t.before(async () => {
  broker = await startBrokerProcess();
});
t.teardown(async () => {
  await broker?.stop();
});

const cli = (args: string[], input?: string) => runnel([...args, '-b', broker.bootstrap], input === undefined ? {} : { input });
const describe = async (group: string): Promise<Report> => {
  const res = await cli(['groups', 'describe', group, '--json']);
  if (res.code !== 0) throw new Error(`describe ${group}: ${res.stderr}`);
  return JSON.parse(res.stdout) as Report;
};

/** One heartbeat, retried (bounded) while the coordinator is still starting up. */
async function heartbeat(raw: RawClient, body: ConsumerGroupHeartbeatRequest): Promise<ConsumerGroupHeartbeatResponse> {
  for (let attempt = 0; ; attempt++) {
    const res = await raw.request('ConsumerGroupHeartbeat', body);
    const error = errorNameOf(res.errorCode);
    if (error === 'NONE') return res;
    if (attempt >= 40 || !['COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR'].includes(error)) throw new Error(`heartbeat: ${error} ${res.errorMessage ?? ''}`);
    await sleep(250);
  }
}

t.test('reset prepares a group, describe shows its lag, a member blocks reset and delete until it leaves', async (t) => {
  t.equal((await cli(['topic', 'create', 'pay', '--partitions', '3'])).code, 0);
  for (const partition of [0, 1, 2]) {
    const produced = await cli(['produce', 'pay', '--partition', String(partition)], Array.from({ length: 10 }, (_, i) => `p${partition}-${i}`).join('\n') + '\n');
    t.equal(produced.code, 0, produced.stderr);
  }

  const empty = await cli(['groups', 'list', '--json']);
  t.equal(empty.code, 0, empty.stderr);
  t.same(JSON.parse(empty.stdout), [], 'no groups yet');

  const dry = await cli(['groups', 'reset-offsets', 'ops', '--topic', 'pay', '--to-earliest']);
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stdout, /Dry run: nothing was changed/);
  t.equal((await cli(['groups', 'describe', 'ops'])).code, 1, 'a dry run made no group');

  const prepared = await cli(['groups', 'reset-offsets', 'ops', '--topic', 'pay', '--to-earliest', '--execute', '--json']);
  t.equal(prepared.code, 0, prepared.stderr);
  t.same(JSON.parse(prepared.stdout), { group: 'ops', executed: true, partitions: [0, 1, 2].map((partition) => ({ topic: 'pay', partition, currentOffset: null, newOffset: 0 })) });
  const moved = await cli(['groups', 'reset-offsets', 'ops', '--topic', 'pay:0', '--shift-by', '4', '--execute']);
  t.equal(moved.code, 0, moved.stderr);
  t.match(moved.stdout, /pay\s+0\s+0\s+4\nCommitted the new offsets of group ops\./);

  const report = await describe('ops');
  t.same(Object.keys(report), ['group', 'state', 'members', 'partitions']);
  t.match(report, { group: 'ops', state: 'Empty', members: [] });
  t.same(report.partitions.map((p) => [p.partition, p.currentOffset, p.logEndOffset, p.lag, p.member]), [[0, 4, 10, 6, null], [1, 0, 10, 10, null], [2, 0, 10, 10, null]]);
  for (const p of report.partitions) t.ok(p.lagSeconds! > 0 && p.lagSeconds! < 300, `lag seconds of pay-${p.partition}: the records are moments old (${p.lagSeconds})`);
  const listed = JSON.parse((await cli(['groups', 'list', '--json'])).stdout) as { group: string; state: string; coordinator: number }[];
  t.same(listed, [{ group: 'ops', state: 'Empty', coordinator: 0 }], 'the single broker (node 0) coordinates it');

  // A member joins (as a consumer would), takes the partitions and confirms it owns them.
  const raw = await RawClient.connect(broker.host, broker.port);
  t.teardown(() => raw.close());
  const memberId = randomUUID();
  const base = { groupId: 'ops', memberId, instanceId: null, rackId: null, rebalanceTimeoutMs: 30_000, subscribedTopicRegex: null, serverAssignor: null };
  let hb = await heartbeat(raw, { ...base, memberEpoch: 0, subscribedTopicNames: ['pay'], topicPartitions: [] });
  let owned = hb.assignment?.topicPartitions ?? [];
  for (let i = 0; i < 20 && owned.flatMap((tp) => tp.partitions).length < 3; i++) {
    await sleep(200);
    hb = await heartbeat(raw, { ...base, memberEpoch: hb.memberEpoch, subscribedTopicNames: null, topicPartitions: owned });
    owned = hb.assignment?.topicPartitions ?? owned;
  }
  hb = await heartbeat(raw, { ...base, memberEpoch: hb.memberEpoch, subscribedTopicNames: null, topicPartitions: owned });
  const live = await describe('ops');
  t.equal(live.members.length, 1);
  t.equal(live.members[0]!.memberId, memberId);
  t.same(live.partitions.map((p) => p.member), [memberId, memberId, memberId], 'each partition names its owner');

  const refused = await cli(['groups', 'reset-offsets', 'ops', '--all-topics', '--to-latest', '--execute']);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /^error: Group "ops" has 1 active member \(/);
  const deleteRefused = await cli(['groups', 'delete', 'ops']);
  t.equal(deleteRefused.code, 1);
  t.same(linesOf(deleteRefused.stderr), ['error: group ops still has members; stop its consumers first (or wait for their sessions to time out), see them with `runnel groups describe ops`']);
  t.same((await describe('ops')).partitions.map((p) => p.currentOffset), [4, 0, 0], 'offsets unchanged');

  await heartbeat(raw, { ...base, memberEpoch: -1, subscribedTopicNames: null, topicPartitions: null });
  const reset = await cli(['groups', 'reset-offsets', 'ops', '--all-topics', '--to-latest', '--execute']);
  t.equal(reset.code, 0, reset.stderr);
  const caughtUp = await describe('ops');
  t.same(caughtUp.partitions.map((p) => [p.currentOffset, p.lag, p.lagSeconds]), [[10, 0, 0], [10, 0, 0], [10, 0, 0]], 'caught up: no lag in records or seconds');

  // Lag in seconds is the age of the first unconsumed record, by its own timestamp: records stamped from an hour
  // ago, a minute apart; the group has consumed the first 5, so the oldest unconsumed is 55 minutes old. One batch
  // of 30 KiB, larger than the lag's first read (16 KiB): the broker sends a first batch whole whatever the limit.
  const sdk = new Runnel({ bootstrap: [broker.bootstrap] });
  t.teardown(() => sdk.close());
  const producer = sdk.producer();
  const stamped = Date.now() - 60 * 60_000;
  await producer.send({ topic: 'pay', messages: Array.from({ length: 10 }, (_, i) => ({ value: `old-${i}-${'x'.repeat(3000)}`, partition: 2, timestamp: stamped + i * 60_000 })) });
  await producer.flush();
  t.equal((await cli(['groups', 'reset-offsets', 'ops', '--topic', 'pay:2', '--shift-by', '5', '--execute'])).code, 0);
  const aged = (await describe('ops')).partitions[2]!;
  t.match(aged, { currentOffset: 15, logEndOffset: 20, lag: 5 });
  t.ok(Math.abs(aged.lagSeconds! - 55 * 60) < 60, `lag seconds from the record at offset 15 (${aged.lagSeconds})`);

  const deleted = await cli(['groups', 'delete', 'ops']);
  t.equal(deleted.code, 0, deleted.stderr);
  t.equal(deleted.stdout, 'Deleted group ops.\n');
  const gone = await cli(['groups', 'describe', 'ops']);
  t.equal(gone.stderr, 'error: group ops does not exist; see the groups with `runnel groups list`\n');
});
