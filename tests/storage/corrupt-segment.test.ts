/**
 * The reproduction, with real broker processes, for fsync=always and
 * fsync=interval: a topic with segment.bytes=4096, 40 batches acknowledged,
 * SIGKILL, partition.meta at recovery.point=0 (as when its background write
 * has not landed yet), one byte flipped in the last batch of segment 0, and a
 * restart. Valid data follows the flipped batch, so this is corruption, not a
 * torn tail, and:
 *
 * - the partition is offline and answers CORRUPT_SEGMENT (non-retriable) to
 *   Metadata, Produce, Fetch and ListOffsets; the SDK's producer, consumer
 *   iterator and admin surface it at once; `runnel offsets` and `runnel
 *   consume --from-beginning --timeout-ms 3000` exit non-zero naming the
 *   partition and `runnel recover`;
 * - no .log byte on disk was deleted or changed;
 * - `runnel recover` refuses to run while the broker holds the data
 *   directory, then reports the damage and the offset to cut at, a dry run
 *   changes nothing, and `--execute` cuts there, moving (not deleting) the
 *   tail and the later segments next to the partition;
 * - the broker then serves the partition: the records before the damage,
 *   byte for byte, and new appends after them.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Runnel, RunnelError } from '../../client/index.js';
import { runCliProcess } from '../support/cli-process.js';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { batchesIn, flipByte } from '../support/segment-damage.js';
import { RawClient } from '../support/raw-client.js';

const TOPIC = 'flipped';
const BATCHES = 40;
const value = (i: number): string => `record-${i}-${'x'.repeat(330)}`;

function logFiles(dir: string): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.log')).sort()) {
    hashes.set(name, createHash('sha256').update(readFileSync(join(dir, name))).digest('hex'));
  }
  return hashes;
}

async function withClient<T>(broker: BrokerProcess, fn: (runnel: Runnel) => Promise<T>): Promise<T> {
  const runnel = new Runnel({ bootstrap: [broker.bootstrap], retry: { retries: 2, initialBackoffMs: 50, maxBackoffMs: 200 } });
  try {
    return await fn(runnel);
  } finally {
    await runnel.close();
  }
}

/** Every record of partition 0 from `earliest` up to `count`, bounded in time. */
async function consumeValues(runnel: Runnel, count: number): Promise<string[]> {
  const consumer = runnel.consumer({ maxWaitMs: 100 });
  consumer.assign([{ topic: TOPIC, partition: 0, offset: 'earliest' }]);
  const values: string[] = [];
  const deadline = setTimeout(() => void consumer.close(), 15_000);
  try {
    for await (const batch of consumer.batches()) {
      for (const m of batch.messages) values.push(m.value?.toString() ?? '');
      if (values.length >= count) break;
    }
  } finally {
    clearTimeout(deadline);
    await consumer.close();
  }
  return values;
}

/** What iterating a consumer from `earliest` throws (or 'nothing within 15 s'). */
async function consumerFailure(runnel: Runnel): Promise<unknown> {
  const consumer = runnel.consumer({ maxWaitMs: 100 });
  consumer.assign([{ topic: TOPIC, partition: 0, offset: 'earliest' }]);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('nothing within 15 s'), 15_000)));
  const iterate = (async () => {
    for await (const batch of consumer.batches()) if (batch.messages.length > 0) return `records: ${batch.messages.length}`;
    return 'the iterator ended';
  })().catch((err: unknown) => err);
  try {
    return await Promise.race([iterate, timedOut]);
  } finally {
    clearTimeout(timer);
    await consumer.close();
  }
}

for (const fsync of ['always', 'interval'] as const) {
  t.test(`fsync=${fsync}: a flipped byte in segment 0 takes the partition offline, deletes nothing, and runnel recover brings it back`, async (t) => {
    let broker = await startBrokerProcess();
    const dataDir = broker.dataDir;
    const partitionDir = join(dataDir, `${TOPIC}-0`);
    t.teardown(async () => {
      await broker.kill('SIGKILL');
    });

    await withClient(broker, async (runnel) => {
      await runnel.admin().createTopic({ name: TOPIC, partitions: 1, config: { fsync, 'segment.bytes': '4096', 'flush.ms': '100' } });
      const producer = runnel.producer({ lingerMs: 0 });
      for (let i = 0; i < BATCHES; i++) {
        const [meta] = await producer.send({ topic: TOPIC, messages: [{ value: value(i), partition: 0 }] });
        t.equal(meta?.offset, i, 'one record a batch, acknowledged in order');
      }
    });
    await broker.kill('SIGKILL');

    const segmentNames = [...logFiles(partitionDir).keys()];
    t.ok(segmentNames.length >= 4, `40 batches fill ${segmentNames.length} segments of 4096 bytes`);
    const segment0 = join(partitionDir, segmentNames[0]!);
    const inSegment0 = batchesIn(segment0);
    const damagedOffset = inSegment0.length - 1;
    const last = inSegment0.at(-1)!;
    writeFileSync(join(partitionDir, 'partition.meta'), `version=1\ntopic=${TOPIC}\npartition=0\nrecovery.point=0\n`);
    flipByte(segment0, last.position + last.sizeBytes - 3);
    const original = new Map(segmentNames.map((name) => [name, readFileSync(join(partitionDir, name))]));
    const before = logFiles(partitionDir);

    broker = await startBrokerProcess({ dataDir });
    t.match(broker.output(), /damaged, not torn.*runnel recover/, 'the broker log says what happened and what to do');
    t.match(broker.output(), new RegExp(`${segmentNames[0]} at byte ${last.position}`), 'with the file and byte position');

    // Every request that touches the partition answers CORRUPT_SEGMENT.
    const raw = await RawClient.connect(broker.host, broker.port);
    try {
      const metadata = await raw.request('Metadata', { topics: [TOPIC], allowAutoTopicCreation: false, includeInternal: false });
      t.equal(metadata.topics[0]?.partitions[0]?.errorCode, 14, 'Metadata: CORRUPT_SEGMENT for the partition');
      const listed = await raw.request('ListOffsets', { replicaId: -1, topics: [{ name: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, timestamp: -1 }] }] });
      t.equal(listed.topics[0]?.partitions[0]?.errorCode, 14, 'ListOffsets: CORRUPT_SEGMENT');
      const fetched = await raw.request('Fetch', { replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, topics: [{ name: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] });
      t.equal(fetched.topics[0]?.partitions[0]?.errorCode, 14, 'Fetch: CORRUPT_SEGMENT');
    } finally {
      raw.close();
    }

    await withClient(broker, async (runnel) => {
      const sent = await runnel.producer({ lingerMs: 0 }).send({ topic: TOPIC, messages: [{ value: 'more', partition: 0 }] }).catch((err: unknown) => err);
      t.match(sent, { errorName: 'CORRUPT_SEGMENT', retriable: false }, 'the producer rejects with a non-retriable CORRUPT_SEGMENT');
      t.match((sent as Error).message, new RegExp(`${segmentNames[0]} at byte ${last.position}`), 'naming the file and byte position');
      t.match(await consumerFailure(runnel), { errorName: 'CORRUPT_SEGMENT', retriable: false }, 'the consumer iterator throws CORRUPT_SEGMENT');
      const listed = await runnel.admin().listOffsets(TOPIC).catch((err: unknown) => err);
      t.ok(listed instanceof RunnelError && listed.errorName === 'CORRUPT_SEGMENT' && !/attempts/.test(listed.message), 'admin.listOffsets fails at once with CORRUPT_SEGMENT');
    });

    const offsets = await runCliProcess(['offsets', TOPIC, '--bootstrap', broker.bootstrap]);
    t.not(offsets.code, 0, '`runnel offsets` exits non-zero');
    t.match(offsets.stderr, new RegExp(`CORRUPT_SEGMENT.*${TOPIC}-0.*runnel recover`), `it names the partition and the way out: ${offsets.stderr.trim()}`);
    const consume = await runCliProcess(['consume', TOPIC, '--from-beginning', '--timeout-ms', '3000', '--bootstrap', broker.bootstrap]);
    t.not(consume.code, 0, '`runnel consume --from-beginning --timeout-ms 3000` exits non-zero');
    t.match(consume.stderr, new RegExp(`CORRUPT_SEGMENT.*${TOPIC}-0.*runnel recover`), `it names the partition and the way out: ${consume.stderr.trim()}`);
    t.notMatch(consume.stderr, /Processed a total/, 'and does not report a normal end');

    t.same(logFiles(partitionDir), before, 'no .log file was deleted or changed');
    const locked = await runCliProcess(['recover', partitionDir]);
    t.equal(locked.code, 1, 'recover refuses while the broker holds the data directory');
    t.match(locked.stderr, /is in use by process \d+, which holds the lock on .*; stop that broker first: recover works only/);
    t.notMatch(locked.stderr, /--data/, "no advice meant for a broker start");
    t.equal(await broker.stop(), 0);

    const report = await runCliProcess(['recover', partitionDir]);
    t.equal(report.code, 2, 'recover reports damage (exit 2)');
    t.match(report.stdout, new RegExp(`Damage: ${segmentNames[0]} at byte ${last.position} \\(where offset ${damagedOffset} should start\\): CRC-32C mismatch`));
    t.match(report.stdout, `After it: ${BATCHES - inSegment0.length} valid batches with ${BATCHES - inSegment0.length} records`);
    t.match(report.stdout, `--truncate-at ${damagedOffset} --execute`, 'and says where to cut');
    const json = JSON.parse((await runCliProcess(['recover', partitionDir, '--json'])).stdout) as { inspection: { goodEndOffset: number; damage: { offset: number } } };
    t.equal(json.inspection.damage.offset, damagedOffset, '--json gives the same offset');

    const pastDamage = await runCliProcess(['recover', partitionDir, '--truncate-at', String(damagedOffset + 1)]);
    t.equal(pastDamage.code, 1, 'a cut past the damage is refused');
    t.match(pastDamage.stderr, `cut at that offset or below: --truncate-at ${damagedOffset}`);
    const dryRun = await runCliProcess(['recover', partitionDir, '--truncate-at', String(damagedOffset)]);
    t.equal(dryRun.code, 0);
    t.match(dryRun.stdout, /Dry run, nothing changed/);
    t.same(logFiles(partitionDir), before, 'the dry run changed nothing');
    t.notOk(readdirSync(dataDir).some((n) => n.includes('.set-aside-')), 'and set nothing aside');

    const executed = await runCliProcess(['recover', partitionDir, '--truncate-at', String(damagedOffset), '--execute']);
    t.equal(executed.code, 0, executed.stderr);
    const later = BATCHES - inSegment0.length;
    t.match(executed.stdout, `Set aside ${later} records in ${later} valid batches, plus the damaged batch, whose header claims 1 record`);
    const setAside = readdirSync(dataDir).filter((n) => n.startsWith(`${TOPIC}-0.set-aside-`));
    t.equal(setAside.length, 1, 'one set-aside directory next to the partition');
    const asideDir = join(dataDir, setAside[0]!);
    t.same(readFileSync(join(asideDir, segmentNames[0]!)), original.get(segmentNames[0]!)!.subarray(last.position), 'the tail of segment 0, byte for byte');
    for (const name of segmentNames.slice(1)) t.same(readFileSync(join(asideDir, name)), original.get(name), `${name} moved whole`);
    t.ok(existsSync(join(asideDir, 'SET-ASIDE.txt')), 'with a note of what each file is');
    t.same([...logFiles(partitionDir).keys()], [segmentNames[0]], 'the partition keeps segment 0 only');
    t.same(readFileSync(segment0), original.get(segmentNames[0]!)!.subarray(0, last.position), 'cut at the damaged batch');

    broker = await startBrokerProcess({ dataDir });
    const served = await runCliProcess(['offsets', TOPIC, '--json', '--bootstrap', broker.bootstrap]);
    t.equal(served.code, 0, served.stderr);
    t.match(JSON.parse(served.stdout), { partitions: [{ partition: 0, earliest: 0, latest: damagedOffset }] }, 'the broker serves the partition again');
    await withClient(broker, async (runnel) => {
      t.same(await consumeValues(runnel, damagedOffset), Array.from({ length: damagedOffset }, (_, i) => value(i)), 'every record before the damage, in order');
      const [meta] = await runnel.producer({ lingerMs: 0 }).send({ topic: TOPIC, messages: [{ value: 'after recovery', partition: 0 }] });
      t.equal(meta?.offset, damagedOffset, 'and appends go on from the cut');
    });
    t.equal(await broker.stop(), 0);
  });
}
