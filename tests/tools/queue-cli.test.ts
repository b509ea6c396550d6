/**
 * `runnel queue` as a user runs it (the built CLI in a child process),
 * against a fake share coordinator (tests/client/queue/fake-share-coordinator.ts):
 * receive with each --ack (what the coordinator ends up with, and the
 * delivery counts printed), the --json shapes, describe's tables with
 * totals, and the one-line errors.
 */
import t, { type Test } from 'tap';
import { Runnel } from '../../client/index.js';
import { FakeCluster } from '../client/fake-cluster.js';
import { FakeShareCoordinator } from '../client/queue/fake-share-coordinator.js';
import { linesOf, runnel } from './run-cli.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

async function world(t: Test, records: number): Promise<{ cluster: FakeCluster; coordinator: FakeShareCoordinator; b: string[] }> {
  const cluster = await FakeCluster.start(t, [1], { jobs: { partitions: 1, replicas: [1] } });
  const coordinator = new FakeShareCoordinator(cluster, 1);
  t.teardown(() => coordinator.stop());
  const client = new Runnel({ bootstrap: cluster.bootstrap, logger: silent });
  const producer = client.producer({ lingerMs: 0 });
  await producer.send({ topic: 'jobs', messages: Array.from({ length: records }, (_, i) => ({ key: `k${i}`, value: `job ${i}` })) });
  await client.close();
  return { cluster, coordinator, b: ['-b', cluster.bootstrap.join(',')] };
}

t.test('receive --ack accept --json: one object a line with the delivery count; the coordinator has them accepted', async (t) => {
  const { coordinator, b } = await world(t, 3);
  const r = await runnel(['queue', 'receive', 'jobs', '--group', 'workers', '--max', '2', '--ack', 'accept', '--json', ...b]);
  t.equal(r.code, 0, r.stderr);
  const lines = linesOf(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
  t.same(lines.map((l) => Object.keys(l)), [0, 1].map(() => ['topic', 'partition', 'offset', 'timestamp', 'key', 'value', 'headers', 'deliveryCount', 'ack']));
  t.match(lines, [{ topic: 'jobs', partition: 0, offset: 0, key: 'k0', value: 'job 0', deliveryCount: 1, ack: 'accept' }, { offset: 1, value: 'job 1', deliveryCount: 1 }]);
  t.same([0, 1, 2].map((o) => coordinator.record('workers', 'jobs', 0, o)?.state), ['accepted', 'accepted', undefined], 'the third was never taken');
  t.equal(coordinator.requests('ShareGroupHeartbeat').at(-1)?.memberEpoch, -1, 'the member left');
});

t.test('receive --ack release, then again: the record comes back with delivery count 2; --ack reject ends it', async (t) => {
  const { coordinator, b } = await world(t, 1);
  const first = await runnel(['queue', 'receive', 'jobs', '-g', 'workers', '--ack', 'release', ...b]);
  t.equal(first.code, 0, first.stderr);
  t.same(linesOf(first.stdout).map((l) => l.split(/\s{2,}/)), [['PARTITION', 'OFFSET', 'DELIVERY-COUNT', 'KEY', 'VALUE'], ['0', '0', '1', 'k0', 'job 0']]);
  t.match(first.stderr, /1 record released\./);
  const second = await runnel(['queue', 'receive', 'jobs', '-g', 'workers', '--ack', 'reject', '--json', ...b]);
  t.equal(second.code, 0, second.stderr);
  t.match(JSON.parse(linesOf(second.stdout)[0]!), { offset: 0, deliveryCount: 2, ack: 'reject' });
  t.equal(coordinator.record('workers', 'jobs', 0, 0)?.state, 'rejected');
  t.equal(coordinator.record('workers', 'jobs', 0, 0)?.lastReason, 'settled with runnel queue receive');
  const empty = await runnel(['queue', 'receive', 'jobs', '-g', 'workers', '--wait-ms', '100', ...b]);
  t.equal(empty.code, 0);
  t.equal(empty.stdout, '');
  t.match(empty.stderr, /No records within 100 ms\./);
});

t.test('receive without --ack settles nothing: the records stay locked (as aws sqs receive-message leaves them)', async (t) => {
  const { coordinator, b } = await world(t, 2);
  const r = await runnel(['queue', 'receive', 'jobs', '-g', 'workers', ...b]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /2 records left locked until their visibility timeout\./);
  t.same([0, 1].map((o) => coordinator.record('workers', 'jobs', 0, o)?.state), ['acquired', 'acquired']);
  t.same(coordinator.requests('ShareGroupHeartbeat').map((h) => h.memberEpoch).filter((e) => e === -1), [], 'the member did not leave (leaving would release them)');
});

t.test('describe: the --json shape, and the tables with totals', async (t) => {
  const { coordinator, b } = await world(t, 5);
  await runnel(['queue', 'receive', 'jobs', '-g', 'workers', '--max', '2', '--ack', 'accept', ...b]);
  await runnel(['queue', 'receive', 'jobs', '-g', 'workers', '--max', '1', '--ack', 'reject', ...b]);
  await runnel(['queue', 'receive', 'jobs', '-g', 'workers', '--max', '1', ...b]);
  t.equal(coordinator.record('workers', 'jobs', 0, 3)?.state, 'acquired');
  const json = await runnel(['queue', 'describe', 'workers', '--json', ...b]);
  t.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as Record<string, unknown> & { partitions: Record<string, unknown>[]; totals: Record<string, unknown> };
  t.same(Object.keys(report), ['group', 'state', 'groupEpoch', 'coordinator', 'config', 'members', 'partitions', 'totals']);
  t.match(report, {
    group: 'workers',
    config: { visibilityTimeoutMs: 30_000, maxDeliveryAttempts: 5, deadLetterTopic: '', ordering: 'none' },
    partitions: [{ topic: 'jobs', partition: 0, startOffset: 3, highWatermark: 5, inFlight: 1, acquired: 1, available: 1, accepted: 2, rejected: 1 }],
    totals: { inFlight: 1, acquired: 1, available: 1, delayed: 0, accepted: 2, rejected: 1, deadLettered: 0 },
  });
  t.ok(typeof report.totals['oldestUnsettledAgeSeconds'] === 'number' && (report.totals['oldestUnsettledAgeSeconds'] as number) >= 0, 'the oldest unsettled record\'s age');
  const text = await runnel(['queue', 'describe', 'workers', ...b]);
  t.equal(text.code, 0, text.stderr);
  const lines = linesOf(text.stdout);
  t.match(lines[0], /^Share group workers: (Empty|Stable), \d+ members? \(group epoch \d+, coordinator 1\)$/);
  t.equal(lines[1], 'Configuration: visibility timeout 30000 ms, max delivery attempts 5, dead-letter topic (none), ordering none');
  const header = lines.findIndex((l) => l.startsWith('TOPIC'));
  t.same(lines[header]!.split(/\s+/), ['TOPIC', 'PARTITION', 'START', 'END', 'HIGH-WATERMARK', 'IN-FLIGHT', 'ACQUIRED', 'AVAILABLE', 'DELAYED', 'ACCEPTED', 'REJECTED', 'DEAD-LETTERED', 'OLDEST-UNSETTLED-SECONDS']);
  t.same(lines[header + 1]!.split(/\s+/).slice(0, 12), ['jobs', '0', '3', '4', '5', '1', '1', '1', '0', '2', '1', '0']);
  t.match(lines[header + 2], /^\(total\)\s+1\s+1\s+1\s+0\s+2\s+1\s+0\s+\d+\.\d$/);
});

t.test('one-line errors: a group that does not exist, a consumer group\'s id, a bad --ack', async (t) => {
  const { coordinator, b } = await world(t, 0);
  const missing = await runnel(['queue', 'describe', 'nope', ...b]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^error: group nope does not exist/);
  coordinator.consumerGroups.add('orders-app');
  const clash = await runnel(['queue', 'receive', 'jobs', '-g', 'orders-app', ...b]);
  t.equal(clash.code, 1);
  t.match(clash.stderr, /INCONSISTENT_GROUP_PROTOCOL|consumer group/);
  t.equal(linesOf(clash.stderr).length, 1, 'one line');
  const bad = await runnel(['queue', 'receive', 'jobs', '-g', 'w', '--ack', 'maybe', ...b]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /--ack <how>.*maybe.*accept, release, reject, none/s);
});
