/**
 * A waiting ShareFetch (its long poll) on one broker in this process, over
 * the wire, watched through the share coordinator's trace lines
 * (shareFetchWaiting, shareFetchWoken with what woke it) instead of
 * sleeping: it is woken by new records of its partition and by a change of
 * its own group and partition (a release), and not by writes of another
 * group or of another partition of its group. And maxBytes: an answer
 * carries whole batches up to it, at least one.
 */
import { Writable } from 'node:stream';
import t from 'tap';
import { brokerConfig } from '../../../broker/config.js';
import { createLogger } from '../../../broker/log.js';
import { startBroker } from '../../../broker/main.js';
import { SimulatedFileSystem } from '../../../broker/world/file-system.js';
import { buildBatch } from '../../../protocol/batch/builder.js';
import { DELIVER_AT_HEADER } from '../../../protocol/headers.js';
import type { ShareFetchResponse } from '../../../protocol/messages.js';
import { RawClient } from '../../support/raw-client.js';
import { ack, acknowledge, acquired, join, produce, settled, shareFetch } from '../../support/share-wire.js';

interface Line {
  event?: string;
  group?: string;
  member?: string;
  by?: string;
}

/** The broker's log lines, parsed, and a way to wait for one (bounded). */
function logSink() {
  const lines: Line[] = [];
  const waiting = new Set<{ pred: (l: Line) => boolean; resolve: (l: Line) => void }>();
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) {
        if (text.trim() === '') continue;
        const line = JSON.parse(text) as Line;
        lines.push(line);
        for (const w of [...waiting]) if (w.pred(line)) (waiting.delete(w), w.resolve(line));
      }
      done();
    },
  });
  const next = (pred: (l: Line) => boolean, ms = 20_000): Promise<Line> =>
    new Promise((resolve, reject) => {
      const w = { pred, resolve: (l: Line) => (clearTimeout(timer), resolve(l)) };
      const timer = setTimeout(() => (waiting.delete(w), reject(new Error(`no matching log line within ${ms} ms`))), ms);
      waiting.add(w);
    });
  return { lines, stream, next };
}

t.test('a waiting share fetch wakes for its own group and partition only', async (t) => {
  const sink = logSink();
  const broker = await startBroker(brokerConfig({ 'data.dir': '/data', port: 0, 'group.share.session.timeout.ms': 600_000 }), { fs: new SimulatedFileSystem(), logger: createLogger({ level: 'trace', destination: sink.stream }) });
  t.teardown(() => broker.close());
  const client = await RawClient.connect(broker.host, broker.port);
  t.teardown(() => client.close());
  const created = await client.request('CreateTopics', { topics: [{ name: 'jobs', partitions: 2, replicationFactor: -1, configs: [] }, { name: 'other', partitions: 1, replicationFactor: -1, configs: [] }, { name: 'big', partitions: 1, replicationFactor: -1, configs: [] }, { name: 'late', partitions: 1, replicationFactor: -1, configs: [] }], timeoutMs: 10_000, validateOnly: false });
  t.ok(created.topics.every((x) => x.errorCode === 0));
  await settled(async () => (await client.request('FindCoordinator', { keyType: 0, keys: ['a'] })).coordinators[0]!);
  const member = async (groupId: string, memberId: string, topic: string) => ({ groupId, memberId, memberEpoch: (await settled(() => join(client, groupId, memberId, [topic]))).memberEpoch });
  const A = await member('a', 'A', 'other');
  const B1 = await member('b', 'B1', 'jobs');
  const B2 = await member('b', 'B2', 'jobs');
  const fetchP1 = (m: typeof B2, acks = [] as ReturnType<typeof ack>[], maxRecords = 10) =>
    client.request('ShareFetch', { ...m, maxWaitMs: 0, maxRecords, maxBytes: 1 << 20, topics: [{ topic: 'jobs', partitions: [{ partition: 1, acknowledgements: acks }] }] });
  const p1 = buildBatch(['x', 'y', 'z'].map((v) => ({ key: null, value: Buffer.from(v), headers: [] })), { nowMs: Date.now() });
  t.equal((await client.request('Produce', { acks: -1, timeoutMs: 10_000, topics: [{ name: 'jobs', partitions: [{ partition: 1, records: p1 }] }] })).topics[0]!.partitions[0]!.errorCode, 0);
  await produce(client, 'other', ['1', '2', '3', '4', '5']);
  const heldByB2 = (await fetchP1(B2)).topics[0]!.partitions[0]!.acquiredRecords;
  t.same(heldByB2, [{ firstOffset: 0, lastOffset: 2, deliveryCount: 1 }], 'B2 holds partition 1\'s records');

  const wokenB1 = () => sink.lines.filter((l) => l.event === 'shareFetchWoken' && l.member === 'B1');
  // B1 waits on partition 0, where nothing is.
  const parked = sink.next((l) => l.event === 'shareFetchWaiting' && l.member === 'B1');
  const poll = shareFetch(client, B1, 'jobs', { maxWaitMs: 20_000 });
  await parked;
  // Group a writes six times (an acquisition, five acceptances); group b writes on partition 1 (B2 settles one record).
  t.same(acquired(await shareFetch(client, A, 'other')).map((r) => r.offset), [0, 1, 2, 3, 4]);
  for (let offset = 0; offset < 5; offset++) t.same((await acknowledge(client, A, 'other', [ack(offset, offset, 'ACCEPT')])).topics[0]!.partitions[0]!.failedAcknowledgements, []);
  t.same((await fetchP1(B2, [ack(0, 0, 'ACCEPT')], 0)).topics[0]!.partitions[0]!.failedAcknowledgements, []);
  t.same(wokenB1(), [], 'seven writes elsewhere: B1 was not woken');

  // New records of its partition wake it (no sleep: it was waiting before they were produced).
  const t0 = Date.now();
  await produce(client, 'jobs', ['g']);
  t.same(acquired(await poll).map((r) => r.offset), [0], 'the waiting fetch gets the new record');
  t.ok(Date.now() - t0 < 15_000, 'woken by it, not by its 20 s wait');
  t.match(wokenB1(), [{ by: 'data' }], 'by the partition\'s new data');

  // A release on its partition, by another member of its group, wakes it.
  await produce(client, 'jobs', ['h']);
  t.same(acquired(await shareFetch(client, B2, 'jobs')).map((r) => r.offset), [1], 'B2 takes the next one');
  const parkedAgain = sink.next((l) => l.event === 'shareFetchWaiting' && l.member === 'B1' && wokenB1().length === 1);
  const poll2 = shareFetch(client, B1, 'jobs', { maxWaitMs: 20_000 });
  await parkedAgain;
  t.same((await acknowledge(client, B2, 'jobs', [ack(1, 1, 'RELEASE')])).topics[0]!.partitions[0]!.failedAcknowledgements, []);
  t.same(acquired(await poll2).map((r) => [r.offset, r.deliveryCount]), [[1, 2]], 'B1 gets the released record, its second delivery');
  t.match(wokenB1().slice(1), [{ by: 'change' }], 'woken by its group\'s change');

  // maxBytes: three batches of about 1 KB; a bound of 1.5 KB takes one whole batch per answer (at least one even at 1 byte).
  for (let i = 0; i < 3; i++) await produce(client, 'big', Array.from({ length: 4 }, (_, j) => `${i}${j}`.padEnd(250, '.')));
  const C = await member('c', 'C', 'big');
  const bounded = (maxBytes: number): Promise<ShareFetchResponse> => client.request('ShareFetch', { ...C, maxWaitMs: 0, maxRecords: 100, maxBytes, topics: [{ topic: 'big', partitions: [{ partition: 0, acknowledgements: [] }] }] });
  const first = await bounded(1500);
  t.same(acquired(first).map((r) => r.offset), [0, 1, 2, 3], 'one batch of the three');
  t.ok(first.topics[0]!.partitions[0]!.records.length <= 1500, 'within the bound');
  t.same(acquired(await bounded(1)).map((r) => r.offset), [4, 5, 6, 7], 'at least one batch, even over the bound');
  t.same(acquired(await bounded(1 << 20)).map((r) => r.offset), [8, 9, 10, 11], 'the rest');

  // A batch of records due in an hour, then one due now, under a maxBytes that takes one batch per look: the first look
  // takes the delayed batch in (a write, so a change) and hands out nothing; the fetch must look again, not wait out its maxWait.
  const hour = Buffer.from(String(Date.now() + 3_600_000));
  await produce(client, 'late', ['a', 'b', 'c'].map((v) => v.padEnd(250, '.')), [{ key: DELIVER_AT_HEADER, value: hour }]);
  await produce(client, 'late', ['d', 'e', 'f'].map((v) => v.padEnd(250, '.')));
  const D = await member('d', 'D', 'late');
  const late = await client.request('ShareFetch', { ...D, maxWaitMs: 3000, maxRecords: 100, maxBytes: 1000, topics: [{ topic: 'late', partitions: [{ partition: 0, acknowledgements: [] }] }] });
  t.same(acquired(late).map((r) => r.offset), [3, 4, 5], 'the due batch, in the same ShareFetch');
  t.same(sink.lines.filter((l) => l.member === 'D' && l.event === 'shareFetchWaiting'), [], 'without waiting: it looked again at once');
});
