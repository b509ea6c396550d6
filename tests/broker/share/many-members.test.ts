/**
 * Many members on one partition of one broker process, concurrently, over
 * the wire: four members fetch and settle 1,200 records at once (most
 * accepted, some released, some left to their lock to run out, one member
 * crashing: it stops and leaves without settling what it holds). The
 * coordinator's reads and writes interleave; in the end every record is
 * accepted exactly once, and no record was handed to a member while
 * another held it under a live lock.
 */
import t from 'tap';
import { buildBatch } from '../../../protocol/batch/builder.js';
import { startBrokerProcess } from '../../support/broker-process.js';
import { RawClient } from '../../support/raw-client.js';
import { ack, acknowledge, join, settled, shareFetch } from '../../support/share-wire.js';
import { seededRng } from '../../../broker/world/rng.js';

const TOPIC = 'work';
const RECORDS = 1200;

t.test('four members share one partition: each record accepted exactly once, never held by two', async (t) => {
  const broker = await startBrokerProcess();
  t.teardown(() => broker.stop());
  const admin = await RawClient.connect(broker.host, broker.port);
  t.teardown(() => admin.close());
  await admin.request('CreateTopics', { topics: [{ name: TOPIC, partitions: 1, replicationFactor: -1, configs: [] }], timeoutMs: 10_000, validateOnly: false });
  for (let i = 0; i < RECORDS; i += 100) {
    const records = buildBatch(Array.from({ length: 100 }, (_, j) => ({ key: null, value: Buffer.from(String(i + j)) })), { nowMs: Date.now() });
    await admin.request('Produce', { acks: -1, timeoutMs: 10_000, topics: [{ name: TOPIC, partitions: [{ partition: 0, records }] }] });
  }
  await settled(async () => (await admin.request('FindCoordinator', { keyType: 0, keys: ['w'] })).coordinators[0]!);

  const random = seededRng(7).next;
  const accepted = new Map<number, string>();
  /** offset -> who holds it and until when (as the holder was told: from the answer, so a little early). */
  const holders = new Map<number, { member: string; untilMs: number }>();
  const problems: string[] = [];
  const deadline = Date.now() + 60_000;

  const member = async (id: string, crashAfter: number): Promise<void> => {
    const client = await RawClient.connect(broker.host, broker.port);
    try {
      const joined = await settled(() => join(client, 'w', id, [TOPIC], { visibilityTimeoutMs: 1500, maxDeliveryAttempts: 100 }));
      if (joined.errorCode !== 0) throw new Error(`${id} could not join: ${joined.errorMessage}`);
      const me = { groupId: 'w', memberId: id, memberEpoch: joined.memberEpoch };
      for (let round = 0; accepted.size < RECORDS && Date.now() < deadline; round++) {
        const sentMs = Date.now();
        const fetched = await shareFetch(client, me, TOPIC, { maxRecords: 20, maxWaitMs: 200 });
        if (fetched.errorCode !== 0) throw new Error(`${id}: ${fetched.errorMessage}`);
        const got: number[] = [];
        for (const r of fetched.topics[0]!.partitions[0]!.acquiredRecords) for (let o = r.firstOffset; o <= r.lastOffset; o++) got.push(o);
        for (const o of got) {
          const other = holders.get(o);
          if (other !== undefined && other.member !== id && other.untilMs > Date.now()) problems.push(`${o} handed to ${id} while ${other.member} holds it`);
          if (accepted.has(o)) problems.push(`${o} handed to ${id} after ${accepted.get(o)} accepted it`);
          holders.set(o, { member: id, untilMs: sentMs + 1500 });
        }
        if (round === crashAfter) {
          // A crash: it leaves holding what it just got, settling nothing.
          // Leaving releases its locks at once, so from the moment the request is sent others may get them
          // (another member's answer can reach this process before the answer to the leave).
          for (const [o, h] of holders) if (h.member === id) holders.delete(o);
          await client.request('ShareGroupHeartbeat', { groupId: 'w', memberId: id, memberEpoch: -1, subscribedTopicNames: null, config: null });
          return;
        }
        const acks = got.flatMap((o) => {
          const roll = random();
          if (roll < 0.05) return []; // left to its lock
          return [ack(o, o, roll < 0.15 ? 'RELEASE' : 'ACCEPT')];
        });
        if (acks.length === 0) continue;
        // A release frees the record the moment the broker applies it, which may be before this member reads the answer.
        for (const a of acks) holders.delete(a.firstOffset);
        const result = await acknowledge(client, me, TOPIC, acks);
        const failed = new Set(result.topics[0]!.partitions[0]!.failedAcknowledgements.map((f) => f.firstOffset));
        for (const a of acks) {
          if (a.type !== 1 || failed.has(a.firstOffset)) continue;
          if (accepted.has(a.firstOffset)) problems.push(`${a.firstOffset} accepted by ${id} and by ${accepted.get(a.firstOffset)}`);
          accepted.set(a.firstOffset, id);
        }
      }
    } finally {
      client.close();
    }
  };
  await Promise.all([member('A', -1), member('B', -1), member('C', 5), member('D', -1)]);
  t.same(problems, [], 'no record handed out while another member held it, none accepted twice');
  t.equal(accepted.size, RECORDS, 'every record accepted');
  t.same([...accepted.keys()].sort((x, y) => x - y), Array.from({ length: RECORDS }, (_, i) => i));
  const described = (await admin.request('ShareGroupDescribe', { groupIds: ['w'] })).groups[0]!;
  t.match(described.partitions, [{ startOffset: RECORDS, endOffset: RECORDS, inFlight: 0, accepted: RECORDS, rejected: 0 }], 'the coordinator agrees');
  t.ok(new Set(accepted.values()).size >= 3, `the work was spread (${[...new Set(accepted.values())].join(', ')})`);
});
