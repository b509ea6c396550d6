/**
 * Storage engine, in process: the simulated file system, topic configs,
 * indexes, appends and reads, rolls, truncation, the epoch cache, durability,
 * recovery from crashes and damaged files, and retention. Deterministic:
 * ManualClock, seededRng and SimulatedFileSystem (real files only where the
 * real adapter itself is under test).
 */
import t, { type Test } from 'tap';
import {
  BATCH_OFFSET_LAST_OFFSET_DELTA,
  BATCH_OFFSET_LEADER_EPOCH,
  BATCH_OFFSET_RECORD_COUNT,
  readBatchHeader,
  sealBatchCrc,
} from '../../protocol/batch/header.js';
import { buildBatch } from '../../protocol/batch/builder.js';
import { decodeBatch } from '../../protocol/batch/reader.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem, isErrno, type FileSystem } from '../../broker/world/file-system.js';
import { seededRng, type Rng } from '../../broker/world/rng.js';
import { ConfigError, TOPIC_CONFIG_DEFS, formatLogConfig, parseLogConfig, type LogConfig } from '../../broker/storage/log-config.js';
import { CorruptLogError, LogOfflineError, OffsetOutOfRangeError, RecordTooLargeError } from '../../broker/storage/errors.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { LogManager } from '../../broker/storage/log-manager.js';
import { segmentFileName } from '../../broker/storage/segment-names.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

t.test('SimulatedFileSystem keeps synced bytes and fsynced entries only', async (t) => {
  const fs = new SimulatedFileSystem();
  await fs.mkdirp('/d');
  await fs.fsyncDir('/');
  const h = fs.open('/d/a', 'w+');
  h.write(bytes('hello '), 0);
  await h.datasync();
  h.write(bytes('world'), 6);
  t.equal(text(await fs.readFile('/d/a')), 'hello world');
  // the file's entry is not durable yet: a crash loses the whole file
  fs.crash();
  t.equal(await fs.stat('/d/a'), null, 'unsynced directory entry vanished');
  t.throws(() => h.write(bytes('x'), 0), { code: 'EBADF' }, 'handles die with the process');

  const h2 = fs.open('/d/a', 'w+');
  h2.write(bytes('hello '), 0);
  await h2.datasync();
  await fs.fsyncDir('/d');
  h2.write(bytes('world'), 6);
  fs.crash();
  t.equal(text(await fs.readFile('/d/a')), 'hello ', 'only the synced prefix survives');

  const h3 = fs.open('/d/a', 'r+');
  h3.write(bytes('world'), 6);
  h3.truncate(3);
  await h3.datasync();
  fs.crash();
  t.equal(text(await fs.readFile('/d/a')), 'hel', 'a synced truncate survives');

  // rename is durable only after the directory fsync
  await fs.writeFileAtomic('/d/b', bytes('v1'));
  await fs.rename('/d/b', '/d/c');
  fs.crash();
  t.same(await fs.readdir('/d'), ['a', 'b']);
  await fs.unlink('/d/b');
  await fs.fsyncDir('/d');
  fs.crash();
  t.same(await fs.readdir('/d'), ['a']);

  // a torn tail: with an rng the crash keeps a random prefix of the unsynced append
  const h4 = fs.open('/d/a', 'r+');
  h4.write(new Uint8Array(1000).fill(7), 3);
  fs.crash({ rng: seededRng(1) });
  const size = (await fs.stat('/d/a'))?.sizeBytes ?? -1;
  t.ok(size >= 3 && size <= 1003, `torn size ${size} within [3, 1003]`);
  t.ok((await fs.readFile('/d/a')).subarray(3).every((b) => b === 7), 'the kept prefix is the written bytes');

  // injected faults
  const h5 = fs.open('/d/a', 'r+');
  fs.injectFault('datasync', '/d/a');
  await t.rejects(h5.datasync(), { code: 'EIO' });
  await h5.datasync();
  t.ok(isErrno(await fs.readFile('/nope').catch((e: unknown) => e) as unknown, 'ENOENT'), 'missing files raise ENOENT');
});

t.test('topic configs parse with Kafka names and reject bad values', async (t) => {
  const defaults = parseLogConfig({});
  t.equal(defaults.segmentBytes, 1024 ** 3);
  t.equal(defaults.indexIntervalBytes, 4096);
  t.equal(defaults.retentionBytes, -1);
  t.equal(defaults.flushMessages, Number.MAX_SAFE_INTEGER);
  t.same(defaults.cleanupPolicy, { delete: true, compact: false });
  const custom = parseLogConfig({ 'segment.bytes': '2048', 'cleanup.policy': 'compact,delete', fsync: 'always', 'flush.ms': '9223372036854775807' }, { 'segment.bytes': '4096', 'retention.ms': '-1' });
  t.equal(custom.segmentBytes, 2048, 'overrides win over the base layer');
  t.equal(custom.retentionMs, -1, 'the base layer wins over defaults');
  t.equal(custom.fsync, 'always');
  t.equal(custom.flushMs, Number.MAX_SAFE_INTEGER, 'Long.MAX_VALUE means never');
  t.same(custom.cleanupPolicy, { delete: true, compact: true });
  t.equal(formatLogConfig(custom)['cleanup.policy'], 'compact,delete');
  t.equal(formatLogConfig(custom)['flush.ms'], '9223372036854775807');
  t.same(parseLogConfig(formatLogConfig(custom)), custom, 'format and parse round-trip');
  t.throws(() => parseLogConfig({ 'segment.byte': '1' }), new ConfigError('segment.byte', 'unknown topic config'));
  t.throws(() => parseLogConfig({ 'segment.bytes': '12x' }), { name: 'ConfigError', key: 'segment.bytes' });
  t.throws(() => parseLogConfig({ 'segment.bytes': '10' }), { name: 'ConfigError', key: 'segment.bytes', message: /outside/ });
  t.throws(() => parseLogConfig({ fsync: 'sometimes' }), { name: 'ConfigError', key: 'fsync' });
  t.throws(() => parseLogConfig({ 'cleanup.policy': 'delete,shred' }), { name: 'ConfigError', key: 'cleanup.policy' });
  for (const def of TOPIC_CONFIG_DEFS) {
    t.ok(def.doc.length > 20, `${def.name} is documented`);
    t.doesNotThrow(() => def.parse(def.defaultValue), `${def.name} default parses`);
  }
});

/* ------------------------------------------------------------ helpers */

const DIR = '/data/events-0';

interface Appended {
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  epoch: number;
  bytes: Uint8Array;
}

/** A batch of `records` records of `valueBytes` each, create times `timestampMs`, +1, +2... */
function makeBatch(records: number, valueBytes: number, timestampMs: number): Uint8Array {
  return buildBatch(
    Array.from({ length: records }, (_, i) => ({ key: bytes(`k${i}`), value: new Uint8Array(valueBytes).fill(i & 0xff), timestamp: timestampMs + i })),
    { nowMs: timestampMs },
  );
}

/** One partition on a simulated disk, with an oracle of everything appended. */
class Harness {
  fs = new SimulatedFileSystem();
  clock = new ManualClock();
  appended: Appended[] = [];
  log!: PartitionLog;

  constructor(public config: LogConfig) {}

  async open(): Promise<PartitionLog> {
    this.log = await PartitionLog.open({ dir: DIR, config: this.config, fs: this.fs, clock: this.clock });
    return this.log;
  }

  append(batch: Uint8Array, epoch = 0): Appended {
    const info = this.log.append(batch, { leaderEpoch: epoch });
    const header = readBatchHeader(batch);
    const entry = { baseOffset: info.baseOffset, lastOffset: info.lastOffset, maxTimestamp: header.maxTimestamp, epoch, bytes: batch.slice() };
    this.appended.push(entry);
    return entry;
  }

  appendRandom(rng: Rng, count: number, epoch = 0): void {
    for (let i = 0; i < count; i++) {
      const records = 1 + rng.int(5);
      const ts = this.clock.nowMs() - 5_000 + rng.int(10_000);
      this.append(makeBatch(records, rng.int(300), ts), epoch);
    }
  }

  /** What a linear scan of the oracle says a read at `offset` must start with. */
  expectedAt(offset: number): Appended | undefined {
    return this.appended.find((a) => a.lastOffset >= offset);
  }

  /** Drops oracle entries at or after the truncation the log did. */
  forgetFrom(logEndOffset: number): void {
    this.appended = this.appended.filter((a) => a.lastOffset < logEndOffset);
  }

  async reopen(): Promise<PartitionLog> {
    await this.log.close();
    return this.open();
  }

  async crashAndReopen(rng?: Rng): Promise<PartitionLog> {
    this.fs.crash(rng === undefined ? {} : { rng });
    return this.open();
  }
}

function config(overrides: Record<string, string> = {}): LogConfig {
  return parseLogConfig({ 'segment.bytes': '8192', 'index.interval.bytes': '256', 'flush.ms': '9223372036854775807', ...overrides });
}

/** Every offset reads back the batch a linear scan finds, byte for byte. */
async function checkAgainstOracle(t: Test, h: Harness, label: string): Promise<void> {
  const log = h.log;
  let mismatches = 0;
  for (let offset = log.logStartOffset; offset < log.logEndOffset; offset++) {
    const expected = h.expectedAt(offset);
    const result = await log.read(offset, 1);
    const first = result.records[0];
    if (expected === undefined || first === undefined || Buffer.compare(Buffer.from(first), Buffer.from(expected.bytes)) !== 0) mismatches++;
  }
  t.equal(mismatches, 0, `${label}: every offset in [${log.logStartOffset}, ${log.logEndOffset}) reads the batch a linear scan finds`);
}

function corruptByte(fs: FileSystem, file: string, position: number): void {
  const handle = fs.open(file, 'r+');
  const one = new Uint8Array(1);
  handle.read(one, 0, 1, position);
  one[0] = (one[0] as number) ^ 0x10;
  handle.write(one, position);
  handle.close();
}

/* ---------------------------------------------------- append and read */

t.test('append stamps offsets and epochs; read returns whole batches', async (t) => {
  const h = new Harness(config());
  const log = await h.open();
  t.equal(log.logStartOffset, 0);
  t.equal(log.logEndOffset, 0);
  t.equal(log.latestEpoch, -1);
  const a = h.append(makeBatch(3, 10, 1000), 4);
  const b = h.append(makeBatch(2, 10, 2000), 4);
  t.same([a.baseOffset, a.lastOffset, b.baseOffset, b.lastOffset], [0, 2, 3, 4]);
  t.equal(log.logEndOffset, 5);
  t.equal(log.latestEpoch, 4);
  const decoded = decodeBatch(b.bytes);
  t.same(decoded.records.map((r) => r.offset), [3, 4], 'offsets are stamped into the batch');
  t.equal(decoded.header.partitionLeaderEpoch, 4, 'the epoch is stamped');

  const both = h.log.append(new Uint8Array(Buffer.concat([makeBatch(1, 5, 3000), makeBatch(4, 5, 3001)])), { leaderEpoch: 4 });
  t.same([both.baseOffset, both.lastOffset, both.batchCount, both.maxTimestamp, both.logAppendTimeMs], [5, 9, 2, 3004, -1], 'two batches in one append');

  const all = await log.read(0, 1 << 20);
  t.equal(all.records.length, 4);
  t.equal(all.sizeBytes, all.records.reduce((n, r) => n + r.byteLength, 0));
  t.same(Buffer.from(all.records[0]!), Buffer.from(a.bytes));
  const mid = await log.read(1, 1);
  t.equal(mid.records.length, 1, 'at least one batch even when maxBytes is smaller');
  t.same(Buffer.from(mid.records[0]!), Buffer.from(a.bytes), 'a read inside a batch starts at that batch');
  const capped = await log.read(0, a.bytes.byteLength + 10);
  t.equal(capped.records.length, 1, 'maxBytes cuts at whole batches');
  const bounded = await log.read(0, 1 << 20, 5);
  t.equal(bounded.records.length, 2, 'nothing at or beyond maxOffsetExclusive');
  const straddle = await log.read(0, 1 << 20, 4);
  t.equal(straddle.records.length, 1, 'a batch that straddles the bound is left out');
  t.same(await log.read(10, 100), { records: [], sizeBytes: 0 }, 'reading at the log end returns nothing');
  await t.rejects(log.read(11, 100), OffsetOutOfRangeError);
  await t.rejects(log.read(-1, 100), { name: 'OffsetOutOfRangeError', offset: -1, logStartOffset: 0, logEndOffset: 10 });

  // validation: all or nothing
  const good = makeBatch(1, 5, 4000);
  const bad = makeBatch(1, 5, 4000);
  bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1;
  const mixed = new Uint8Array(Buffer.concat([good, bad]));
  t.throws(() => log.append(mixed, { leaderEpoch: 4 }), { name: 'BatchFormatError', message: /CRC/ });
  t.equal(log.logEndOffset, 10, 'a bad batch anywhere rejects the whole append');
  t.equal(readBatchHeader(mixed).baseOffset, 0, 'and nothing was stamped');
  t.throws(() => log.append(new Uint8Array(0), { leaderEpoch: 4 }), { name: 'BatchFormatError' });
  t.throws(() => log.append(good.subarray(0, 40), { leaderEpoch: 4 }), { name: 'BatchFormatError' });
  const wrongCount = makeBatch(2, 5, 4000);
  new DataView(wrongCount.buffer, wrongCount.byteOffset).setInt32(BATCH_OFFSET_RECORD_COUNT, 3);
  sealBatchCrc(wrongCount, 0, wrongCount.byteLength);
  t.throws(() => log.append(wrongCount, { leaderEpoch: 4 }), { name: 'BatchFormatError', message: /recordCount/ });
  const small = new Harness(config({ 'max.message.bytes': '200' }));
  await small.open();
  t.throws(() => small.log.append(makeBatch(1, 300, 1), { leaderEpoch: 0 }), RecordTooLargeError);
  t.throws(() => log.append(makeBatch(1, 5, 1), { leaderEpoch: 3 }), { name: 'InvariantError' }, 'an older epoch is a caller bug');

  // LogAppendTime: the broker's clock, CRC resealed
  const lat = new Harness(config({ 'message.timestamp.type': 'LogAppendTime' }));
  await lat.open();
  const stamped = makeBatch(2, 5, 42);
  const info = lat.log.append(stamped, { leaderEpoch: 0 });
  t.equal(info.logAppendTimeMs, lat.clock.nowMs());
  t.same(decodeBatch(stamped).records.map((r) => r.timestamp), [lat.clock.nowMs(), lat.clock.nowMs()], 'records carry the append time; the CRC still checks');
});

t.test('index lookups agree with a linear scan, live, after a clean reopen and after recovery', async (t) => {
  const rng = seededRng(7);
  const h = new Harness(config({ 'segment.bytes': '6000', 'index.interval.bytes': '300' }));
  await h.open();
  h.appendRandom(rng, 300);
  t.ok(h.log.segmentCount >= 5, `rolled into ${h.log.segmentCount} segments`);
  await checkAgainstOracle(t, h, 'live');
  await h.reopen();
  t.ok(h.log.openReport.cleanShutdown, 'clean reopen skips the scan');
  t.equal(h.log.openReport.scannedSegments, 0);
  await checkAgainstOracle(t, h, 'clean reopen');
  h.appendRandom(rng, 50);
  await h.log.flush();
  await h.crashAndReopen();
  t.notOk(h.log.openReport.cleanShutdown);
  t.ok(h.log.openReport.scannedSegments >= 1 && h.log.openReport.scannedSegments < h.log.segmentCount, `recovery scanned only from the recovery point (${h.log.openReport.scannedSegments} of ${h.log.segmentCount})`);
  await checkAgainstOracle(t, h, 'recovered');
  // a damaged index of a trusted segment is rebuilt from the log
  await h.reopen();
  const firstIndex = `${DIR}/${segmentFileName(0, '.index')}`;
  const handle = h.fs.open(firstIndex, 'r+');
  handle.write(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1]), 0);
  handle.close();
  await h.reopen();
  await checkAgainstOracle(t, h, 'rebuilt index');
});

t.test('time lookups find the first batch at or after a timestamp', async (t) => {
  const rng = seededRng(11);
  const h = new Harness(config({ 'segment.bytes': '5000', 'index.interval.bytes': '200' }));
  await h.open();
  h.appendRandom(rng, 200);
  const check = async (label: string): Promise<void> => {
    let wrong = 0;
    const base = h.clock.nowMs();
    for (let target = base - 5_200; target <= base + 5_200; target += 97) {
      const expected = h.appended.find((a) => a.maxTimestamp >= target);
      const found = await h.log.offsetForTimestamp(target);
      if (expected === undefined ? found !== null : found?.offset !== expected.baseOffset || found.timestamp !== expected.maxTimestamp || found.leaderEpoch !== expected.epoch) wrong++;
    }
    t.equal(wrong, 0, `${label}: timestamp lookups agree with a linear scan`);
  };
  await check('live');
  await h.reopen();
  await check('reopened');
  t.equal(await h.log.offsetForTimestamp(h.clock.nowMs() + 1e9), null, 'nothing that new');
});

/* ------------------------------------------------------------------ rolls */

/** A batch that claims `offsets` offsets (recordCount = lastOffsetDelta + 1) over one real record. */
function wideBatch(offsets: number, timestampMs: number): Uint8Array {
  const batch = makeBatch(1, 1, timestampMs);
  const view = new DataView(batch.buffer, batch.byteOffset);
  view.setInt32(BATCH_OFFSET_LAST_OFFSET_DELTA, offsets - 1);
  view.setInt32(BATCH_OFFSET_RECORD_COUNT, offsets);
  sealBatchCrc(batch, 0, batch.byteLength);
  return batch;
}

t.test('segments roll by size, by time, when an index fills and before a relative offset overflows', async (t) => {
  const bySize = new Harness(config({ 'segment.bytes': '2000' }));
  await bySize.open();
  const batch = makeBatch(1, 400, 1);
  const size = batch.byteLength;
  for (let i = 0; i < 10; i++) bySize.append(makeBatch(1, 400, 1));
  const perSegment = Math.floor(2000 / size);
  t.same(bySize.log.segmentBaseOffsets(), [0, perSegment, 2 * perSegment, 3 * perSegment, 4 * perSegment].filter((b) => b < 10), `${perSegment} batches of ${size} bytes per 2000-byte segment`);
  const big = makeBatch(1, 5000, 1);
  bySize.append(big);
  t.equal(bySize.log.segmentBaseOffsets().at(-1), 10, 'a batch bigger than segment.bytes gets a segment of its own');
  bySize.append(makeBatch(1, 10, 1));
  t.equal(bySize.log.segmentBaseOffsets().at(-1), 11);

  const byTime = new Harness(config({ 'segment.ms': '1000' }));
  await byTime.open();
  byTime.append(makeBatch(1, 10, 5000));
  byTime.append(makeBatch(1, 10, 6000));
  t.equal(byTime.log.segmentCount, 1, 'exactly segment.ms later: no roll yet');
  byTime.append(makeBatch(1, 10, 6001));
  t.same(byTime.log.segmentBaseOffsets(), [0, 2], 'a batch more than segment.ms after the first rolls');
  await byTime.reopen();
  byTime.append(makeBatch(1, 10, 7002));
  t.same(byTime.log.segmentBaseOffsets(), [0, 2, 3], 'the roll clock survives a reopen (first batch timestamp)');
  const noTimestamps = new Harness(config({ 'segment.ms': '1000' }));
  await noTimestamps.open();
  noTimestamps.append(makeBatch(1, 1, -1));
  noTimestamps.clock.advance(1001);
  noTimestamps.append(makeBatch(1, 1, -1));
  t.equal(noTimestamps.log.segmentCount, 2, 'without timestamps, the segment age on the clock decides');

  const byIndex = new Harness(config({ 'segment.index.bytes': '4096', 'index.interval.bytes': '0', 'segment.bytes': '10000000' }));
  await byIndex.open();
  for (let i = 0; i < 400; i++) byIndex.append(makeBatch(1, 1, 1000 + i));
  t.equal(byIndex.log.segmentCount, 2, 'a full time index (4096 / 12 entries) rolls the segment');
  t.ok((byIndex.log.segmentBaseOffsets()[1] as number) <= 341, `rolled at ${byIndex.log.segmentBaseOffsets()[1]}`);
  await checkAgainstOracle(t, byIndex, 'index-full roll');

  const byOffset = new Harness(config());
  await byOffset.open();
  const wide = 2 ** 31 - 1;
  byOffset.append(wideBatch(wide, 1));
  byOffset.append(wideBatch(wide, 2));
  t.equal(byOffset.log.segmentCount, 1, '2^32 - 2 offsets still fit');
  byOffset.append(wideBatch(3, 3));
  t.same(byOffset.log.segmentBaseOffsets(), [0, 2 * wide], 'the next batch would overflow u32: rolled');
  await byOffset.reopen();
  const tail = await byOffset.log.read(2 * wide + 1, 1);
  t.same(Buffer.from(tail.records[0]!), Buffer.from(byOffset.appended[2]!.bytes));
});
