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
import { bytes, corruptByte, makeBatch } from '../support/storage-fixtures.js';

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

  // pages written back out of order: each unsynced 4 KiB page kept whole or lost (zeros past the synced bytes)
  const pages = fs.open('/d/p', 'w+');
  pages.write(new Uint8Array(5000).fill(1), 0);
  await pages.datasync();
  await fs.fsyncDir('/d');
  let sawHole = false;
  let sawKeptAfterHole = false;
  for (let seed = 0; seed < 20; seed++) {
    const hp = fs.open('/d/p', 'r+');
    hp.truncate(5000);
    await hp.datasync();
    hp.write(new Uint8Array(20000).fill(9), 5000);
    fs.crash({ rng: seededRng(seed), loss: 'pages' });
    const kept = await fs.readFile('/d/p');
    t.ok(kept.byteLength >= 5000 && kept.byteLength <= 25000, `seed ${seed}: the file keeps its synced bytes, ${kept.byteLength} in all`);
    t.ok(kept.subarray(0, 5000).every((b) => b === 1), `seed ${seed}: synced bytes are intact`);
    let lost = false;
    for (let page = 4096; page < kept.byteLength; page += 4096) {
      const from = Math.max(page, 5000);
      const bytesOfPage = kept.subarray(from, Math.min(page + 4096, kept.byteLength));
      const whole = bytesOfPage.every((b) => b === 9);
      if (!whole && !bytesOfPage.every((b) => b === 0)) t.fail(`seed ${seed}: page ${page} is neither kept nor lost`);
      if (!whole) lost = sawHole = true;
      else if (lost) sawKeptAfterHole = true;
    }
  }
  t.ok(sawHole && sawKeptAfterHole, 'some crashes lost a page and kept a later one');

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

/** One partition on a simulated disk, with an oracle of everything appended. */
class Harness {
  fs = new SimulatedFileSystem();
  clock = new ManualClock();
  appended: Appended[] = [];
  log!: PartitionLog;

  constructor(public config: LogConfig) {}

  async open(scanChunkBytes?: number): Promise<PartitionLog> {
    this.log = await PartitionLog.open({ dir: DIR, config: this.config, fs: this.fs, clock: this.clock, scanChunkBytes });
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
  // recovery in chunks smaller than some batches: every chunk boundary and the grow path
  await h.log.close();
  await h.fs.unlink(`${DIR}/clean-shutdown`);
  await h.fs.writeFileAtomic(`${DIR}/partition.meta`, bytes('version=1\nrecovery.point=0\n'));
  await h.open(700);
  t.equal(h.log.openReport.scannedSegments, h.log.segmentCount, 'a recovery point of 0 scans every segment');
  await checkAgainstOracle(t, h, 'recovered in 700-byte chunks');
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
      // the linear scan: every record of every batch, in offset order
      let expected: { offset: number; timestamp: number; leaderEpoch: number } | null = null;
      for (const a of h.appended) {
        const record = decodeBatch(a.bytes).records.find((r) => r.timestamp >= target);
        if (record !== undefined) {
          expected = { offset: record.offset, timestamp: record.timestamp, leaderEpoch: a.epoch };
          break;
        }
      }
      const found = await h.log.offsetForTimestamp(target);
      if (JSON.stringify(found) !== JSON.stringify(expected)) wrong++;
    }
    t.equal(wrong, 0, `${label}: timestamp lookups agree with a linear scan`);
  };
  await check('live');
  await h.reopen();
  await check('reopened');
  t.equal(await h.log.offsetForTimestamp(h.clock.nowMs() + 1e9), null, 'nothing that new');
  const compressed = new Harness(config());
  await compressed.open();
  compressed.append(buildBatch([5, 3, 9, 7].map((ts) => ({ key: null, value: bytes('v'), timestamp: 1000 + ts })), { nowMs: 0, codec: 'gzip' }), 2);
  t.same(await compressed.log.offsetForTimestamp(1006), { offset: 2, timestamp: 1009, leaderEpoch: 2 }, 'inside a compressed batch, the first record at or after the time');
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

/* ---------------------------------------------------- truncation, epochs */

t.test('truncation drops whole batches, across segments, and the log carries on', async (t) => {
  const rng = seededRng(3);
  const h = new Harness(config({ 'segment.bytes': '3000' }));
  await h.open();
  h.appendRandom(rng, 60, 1);
  h.appendRandom(rng, 60, 3);
  // Every segment in a file first (flush.ms is never here, so most would still be pending in memory).
  await h.log.flush();
  const segmentsBefore = h.log.segmentCount;
  const middle = h.appended[80]!;
  await h.log.truncateTo(middle.baseOffset + 1);
  t.equal(h.log.logEndOffset, middle.baseOffset, 'a batch holding the offset goes whole');
  h.forgetFrom(h.log.logEndOffset);
  t.ok(h.log.segmentCount < segmentsBefore, 'later segments were deleted');
  t.equal(h.log.durableEndOffset, h.log.logEndOffset, 'truncation is fsynced');
  await checkAgainstOracle(t, h, 'after truncation');
  h.appendRandom(rng, 20, 3);
  await checkAgainstOracle(t, h, 'appends after truncation');
  const epochBoundary = h.appended[60]!.baseOffset;
  t.same(h.log.endOffsetForEpoch(1), { epoch: 1, endOffset: epochBoundary });
  await h.log.truncateTo(epochBoundary);
  h.forgetFrom(h.log.logEndOffset);
  t.equal(h.log.latestEpoch, 1, 'epochs that start at or after the truncation point are forgotten');
  t.same(h.log.endOffsetForEpoch(1), { epoch: 1, endOffset: h.log.logEndOffset });
  await h.reopen();
  await checkAgainstOracle(t, h, 'truncated then reopened');
  await h.log.truncateTo(h.log.logStartOffset);
  t.same([h.log.logStartOffset, h.log.logEndOffset, h.log.segmentCount], [0, 0, 1], 'truncating to the start empties the log');
  h.appended = [];
  h.appendRandom(rng, 5, 4);
  await checkAgainstOracle(t, h, 'refilled');
  await h.log.truncateTo(0);
  t.equal(h.log.logEndOffset, 0);
  await h.crashAndReopen();
  t.equal(h.log.logEndOffset, 0, 'a truncation survives a crash');
});

t.test('the leader-epoch cache answers end offsets and survives restarts', async (t) => {
  const h = new Harness(config({ 'segment.bytes': '2000' }));
  await h.open();
  const epochs = [0, 0, 2, 2, 2, 5, 5, 7];
  for (const epoch of epochs) {
    for (let i = 0; i < 5; i++) h.append(makeBatch(2, 100, 1000), epoch);
  }
  const expected = [{ epoch: 0, startOffset: 0 }, { epoch: 2, startOffset: 20 }, { epoch: 5, startOffset: 50 }, { epoch: 7, startOffset: 70 }];
  t.same(h.log.epochEntries(), expected);
  t.same(h.log.endOffsetForEpoch(0), { epoch: 0, endOffset: 20 });
  t.same(h.log.endOffsetForEpoch(1), { epoch: 0, endOffset: 20 }, 'an epoch without writes ends where the next begins, answered with the epoch before it');
  t.same(h.log.endOffsetForEpoch(5), { epoch: 5, endOffset: 70 });
  t.same(h.log.endOffsetForEpoch(7), { epoch: 7, endOffset: 80 }, 'the latest epoch ends at the log end');
  t.same(h.log.endOffsetForEpoch(9), { epoch: -1, endOffset: -1 }, 'a newer epoch is unknown');
  t.same(h.log.endOffsetForEpoch(-1), { epoch: -1, endOffset: -1 });
  await h.reopen();
  t.same(h.log.epochEntries(), expected, 'clean restart');
  await h.log.flush();
  await h.crashAndReopen();
  t.same(h.log.epochEntries(), expected, 'after a crash (rebuilt from the scanned segments)');
  await h.fs.unlink(`${DIR}/leader-epoch-checkpoint`);
  await h.fs.fsyncDir(DIR);
  await h.reopen();
  t.same(h.log.epochEntries(), [], 'a missing checkpoint after a clean close means no epochs were recorded...');
  await h.log.close();
  const damaged = h.fs.open(`${DIR}/leader-epoch-checkpoint`, 'w+');
  damaged.write(bytes('0\n9\ngarbage\n'), 0);
  await damaged.datasync();
  damaged.close();
  await h.open();
  t.same(h.log.epochEntries(), expected, '...and a damaged one is rebuilt by scanning every segment');
  t.equal(h.log.openReport.scannedSegments, h.log.segmentCount);
  h.append(makeBatch(1, 1, 1), 9);
  t.same(h.log.endOffsetForEpoch(7), { epoch: 7, endOffset: 80 });
});

/* ------------------------------------------------------------ durability */

/** Counts fdatasync calls per path suffix by wrapping the simulated disk. */
function countSyncs(fs: SimulatedFileSystem): { log: number } {
  const counts = { log: 0 };
  const open = fs.open.bind(fs);
  fs.open = (filePath, flags) => {
    const handle = open(filePath, flags);
    const datasync = handle.datasync.bind(handle);
    if (filePath.endsWith('.log')) handle.datasync = () => { counts.log++; return datasync(); };
    return handle;
  };
  return counts;
}

t.test('flush.messages, flush.ms and fsync=always decide what a crash keeps', async (t) => {
  const interval = new Harness(config({ 'flush.messages': '10' }));
  await interval.open();
  for (let i = 0; i < 9; i++) interval.append(makeBatch(1, 50, 1));
  await Promise.resolve();
  t.equal(interval.log.durableEndOffset, 0, 'below flush.messages nothing is flushed');
  interval.append(makeBatch(1, 50, 1));
  await interval.log.waitDurable(10);
  t.equal(interval.log.durableEndOffset, 10, 'the 10th record triggers a flush');
  interval.append(makeBatch(3, 50, 1));
  await interval.crashAndReopen();
  t.equal(interval.log.logEndOffset, 10, 'a crash loses exactly the unflushed appends');
  interval.forgetFrom(10);
  await checkAgainstOracle(t, interval, 'after the crash');

  const timed = new Harness(config({ 'flush.ms': '500' }));
  await timed.open();
  timed.append(makeBatch(2, 50, 1));
  timed.clock.advance(499);
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(timed.log.durableEndOffset, 0, 'not yet flush.ms');
  timed.clock.advance(1);
  await timed.log.waitDurable(2);
  t.equal(timed.log.durableEndOffset, 2, 'flush.ms after the first unflushed append');
  timed.append(makeBatch(2, 50, 1));
  timed.clock.advance(500);
  await timed.log.waitDurable(4);
  timed.append(makeBatch(2, 50, 1));
  await timed.crashAndReopen();
  t.equal(timed.log.logEndOffset, 4);

  const always = new Harness(config({ fsync: 'always' }));
  const syncs = countSyncs(always.fs);
  await always.open();
  const waits: Promise<void>[] = [];
  for (let i = 0; i < 50; i++) {
    const info = always.log.append(makeBatch(1, 50, 1), { leaderEpoch: 0 });
    waits.push(always.log.waitDurable(info.lastOffset + 1));
  }
  const before = syncs.log;
  await Promise.all(waits);
  t.ok(syncs.log - before <= 2, `50 appends in one tick shared ${syncs.log - before} fdatasync(s)`);
  t.equal(always.log.durableEndOffset, 50);
  let acknowledged = 50;
  for (let round = 0; round < 20; round++) {
    const info = always.log.append(makeBatch(1, 20, 1), { leaderEpoch: 0 });
    const durable = always.log.waitDurable(info.lastOffset + 1).then(() => { acknowledged = Math.max(acknowledged, info.lastOffset + 1); });
    if (round % 2 === 0) await durable;
    else durable.catch(() => undefined); // the crash below may fail it: the process "died"
  }
  always.fs.crash({ rng: seededRng(5) });
  await always.open();
  t.ok(always.log.logEndOffset >= acknowledged, `every acknowledged append survived (end ${always.log.logEndOffset} >= ${acknowledged})`);
});

t.test('a failed fsync takes the log offline for good; reopening recovers', async (t) => {
  const h = new Harness(config({ fsync: 'always' }));
  await h.open();
  h.append(makeBatch(1, 50, 1));
  await h.log.flush();
  h.fs.injectFault('datasync', '.log');
  const info = h.log.append(makeBatch(1, 50, 1), { leaderEpoch: 0 });
  await t.rejects(h.log.waitDurable(info.lastOffset + 1), LogOfflineError);
  t.ok(h.log.isOffline);
  t.equal(h.log.durableEndOffset, 1, 'the failed fsync did not count');
  t.throws(() => h.log.append(makeBatch(1, 50, 1), { leaderEpoch: 0 }), LogOfflineError);
  await t.rejects(h.log.read(0, 100), LogOfflineError);
  await t.rejects(h.log.flush(), LogOfflineError, 'never retried as if it had worked');
  await h.log.close();
  t.equal(await h.fs.stat(`${DIR}/clean-shutdown`), null, 'an offline log does not claim a clean shutdown');
  h.fs.crash();
  await h.open();
  t.equal(h.log.logEndOffset, 1, 'reopened from what was really fsynced');

  const dirFault = new Harness(config({ fsync: 'always', 'segment.bytes': '1024' }));
  await dirFault.open();
  dirFault.append(makeBatch(1, 600, 1));
  await dirFault.log.flush();
  dirFault.fs.injectFault('fsyncDir', DIR);
  const rolled = dirFault.log.append(makeBatch(1, 600, 1), { leaderEpoch: 0 });
  await t.rejects(dirFault.log.waitDurable(rolled.lastOffset + 1), LogOfflineError, 'a failed directory fsync after a roll is a failed fsync too');
});

/* -------------------------------------------------------------- recovery */

t.test('crashes that tear the unsynced tail lose only unsynced data, and the log carries on', async (t) => {
  const rng = seededRng(21);
  const h = new Harness(config({ 'segment.bytes': '4000' }));
  await h.open();
  for (let round = 0; round < 25; round++) {
    h.appendRandom(rng, 1 + rng.int(12));
    if (rng.int(2) === 0) await h.log.flush();
    const durable = h.log.durableEndOffset;
    h.appendRandom(rng, rng.int(12));
    h.fs.crash({ rng });
    await h.open();
    if (h.log.logEndOffset < durable) t.fail(`round ${round}: end ${h.log.logEndOffset} fell below the durable ${durable}`);
    h.forgetFrom(h.log.logEndOffset);
    const last = h.appended.at(-1);
    if ((last?.lastOffset ?? -1) + 1 !== h.log.logEndOffset) t.fail(`round ${round}: the log ends inside a batch`);
  }
  t.ok(h.appended.length > 30, `${h.appended.length} batches survived 25 torn crashes`);
  await checkAgainstOracle(t, h, 'after 25 torn crashes');
});

/** Byte position of an appended batch inside its segment file. */
function positionOf(h: Harness, entry: Appended): { file: string; position: number } {
  const base = h.log.segmentBaseOffsets().filter((b) => b <= entry.baseOffset).at(-1) as number;
  let position = 0;
  for (const a of h.appended) if (a.baseOffset >= base && a.baseOffset < entry.baseOffset) position += a.bytes.byteLength;
  return { file: `${DIR}/${segmentFileName(base, '.log')}`, position };
}

t.test('torn tails written into the file are truncated; damage in the middle is reported', async (t) => {
  const setup = async (): Promise<Harness> => {
    const h = new Harness(config({ 'segment.bytes': '100000' }));
    await h.open();
    for (let i = 0; i < 10; i++) h.append(makeBatch(2, 100, 1000 + i));
    await h.log.flush();
    h.fs.crash();
    return h;
  };
  const truncated = async (h: Harness, label: string, expectedEnd: number): Promise<void> => {
    await h.open();
    t.equal(h.log.logEndOffset, expectedEnd, `${label}: cut back to the last whole batch`);
    t.ok(h.log.openReport.truncatedBytes > 0, `${label}: reported ${h.log.openReport.truncatedBytes} truncated bytes`);
    h.forgetFrom(h.log.logEndOffset);
    await checkAgainstOracle(t, h, label);
    h.append(makeBatch(1, 10, 1));
    await h.reopen();
    t.equal(h.log.logEndOffset, expectedEnd + 1, `${label}: the tail is clean (appends and reopens fine)`);
  };

  let h = await setup();
  const last = h.appended.at(-1)!;
  let where = positionOf(h, last);
  let handle = h.fs.open(where.file, 'r+');
  handle.truncate(where.position + 30);
  handle.close();
  await truncated(h, 'half a batch header', last.baseOffset);

  h = await setup();
  where = positionOf(h, h.appended.at(-1)!);
  handle = h.fs.open(where.file, 'r+');
  handle.truncate(where.position + last.bytes.byteLength - 7);
  handle.close();
  await truncated(h, 'a batch missing its last bytes', last.baseOffset);

  h = await setup();
  where = positionOf(h, h.appended.at(-1)!);
  handle = h.fs.open(where.file, 'r+');
  handle.write(new Uint8Array(5000), where.position + last.bytes.byteLength);
  handle.close();
  await truncated(h, 'zeros after the last batch', last.baseOffset + 2);

  h = await setup();
  where = positionOf(h, h.appended.at(-1)!);
  corruptByte(h.fs, where.file, where.position + 100);
  await truncated(h, 'a flipped bit in the last batch', last.baseOffset);

  h = await setup();
  const middle = h.appended[4]!;
  where = positionOf(h, middle);
  corruptByte(h.fs, where.file, where.position + 80);
  const sizeBefore = (await h.fs.stat(where.file))?.sizeBytes;
  const err = await h.open().catch((e: unknown) => e);
  t.ok(err instanceof CorruptLogError, 'a flipped bit in a middle batch is corruption, not a torn tail');
  t.match(err, { file: where.file, position: where.position, message: /CRC-32C mismatch.*valid batch follows/ }, 'reported with file and byte position');
  t.equal((await h.fs.stat(where.file))?.sizeBytes, sizeBefore, 'and nothing was truncated');
  const again = await h.open().catch((e: unknown) => e);
  t.ok(again instanceof CorruptLogError, 'it stays offline on the next try');

  h = await setup();
  where = positionOf(h, h.appended[6]!);
  handle = h.fs.open(where.file, 'r+');
  handle.write(new Uint8Array([0, 0, 0, 0]), where.position + 8);
  handle.close();
  await t.rejects(h.open(), { name: 'CorruptLogError', position: where.position }, 'a zeroed length in the middle is found by resynchronising');

  // below the recovery point even the last batch counts: it was fsynced
  const rp = new Harness(config({ 'segment.bytes': '1500' }));
  await rp.open();
  for (let i = 0; i < 8; i++) rp.append(makeBatch(2, 100, 1000 + i));
  await rp.log.flush();
  await rp.log.checkpointRecoveryPoint();
  rp.append(makeBatch(1, 10, 1));
  const flushedTail = rp.appended[7]!;
  where = positionOf(rp, flushedTail);
  rp.fs.crash();
  const tailHandle = rp.fs.open(where.file, 'r+');
  tailHandle.truncate(where.position + flushedTail.bytes.byteLength);
  tailHandle.close();
  corruptByte(rp.fs, where.file, where.position + 90);
  await t.rejects(rp.open(), { name: 'CorruptLogError', position: where.position, message: /recovery point/ });
});

/* ------------------------------------------------------------- retention */

t.test('retention deletes whole old segments by time and by size, within the bound', async (t) => {
  const h = new Harness(config({ 'segment.bytes': '1024', 'retention.ms': '10000' }));
  await h.open();
  const now = h.clock.nowMs();
  // 8 segments of 2 batches; segment i's newest record is at now - 20000 + i * 1000
  for (let i = 0; i < 16; i++) h.append(makeBatch(1, 350, now - 20_000 + Math.floor(i / 2) * 1000));
  t.equal(h.log.segmentCount, 8);
  t.same(await h.log.applyRetention(1), { deletedSegments: 0, deletedBytes: 0 }, 'nothing that holds offsets at or above the bound');
  const byTime = await h.log.applyRetention(8);
  t.equal(byTime.deletedSegments, 4, 'the bound stops time retention (segments 0-7 go)');
  t.equal(h.log.logStartOffset, 8);
  await t.rejects(h.log.read(7, 100), OffsetOutOfRangeError, 'deleted offsets are out of range');
  const rest = await h.log.applyRetention();
  t.equal(rest.deletedSegments, 3, 'segments whose newest record is more than retention.ms old go; the active one stays');
  t.equal(h.log.logStartOffset, 14);
  h.clock.advance(1_000_000);
  t.equal((await h.log.applyRetention()).deletedSegments, 0, 'never the active segment, however old');
  t.equal(h.log.segmentCount, 1);
  h.forgetFrom(0);
  h.appended = [];

  const bySize = new Harness(config({ 'segment.bytes': '1024', 'retention.bytes': '2500' }));
  await bySize.open();
  for (let i = 0; i < 12; i++) bySize.append(makeBatch(1, 350, bySize.clock.nowMs()));
  const segmentBytes = bySize.log.sizeBytes / bySize.log.segmentCount;
  const result = await bySize.log.applyRetention();
  t.ok(bySize.log.sizeBytes >= 2500 && bySize.log.sizeBytes - segmentBytes < 2500, `kept ${bySize.log.sizeBytes} bytes: at least retention.bytes, and one segment less would be below it`);
  t.equal(result.deletedBytes, 12 * bySize.appended[0]!.bytes.byteLength - bySize.log.sizeBytes);
  bySize.appended = bySize.appended.filter((a) => a.baseOffset >= bySize.log.logStartOffset);
  await checkAgainstOracle(t, bySize, 'after size retention');
  await bySize.reopen();
  t.equal(bySize.log.logStartOffset, bySize.appended[0]!.baseOffset, 'the log start survives a restart');

  const compacted = new Harness(config({ 'segment.bytes': '1024', 'retention.bytes': '0', 'cleanup.policy': 'compact' }));
  await compacted.open();
  for (let i = 0; i < 6; i++) compacted.append(makeBatch(1, 350, 1));
  t.equal((await compacted.log.applyRetention()).deletedSegments, 0, 'cleanup.policy=compact alone never deletes by retention');
});

t.test('a crash between the rename and the unlink of a delete recovers cleanly', async (t) => {
  const h = new Harness(config({ 'segment.bytes': '1024', 'retention.bytes': '0', 'fsync': 'always' }));
  await h.open();
  for (let i = 0; i < 8; i++) h.append(makeBatch(1, 350, 1), i);
  await h.log.flush();
  h.fs.injectFault('unlink', '.deleted');
  await t.rejects(h.log.applyRetention(), LogOfflineError, 'the failed unlink takes the log offline');
  const names = await h.fs.readdir(DIR);
  t.ok(names.some((n) => n.endsWith('.log.deleted')), 'the segments were renamed to .deleted');
  h.fs.crash();
  await h.open();
  const after = await h.fs.readdir(DIR);
  t.notOk(after.some((n) => n.endsWith('.deleted')), 'the next open finished the delete');
  t.equal(h.log.segmentCount, 1);
  t.equal(h.log.logStartOffset, 6);
  t.same(h.log.epochEntries(), [{ epoch: 6, startOffset: 6 }, { epoch: 7, startOffset: 7 }], 'the epoch cache starts at the log start');
  h.appended = h.appended.filter((a) => a.baseOffset >= 6);
  await checkAgainstOracle(t, h, 'after the finished delete');

  // a crash before the renames were fsynced brings the segments back whole
  const early = new Harness(config({ 'segment.bytes': '1024', 'retention.bytes': '0', 'fsync': 'always' }));
  await early.open();
  for (let i = 0; i < 8; i++) early.append(makeBatch(1, 350, 1));
  await early.log.flush();
  early.fs.injectFault('fsyncDir', DIR);
  await t.rejects(early.log.applyRetention(), LogOfflineError);
  early.fs.crash();
  await early.open();
  t.equal(early.log.logStartOffset, 0, 'the renames were not durable: every segment is back');
  await checkAgainstOracle(t, early, 'segments back after the crash');
  t.equal((await early.log.applyRetention()).deletedSegments, 3, 'and retention deletes them again');
});

/* ----------------------------------------------------------- log manager */

t.test('LogManager opens many logs, recovers unclean ones on workers, keeps corrupt ones offline', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const cfg = config({ 'segment.bytes': '3000', 'retention.ms': '60000' });
  // audit keeps one segment, so the damage below lands in the segment recovery scans
  const auditCfg = config({ 'segment.bytes': '1000000' });
  const configFor = (topic: string): LogConfig => (topic === 'audit' ? auditCfg : cfg);
  const open = (): Promise<LogManager> => LogManager.open({ dataDir: '/var/runnel', fs, clock, configFor, recoveryThreads: 2, retentionCheckIntervalMs: 1000 });
  let manager = await open();
  const rng = seededRng(99);
  const expected = new Map<string, Uint8Array[]>();
  for (const [topic, partition] of [['orders', 0], ['orders', 1], ['click-stream', 0], ['audit', 3]] as const) {
    const log = await manager.create(topic, partition, configFor(topic));
    t.equal(await manager.create(topic, partition, configFor(topic)), log, 'create returns the open log');
    const batches: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) {
      const batch = makeBatch(1 + rng.int(3), rng.int(200), clock.nowMs());
      log.append(batch, { leaderEpoch: 0 });
      batches.push(batch);
    }
    expected.set(`${topic}-${partition}`, batches);
  }
  t.same([...manager.all()].map((e) => `${e.topic}-${e.partition}`).sort(), ['audit-3', 'click-stream-0', 'orders-0', 'orders-1']);
  await manager.close();
  const marker = await fs.stat('/var/runnel/orders-0/clean-shutdown');
  t.ok(marker !== null, 'close writes the clean-shutdown markers');

  manager = await open();
  t.ok([...manager.all()].every((e) => e.log.openReport.cleanShutdown), 'a clean start scans nothing');
  for (const { log } of manager.all()) await log.flush();
  fs.crash();
  // damage one partition in the middle of a batch that has valid batches after it
  const batches = expected.get('audit-3')!;
  let position = 0;
  for (const b of batches.slice(0, 3)) position += b.byteLength;
  corruptByte(fs, `/var/runnel/audit-3/${segmentFileName(0, '.log')}`, position + 70);
  manager = await open();
  t.same(manager.offline().map((o) => [o.topic, o.partition, o.error.name]), [['audit', 3, 'CorruptLogError']], 'the corrupt log stays offline');
  t.equal(manager.get('audit', 3), undefined);
  await t.rejects(manager.create('audit', 3, cfg), LogOfflineError, 'and cannot be recreated over');
  for (const [name, written] of expected) {
    if (name === 'audit-3') continue;
    const [topic, partition] = [name.slice(0, name.lastIndexOf('-')), Number(name.slice(name.lastIndexOf('-') + 1))];
    const log = manager.get(topic, partition)!;
    t.notOk(log.openReport.cleanShutdown, `${name} was recovered`);
    const read: Uint8Array[] = [];
    for (let offset = 0; offset < log.logEndOffset;) {
      const result = await log.read(offset, 1 << 20);
      read.push(...result.records);
      offset = readBatchHeader(result.records.at(-1)!).baseOffset + readBatchHeader(result.records.at(-1)!).lastOffsetDelta + 1;
    }
    t.same(read.map((b) => Buffer.from(b)), written.map((b) => Buffer.from(b)), `${name} reads back every batch after recovery on workers`);
  }
  await manager.remove('audit', 3);
  t.equal(await fs.stat('/var/runnel/audit-3'), null, 'removing an offline log deletes its directory');
  await manager.remove('orders', 1);
  t.equal(manager.get('orders', 1), undefined);
  t.equal(await fs.stat('/var/runnel/orders-1'), null);

  // maintenance: retention on the clock
  manager.startMaintenance();
  const orders = manager.get('orders', 0)!;
  const segmentsBefore = orders.segmentCount;
  t.ok(segmentsBefore > 2);
  clock.advance(120_000);
  // each check re-arms itself when it has finished: let it finish, then move the clock to the next one
  for (let i = 0; i < 10 && orders.segmentCount === segmentsBefore; i++) {
    for (let j = 0; j < 5; j++) await new Promise((resolve) => setImmediate(resolve));
    clock.advance(1000);
  }
  t.equal(orders.segmentCount, 1, 'the retention check ran on the clock and deleted every expired non-active segment');
  await manager.close();
  const reopened = await open();
  t.same([...reopened.all()].map((e) => `${e.topic}-${e.partition}`).sort(), ['click-stream-0', 'orders-0']);
  await reopened.close();
});

/* ------------------------------------------------ review: index rebuilds */

t.test('a missing or inconsistent index of a trusted segment is rebuilt from its log, not trusted', async (t) => {
  // index.interval.bytes above two batches: a segment's last batch has no index entry, only the final time entry
  const h = new Harness(config({ 'segment.bytes': '2000', 'index.interval.bytes': '1000', 'retention.ms': '10000' }));
  await h.open();
  const start = h.clock.nowMs() - 60_000;
  // as found: a lost .timeindex was recreated empty, so the segment had no largest timestamp and never expired
  const lost = new Harness(config({ 'segment.bytes': '2000', 'retention.ms': '10000' }));
  await lost.open();
  for (let i = 0; i < 20; i++) lost.append(makeBatch(2, 150, start + i));
  const lostSegments = lost.log.segmentCount;
  await lost.log.close();
  await lost.fs.unlink(`${DIR}/${segmentFileName(0, '.timeindex')}`);
  await lost.open();
  t.equal((await lost.log.applyRetention()).deletedSegments, lostSegments - 1, 'a segment whose time index was lost still expires by retention.ms');

  for (let i = 0; i < 40; i++) h.append(makeBatch(2, 150, start + i * 10));
  const segments = h.log.segmentCount;
  t.ok(segments >= 6, `${segments} segments`);
  const bases = h.log.segmentBaseOffsets();
  const file = (i: number, suffix: string): string => `${DIR}/${segmentFileName(bases[i] as number, suffix)}`;
  await h.log.close();
  const original = new Map<string, Uint8Array>();
  for (let i = 0; i < 4; i++) for (const suffix of ['.index', '.timeindex']) original.set(file(i, suffix), await h.fs.readFile(file(i, suffix)));
  for (let i = 0; i < 4; i++) t.ok((original.get(file(i, '.index'))?.byteLength ?? 0) > 0 && (original.get(file(i, '.timeindex'))?.byteLength ?? 0) > 0, `segment ${i} has index entries to lose`);

  // clean open: segment 0 lost its time index, segment 1 its offset index
  await h.fs.unlink(file(0, '.timeindex'));
  await h.fs.unlink(file(1, '.index'));
  // segment 2: an offset index that is well-formed but points between batches
  const shifted = original.get(file(2, '.index'))!.slice();
  const view = new DataView(shifted.buffer);
  for (let at = 0; at < shifted.byteLength; at += 8) view.setUint32(at + 4, view.getUint32(at + 4) + 1);
  const shiftedHandle = h.fs.open(file(2, '.index'), 'w+');
  shiftedHandle.write(shifted, 0);
  shiftedHandle.close();
  // segment 3: an emptied time index although its batches carry timestamps
  const emptied = h.fs.open(file(3, '.timeindex'), 'r+');
  emptied.truncate(0);
  emptied.close();
  await h.fs.fsyncDir(DIR);
  await h.open();
  t.ok(h.log.openReport.cleanShutdown, 'a clean open');
  await checkAgainstOracle(t, h, 'reads after the rebuilds (clean open)');
  for (const [path, bytes] of original) t.same(Buffer.from(await h.fs.readFile(path)), Buffer.from(bytes), `${path.slice(DIR.length + 1)} rebuilt as the appends built it`);

  // after a crash, segments below the recovery point are trusted: same rule
  await h.log.flush();
  await h.log.checkpointRecoveryPoint();
  await h.fs.unlink(file(0, '.index'));
  await h.fs.unlink(file(1, '.timeindex'));
  await h.fs.fsyncDir(DIR);
  await h.crashAndReopen();
  t.notOk(h.log.openReport.cleanShutdown);
  t.ok(h.log.openReport.scannedSegments < 3, 'segments 0 and 1 were not scanned by recovery');
  await checkAgainstOracle(t, h, 'reads after the rebuilds (recovery)');
  for (const path of [file(0, '.index'), file(1, '.timeindex')]) t.same(Buffer.from(await h.fs.readFile(path)), Buffer.from(original.get(path)!), `${path.slice(DIR.length + 1)} rebuilt after the crash`);
  h.fs.crash();
  for (const path of [file(0, '.index'), file(1, '.timeindex')]) t.same(Buffer.from(await h.fs.readFile(path)), Buffer.from(original.get(path)!), `${path.slice(DIR.length + 1)} was made durable by the open`);
  await h.open();

  // every inactive segment is older than retention.ms: time retention deletes them all
  const { deletedSegments } = await h.log.applyRetention();
  t.equal(deletedSegments, segments - 1, 'time retention sees each rebuilt segment\'s largest timestamp');
});

/* ------------------------------------- review: fsyncs that overlap */

/** Holds the next fdatasync of a .log file, once it has synced, until the test releases it (with an error, to fail it). */
function holdNextLogSync(fs: SimulatedFileSystem): { arm(): Promise<void>; release(err?: Error): void } {
  let armed = false;
  let reached: () => void = () => undefined;
  let release: (err?: Error) => void = () => undefined;
  const open = fs.open.bind(fs);
  fs.open = (filePath, flags) => {
    const handle = open(filePath, flags);
    if (!filePath.endsWith('.log')) return handle;
    const datasync = handle.datasync.bind(handle);
    handle.datasync = async () => {
      await datasync();
      if (!armed) return;
      armed = false;
      const held = new Promise<void>((resolve, reject) => {
        release = (err) => (err === undefined ? resolve() : reject(err));
      });
      reached();
      await held;
    };
    return handle;
  };
  return {
    arm: () => {
      armed = true;
      return new Promise<void>((resolve) => {
        reached = resolve;
      });
    },
    release: (err) => release(err),
  };
}

t.test('a flush never declares durable what another fsync still in flight covers (truncation racing a flush)', async (t) => {
  const h = new Harness(config());
  const gate = holdNextLogSync(h.fs);
  await h.open();
  for (let i = 0; i < 10; i++) h.append(makeBatch(1, 50, 1));
  t.equal(h.log.durableEndOffset, 0, 'nothing flushed yet');
  const reached = gate.arm();
  const truncation = h.log.truncateTo(5);
  truncation.catch(() => undefined);
  await reached; // the truncation's fdatasync of the active segment is in flight, and will fail
  const durable = h.log.waitDurable(5);
  durable.catch(() => undefined);
  let settled = false;
  void durable.then(() => { settled = true; }, () => { settled = true; });
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  t.notOk(settled, 'the flush waits for the fdatasync already in flight on the same file');
  gate.release(Object.assign(new Error('EIO: fdatasync'), { code: 'EIO' }));
  await t.rejects(durable, LogOfflineError, 'so its failure reaches the waiter: offsets 0-4 were never acknowledged as durable');
  await t.rejects(truncation, LogOfflineError);
  t.equal(h.log.durableEndOffset, 0);
});

t.test('a failed index write during a flush takes the log offline and fails the waiter', async (t) => {
  const h = new Harness(config({ fsync: 'always' }));
  await h.open();
  for (let i = 0; i < 3; i++) h.append(makeBatch(1, 300, 1));
  await h.log.flush();
  h.append(makeBatch(1, 300, 1)); // an index entry that the flush writes through
  h.fs.injectFault('write', '.index');
  await t.rejects(h.log.waitDurable(h.log.logEndOffset), LogOfflineError);
  t.ok(h.log.isOffline);
  t.equal(h.log.durableEndOffset, 3, 'the unflushed append was never declared durable');
});

t.test('close() refuses appends once it has started: the clean-shutdown marker never covers unflushed data', async (t) => {
  const h = new Harness(config());
  const gate = holdNextLogSync(h.fs);
  await h.open();
  h.append(makeBatch(1, 50, 1));
  const reached = gate.arm();
  const closing = h.log.close();
  await reached; // close's flush is fsyncing the first append
  let accepted = false;
  try {
    h.log.append(makeBatch(1, 50, 2), { leaderEpoch: 0 });
    accepted = true;
  } catch (err) {
    t.ok(err instanceof LogOfflineError, 'an append during close is refused as a storage error');
  }
  gate.release();
  await closing;
  h.fs.crash();
  await h.open();
  t.ok(h.log.openReport.cleanShutdown, 'the clean-shutdown marker matches what is on disk');
  t.equal(h.log.logEndOffset, accepted ? 2 : 1, 'every append close() accepted survived the crash');
});

t.test('a write that runs out of space leaves no partial batch: the log goes offline and reopens at the last whole append', async (t) => {
  const h = new Harness(config());
  await h.open();
  for (let i = 0; i < 3; i++) h.append(makeBatch(1, 50, 1));
  await h.log.flush();
  const logFile = `${DIR}/${segmentFileName(0, '.log')}`;
  const sizeBefore = (await h.fs.stat(logFile))?.sizeBytes;
  const first = makeBatch(2, 50, 2);
  const failing = new Uint8Array(Buffer.concat([first, makeBatch(3, 50, 3)]));
  h.fs.injectFault('write', '.log', 1, { code: 'ENOSPC', partialBytes: first.byteLength + 10 });
  t.throws(() => h.log.append(failing, { leaderEpoch: 0 }), LogOfflineError, 'ENOSPC takes the log offline');
  t.throws(() => h.log.append(makeBatch(1, 50, 4), { leaderEpoch: 0 }), LogOfflineError, 'no later append writes after the failed one');
  t.equal((await h.fs.stat(logFile))?.sizeBytes, sizeBefore, 'the partly written batches were cut off');
  await h.log.close();
  await h.open(); // a restart, no power loss
  t.equal(h.log.logEndOffset, 3, 'the append that failed left no batch behind to resurface (a retry would duplicate it)');
  await checkAgainstOracle(t, h, 'after ENOSPC and a restart');
  h.append(makeBatch(1, 50, 5));
  await checkAgainstOracle(t, h, 'appends carry on at the last whole batch');
});

t.test('a flush that a truncation overtook never counts the offsets appended after it as durable', async (t) => {
  const h = new Harness(config());
  const gate = holdNextLogSync(h.fs);
  await h.open();
  for (let i = 0; i < 10; i++) h.append(makeBatch(1, 50, 1));
  const reached = gate.arm();
  const overtaken = h.log.waitDurable(10);
  await reached; // the flush noted log end 10 and is in its fdatasync
  const truncation = h.log.truncateTo(5);
  await t.rejects(overtaken, OffsetOutOfRangeError, 'a waiter for truncated offsets is told they are gone');
  gate.release();
  await truncation;
  t.equal(h.log.durableEndOffset, 5, 'the overtaken flush counts only up to the truncation point');
  h.forgetFrom(5);
  for (let i = 0; i < 5; i++) h.append(makeBatch(1, 50, 2));
  const claimed = h.log.durableEndOffset;
  t.equal(claimed, 5, 'offsets appended after the truncation are not durable before a flush');
  h.fs.crash();
  await h.open();
  t.ok(h.log.logEndOffset >= claimed, `what was claimed durable (${claimed}) survived the crash (end ${h.log.logEndOffset})`);
});

t.test('the recovery point on disk never passes what was fsynced', async (t) => {
  const h = new Harness(config({ 'segment.bytes': '1024' }));
  const gate = holdNextLogSync(h.fs);
  await h.open();
  const persistedRecoveryPoint = async (): Promise<number> => {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve)); // let the background state write land
    const meta = text(await h.fs.readFile(`${DIR}/partition.meta`));
    return Number(/recovery\.point=(\d+)/.exec(meta)?.[1]);
  };
  // a roll starts a flush that ends at the new segment's base; more appends arrive while it syncs
  const reached = gate.arm();
  for (let i = 0; i < 100 && h.log.segmentCount === 1; i++) h.append(makeBatch(1, 300, 1));
  const rolledAt = h.log.segmentBaseOffsets()[1] as number;
  await reached;
  for (let i = 0; i < 2; i++) h.append(makeBatch(1, 50, 2));
  gate.release();
  const afterRoll = await persistedRecoveryPoint();
  t.equal(h.log.durableEndOffset, rolledAt, 'the flush the roll started covers the log up to the new segment');
  t.equal(afterRoll, rolledAt, 'the recovery point it persisted is that flush\'s end, not the log end');
  // the periodic checkpoint: the durable end, not the log end
  await h.log.flush();
  const durable = h.log.durableEndOffset;
  h.append(makeBatch(1, 50, 3));
  await h.log.checkpointRecoveryPoint();
  t.equal(await persistedRecoveryPoint(), durable, 'checkpointRecoveryPoint persists the durable end');
});

t.test('checkpointRecoveryPoint resolves only once the point it stands for is on disk, even one another call queued', async (t) => {
  const h = new Harness(config());
  await h.open();
  h.append(makeBatch(1, 50, 1));
  await h.log.flush();
  const held: (() => void)[] = [];
  const writeFileAtomic = h.fs.writeFileAtomic.bind(h.fs);
  h.fs.writeFileAtomic = async (filePath, data) => {
    if (filePath.endsWith('partition.meta')) await new Promise<void>((resolve) => held.push(resolve));
    return writeFileAtomic(filePath, data);
  };
  const first = h.log.checkpointRecoveryPoint();
  let secondDone = false;
  const second = h.log.checkpointRecoveryPoint().then(() => {
    secondDone = true;
  });
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  t.notOk(secondDone, 'a second call does not resolve while the write of that very point is still on its way');
  h.fs.writeFileAtomic = writeFileAtomic;
  for (const go of held.splice(0)) go();
  await Promise.all([first, second]);
  h.fs.crash();
  t.match(text(await h.fs.readFile(`${DIR}/partition.meta`)), /recovery\.point=1\n/, 'and once it resolves the point survives a power loss');
});

t.test('a close whose flush fails writes no clean-shutdown marker', async (t) => {
  const h = new Harness(config());
  await h.open();
  h.append(makeBatch(1, 50, 1));
  await h.log.flush();
  h.append(makeBatch(1, 50, 2));
  h.fs.injectFault('datasync', '.log');
  await t.rejects(h.log.close(), LogOfflineError, 'the failed fsync fails the close');
  t.equal(await h.fs.stat(`${DIR}/clean-shutdown`), null, 'no marker claims the unflushed append is on disk');
  h.fs.crash();
  await h.open();
  t.notOk(h.log.openReport.cleanShutdown, 'the next open recovers');
  t.equal(h.log.logEndOffset, 1);
});

/** A closed log whose segment 0 `.index` was rewritten (durably) by `damage`; its original bytes come back too. */
async function logWithDamagedIndex(t: Test, damage: (entries: DataView) => void): Promise<{ h: Harness; indexFile: string; original: Uint8Array }> {
  const h = new Harness(config({ 'segment.bytes': '2000', 'index.interval.bytes': '200' }));
  await h.open();
  for (let i = 0; i < 40; i++) h.append(makeBatch(2, 150, 1000 + i));
  await h.log.close();
  const indexFile = `${DIR}/${segmentFileName(0, '.index')}`;
  const original = await h.fs.readFile(indexFile);
  t.ok(original.byteLength >= 24, 'segment 0 has at least three index entries');
  const damaged = original.slice();
  damage(new DataView(damaged.buffer));
  const handle = h.fs.open(indexFile, 'r+');
  handle.write(damaged, 0);
  await handle.datasync();
  handle.close();
  return { h, indexFile, original };
}

t.test('an index rebuilt on first use is fsynced by the next flush', async (t) => {
  // a middle entry out of order: the open's check of the last entries passes, the full load on first use does not
  const { h, indexFile, original } = await logWithDamagedIndex(t, (entries) => entries.setUint32(8, 0xffffff));
  await h.open();
  await checkAgainstOracle(t, h, 'reads rebuild the damaged index');
  h.append(makeBatch(1, 50, 2000));
  await h.log.flush();
  h.fs.crash();
  t.same(Buffer.from(await h.fs.readFile(indexFile)), Buffer.from(original), 'the rebuilt index was fsynced by the flush');
});

t.test('an index entry that points between batches is rebuilt from the log, not reported as a corrupt log', async (t) => {
  // the middle entry's position moves 1 byte into its batch: still well-formed and in order
  const { h, indexFile, original } = await logWithDamagedIndex(t, (entries) => entries.setUint32(12, entries.getUint32(12) + 1));
  await h.open();
  await checkAgainstOracle(t, h, 'every read is right');
  t.notOk(h.log.isOffline, 'and the log stays online: its .log is fine');
  h.append(makeBatch(1, 50, 2000));
  await h.log.flush();
  h.fs.crash();
  t.same(Buffer.from(await h.fs.readFile(indexFile)), Buffer.from(original), 'the index was rebuilt and fsynced');
});
