/**
 * Recovery never deletes acknowledged data on its own, in process on the
 * simulated disk:
 *
 * - a bad batch with a valid batch after it anywhere in the partition is
 *   corruption (reported with file and byte position, nothing on disk
 *   changed); only bad bytes with nothing valid after them are a torn tail;
 * - the roll barrier: a new segment is written only once the one before it
 *   is durable (checked on every write by a probe on the file system), so
 *   power losses at any moment leave a torn tail only in the last segment and
 *   recovery never cries corruption after one;
 * - log-surgery.ts (`runnel recover`): inspection, the cut plan, and a cut
 *   that keeps every byte somewhere whatever moment a crash interrupts it.
 */
import t, { type Test } from 'tap';
import path from 'node:path';
import { BATCH_LOG_OVERHEAD, BATCH_OFFSET_LENGTH, stampBatch } from '../../protocol/batch/header.js';
import { buildBatch } from '../../protocol/batch/builder.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem, type CrashLoss, type FileHandle, type FileStat, type FileSystem, type OpenFlags } from '../../broker/world/file-system.js';
import { seededRng, type Rng } from '../../broker/world/rng.js';
import { CorruptLogError, InterruptedCutError } from '../../broker/storage/errors.js';
import { topicNameProblem } from '../../broker/metadata/topic-name.js';
import { recoverPartition } from '../../broker/recover.js';
import { LogManager, parsePartitionDirName } from '../../broker/storage/log-manager.js';
import { isSetAsideDirName } from '../../broker/storage/set-aside.js';
import { parseLogConfig, type LogConfig } from '../../broker/storage/log-config.js';
import { executeCut, inspectPartition, planCut, SET_ASIDE_MANIFEST } from '../../broker/storage/log-surgery.js';
import { decodePartitionMeta, encodePartitionMeta } from '../../broker/storage/partition-meta.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { CLEAN_SHUTDOWN_FILE, CUT_IN_PROGRESS_FILE, LOG_SUFFIX, PARTITION_META_FILE, parseSegmentFileName, segmentFileName } from '../../broker/storage/segment-names.js';
import { ProcessDisk } from '../support/process-disk.js';
import { corruptByte, makeBatch, noisyBatch } from '../support/storage-fixtures.js';

const DIR = '/data/orders-0';

function config(overrides: Record<string, string> = {}): LogConfig {
  return parseLogConfig({ 'segment.bytes': '4096', 'index.interval.bytes': '256', 'flush.ms': '9223372036854775807', ...overrides });
}

/** Byte positions and sizes of the whole batches at the start of `data` (by their length fields). */
function batchesIn(data: Uint8Array): { position: number; sizeBytes: number }[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: { position: number; sizeBytes: number }[] = [];
  for (let position = 0; position + 61 <= data.byteLength;) {
    const sizeBytes = BATCH_LOG_OVERHEAD + view.getInt32(position + BATCH_OFFSET_LENGTH);
    if (position + sizeBytes > data.byteLength) break;
    out.push({ position, sizeBytes });
    position += sizeBytes;
  }
  return out;
}

/** Appends stamp batches in place, so an appended batch's bytes are what the log must read back. */
const hex = (data: Uint8Array): string => Buffer.from(data).toString('hex');

async function logFileNames(fs: FileSystem, dir = DIR): Promise<string[]> {
  return (await fs.readdir(dir)).filter((name) => parseSegmentFileName(name, LOG_SUFFIX) !== null);
}

async function snapshot(fs: FileSystem, dir = DIR): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const name of await logFileNames(fs, dir)) files.set(name, Buffer.from(await fs.readFile(path.join(dir, name))).toString('hex'));
  return files;
}

async function syncFile(fs: FileSystem, file: string): Promise<void> {
  const handle = fs.open(file, 'r+');
  await handle.datasync();
  handle.close();
}

function truncateFile(fs: FileSystem, file: string, sizeBytes: number): void {
  const handle = fs.open(file, 'r+');
  handle.truncate(sizeBytes);
  handle.close();
}

function writeAt(fs: FileSystem, file: string, position: number, data: Uint8Array): void {
  const handle = fs.open(file, 'r+');
  handle.write(data, position);
  handle.close();
}

/**
 * 40 one-record batches over several 4096-byte segments, every one durable,
 * then a crash with partition.meta at recovery.point=0: the state the issue
 * describes (the recovery point is written in the background, after the acks).
 */
async function fortyDurableBatches(): Promise<{ fs: SimulatedFileSystem; clock: ManualClock; names: string[]; values: Uint8Array[] }> {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const log = await PartitionLog.open({ dir: DIR, config: config({ fsync: 'always' }), fs, clock });
  const values: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) {
    const batch = makeBatch(1, 330, 1000 + i);
    log.append(batch, { leaderEpoch: 0 });
    values.push(batch);
  }
  await log.flush();
  // As after SIGKILL with everything acknowledged: no clean-shutdown marker, the recovery point not yet moved.
  // (Closed first, so no background write of the old log lands after these.)
  await log.close();
  await fs.unlink(path.join(DIR, CLEAN_SHUTDOWN_FILE));
  await fs.writeFileAtomic(path.join(DIR, PARTITION_META_FILE), encodePartitionMeta({ topic: 'orders', partition: 0, recoveryPoint: 0 }));
  fs.crash();
  return { fs, clock, names: await logFileNames(fs), values };
}

async function openFails(t: Test, fs: SimulatedFileSystem, clock: ManualClock, expected: { file: string; position: number; message: RegExp }, label: string): Promise<void> {
  const before = await snapshot(fs);
  const err = await PartitionLog.open({ dir: DIR, config: config({ fsync: 'always' }), fs, clock }).catch((e: unknown) => e);
  t.ok(err instanceof CorruptLogError, `${label}: corruption, not a torn tail (${String(err)})`);
  t.match(err, expected, `${label}: reported with file and byte position`);
  t.same(await snapshot(fs), before, `${label}: no .log file deleted or changed`);
  const again = await PartitionLog.open({ dir: DIR, config: config({ fsync: 'always' }), fs, clock }).catch((e: unknown) => e);
  t.ok(again instanceof CorruptLogError, `${label}: and it stays offline on the next try`);
}

/** The open fails with CorruptLogError at some position of `file`, and changes no .log byte. */
async function openFailsIn(t: Test, fs: SimulatedFileSystem, clock: ManualClock, file: string, label: string): Promise<void> {
  const before = await snapshot(fs);
  const err = await PartitionLog.open({ dir: DIR, config: config({ fsync: 'always' }), fs, clock }).catch((e: unknown) => e);
  t.ok(err instanceof CorruptLogError && err.file === file, `${label}: corruption (${String(err)})`);
  t.same(await snapshot(fs), before, `${label}: no .log byte changed`);
}

t.test('a bad batch with valid data after it anywhere in the partition is corruption, and nothing is deleted', async (t) => {
  const seg = (names: string[], i: number): string => path.join(DIR, names[i] as string);

  let s = await fortyDurableBatches();
  t.ok(s.names.length >= 4, `${s.names.length} segments`);
  let last = batchesIn(await s.fs.readFile(seg(s.names, 0))).at(-1)!;
  corruptByte(s.fs, seg(s.names, 0), last.position + last.sizeBytes - 3);
  await openFails(t, s.fs, s.clock, { file: seg(s.names, 0), position: last.position, message: /CRC-32C mismatch, and a later segment holds a valid batch \(00000000000000000010\.log at byte 0, offset 10\)/ }, 'the issue: a flipped byte in the last batch of segment 0');

  s = await fortyDurableBatches();
  last = batchesIn(await s.fs.readFile(seg(s.names, 0))).at(-1)!;
  truncateFile(s.fs, seg(s.names, 0), last.position + 40);
  await openFails(t, s.fs, s.clock, { file: seg(s.names, 0), position: last.position, message: /later segment holds a valid batch/ }, 'segment 0 cut short inside its last batch');

  s = await fortyDurableBatches();
  last = batchesIn(await s.fs.readFile(seg(s.names, 0))).at(-1)!;
  writeAt(s.fs, seg(s.names, 0), last.position, new Uint8Array(last.sizeBytes));
  await openFails(t, s.fs, s.clock, { file: seg(s.names, 0), position: last.position, message: /later segment/ }, 'the last batch of segment 0 zeroed');

  s = await fortyDurableBatches();
  last = batchesIn(await s.fs.readFile(seg(s.names, 2))).at(-1)!;
  corruptByte(s.fs, seg(s.names, 2), last.position + 70);
  await openFails(t, s.fs, s.clock, { file: seg(s.names, 2), position: last.position, message: /later segment/ }, 'the last batch of a middle segment');

  s = await fortyDurableBatches();
  const lastSegment = batchesIn(await s.fs.readFile(seg(s.names, s.names.length - 1)));
  // One bit in a base offset, which the CRC does not cover: the batch claims offsets 256 ahead (a gap, as compaction leaves),
  // and the next one, the last of the partition, "goes back". It is whole and its CRC holds: no tear makes that.
  const beforeLast = lastSegment.at(-2)!;
  writeAt(s.fs, seg(s.names, s.names.length - 1), beforeLast.position + 6, new Uint8Array([1]));
  await openFails(t, s.fs, s.clock, { file: seg(s.names, s.names.length - 1), position: lastSegment.at(-1)!.position, message: /baseOffset 39 is below the expected 295, and it is whole with a valid CRC/ },
    'a flipped bit in the base offset of the next-to-last batch (the last one is whole and valid, only out of order)');

  s = await fortyDurableBatches();
  last = batchesIn(await s.fs.readFile(seg(s.names, 0))).at(-1)!;
  // Segment 0's last batch now ends past segment 1's base offset.
  writeAt(s.fs, seg(s.names, 0), last.position + 7, new Uint8Array([50]));
  await openFails(t, s.fs, s.clock, { file: seg(s.names, 1), position: 0, message: /ends at offset 51, past this segment's base offset/ }, 'a segment that overlaps the next one');
});

t.test('a torn tail with nothing valid after it in the whole partition is cut, with crash leftovers of a roll', async (t) => {
  const cases: [string, (fs: SimulatedFileSystem, laterFiles: string[]) => void][] = [
    ['later segments are empty files', (fs, later) => later.forEach((file) => truncateFile(fs, file, 0))],
    ['later segments hold only a torn first batch', (fs, later) => later.forEach((file) => truncateFile(fs, file, 90))],
    ['later segments hold zeros', (fs, later) => later.forEach((file) => {
      truncateFile(fs, file, 0);
      writeAt(fs, file, 0, new Uint8Array(600));
    })],
  ];
  for (const [label, damageLater] of cases) {
    const s = await fortyDurableBatches();
    const first = path.join(DIR, s.names[0]!);
    const inFirst = batchesIn(await s.fs.readFile(first));
    const last = inFirst.at(-1)!;
    truncateFile(s.fs, first, last.position + 30);
    damageLater(s.fs, s.names.slice(1).map((name) => path.join(DIR, name)));
    const log = await PartitionLog.open({ dir: DIR, config: config({ fsync: 'always' }), fs: s.fs, clock: s.clock });
    t.equal(log.logEndOffset, inFirst.length - 1, `${label}: cut back to the last whole batch of segment 0`);
    t.equal(log.openReport.deletedSegments, s.names.length - 1, `${label}: the later segments, which held nothing valid, were removed`);
    t.same(await logFileNames(s.fs), [s.names[0]], `${label}: one segment left`);
    const read = await log.read(0, 1 << 20);
    t.same(read.records.map(hex), s.values.slice(0, inFirst.length - 1).map(hex), `${label}: the batches before the tear read back`);
    await log.close();
  }
});

/* ------------------------------------------- batches inside values, lost pages */

/** A batch whose one record's value holds `payload` (then `padding` more bytes), built as a client would. */
function carrying(payload: Uint8Array, padding: number, timestampMs: number): Uint8Array {
  const value = new Uint8Array(payload.byteLength + padding).fill(0x5a);
  value.set(payload, 0);
  return buildBatch([{ key: new TextEncoder().encode('k'), value, timestamp: timestampMs }], { nowMs: timestampMs });
}

/** `count` batches chained as a log holds them: base offsets from `base`, each after the one before. */
function chainedBatches(count: number, base: number, rng: Rng): Uint8Array {
  const parts = Array.from({ length: count }, (_, i) => {
    const batch = noisyBatch(rng, 150, 7000 + i);
    stampBatch(batch, 0, base + i, 0);
    return batch;
  });
  return Buffer.concat(parts);
}

/** Five durable batches, then one never-fsynced append; the power goes keeping `kept` bytes of that append. */
async function tornAfterFive(t: Test, lastAppend: Uint8Array, kept: number): Promise<{ fs: SimulatedFileSystem; clock: ManualClock; tornAt: number; file: string }> {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const log = await PartitionLog.open({ dir: DIR, config: config({ fsync: 'always', 'segment.bytes': '1048576' }), fs, clock });
  for (let i = 0; i < 5; i++) log.append(makeBatch(1, 100, 1000 + i), { leaderEpoch: 0 });
  await log.flush();
  const file = path.join(DIR, segmentFileName(0, LOG_SUFFIX));
  const tornAt = (await fs.stat(file))!.sizeBytes;
  log.append(lastAppend, { leaderEpoch: 0 });
  fs.crash({ rng: { next: () => 0, int: () => kept, fill: (b) => b } });
  t.equal((await fs.stat(file))!.sizeBytes, tornAt + kept, 'the crash kept that much of the last append');
  return { fs, clock, tornAt, file };
}

t.test('a torn last append whose record carries batches is a torn tail, not corruption; what it held is set aside', async (t) => {
  const rng = seededRng(5);
  // The last figure: records the set-aside note counts (batches that could pass for this log's, by their offsets).
  const cases: [string, Uint8Array, number][] = [
    ['a batch as a client builds it (base offset 0)', makeBatch(1, 200, 9000), 0],
    ['a batch stamped with offsets past the log end (a mirror of another log)', chainedBatches(1, 1_000_000, rng), 1],
    ['three chained batches with offsets past the log end', chainedBatches(3, 2_000_000, rng), 3],
  ];
  for (const [label, payload, counted] of cases) {
    const outer = carrying(payload, 4000, 9100);
    // The tear keeps the outer batch's header, the whole payload, and a little of what followed it in the value.
    const kept = outer.indexOf(payload[0]!, 61) + payload.byteLength + 40;
    const s = await tornAfterFive(t, outer, kept);
    const before = await s.fs.readFile(s.file);
    const log = await PartitionLog.open({ dir: DIR, config: config({ fsync: 'always' }), fs: s.fs, clock: s.clock });
    t.equal(log.logEndOffset, 5, `${label}: cut back to the five durable batches`);
    t.ok(log.openReport.setAside !== null && !log.openReport.setAside.lostPages, `${label}: the cut bytes held a batch with a good CRC, so they were set aside`);
    const aside = log.openReport.setAside!;
    t.same(Buffer.from(await s.fs.readFile(path.join(aside.dir, segmentFileName(0, LOG_SUFFIX)))), Buffer.from(before.subarray(s.tornAt)), `${label}: the set-aside file holds the cut bytes`);
    t.equal(aside.records, counted, `${label}: ${counted} records counted in the note`);
    log.append(makeBatch(1, 10, 9200), { leaderEpoch: 0 });
    await log.close();
  }
});

t.test('damage whose batch carries a batch, with real data after it, is still corruption; recover counts only real batches', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const log = await PartitionLog.open({ dir: DIR, config: config({ fsync: 'always', 'segment.bytes': '1048576' }), fs, clock });
  for (let i = 0; i < 5; i++) log.append(makeBatch(1, 100, 1000 + i), { leaderEpoch: 0 });
  const damagedAt = log.sizeBytes;
  const carrier = carrying(makeBatch(1, 200, 9000), 300, 9100);
  log.append(carrier, { leaderEpoch: 0 });
  const nextAt = log.sizeBytes;
  for (let i = 0; i < 4; i++) log.append(makeBatch(1, 100, 2000 + i), { leaderEpoch: 0 });
  await log.close();
  const file = path.join(DIR, segmentFileName(0, LOG_SUFFIX));
  await fs.unlink(path.join(DIR, CLEAN_SHUTDOWN_FILE));
  await fs.writeFileAtomic(path.join(DIR, PARTITION_META_FILE), encodePartitionMeta({ topic: 'orders', partition: 0, recoveryPoint: 0 }));
  corruptByte(fs, file, damagedAt + 30); // in the header, before the carried batch
  await openFails(t, fs, clock, { file, position: damagedAt, message: new RegExp(`a valid batch follows at byte ${nextAt} \\(offset 6\\)`) }, 'a damaged carrier batch, four batches after it');
  const inspection = await inspectPartition(fs, DIR);
  t.match(inspection.afterDamage, { batches: 4, records: 4, unreadableBytes: nextAt - damagedAt }, 'the batch inside the damaged one is not counted as set-aside data');
});

/** The last segment after a power loss that wrote some unsynced pages back and not others. */
async function lostPage(fill: number, opts: { zeroBytes?: number; pageOffset?: number } = {}): Promise<{ fs: SimulatedFileSystem; clock: ManualClock; file: string; durableEnd: number; before: Uint8Array; values: Uint8Array[] }> {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const rng = seededRng(11);
  const log = await PartitionLog.open({ dir: DIR, config: config({ fsync: 'always', 'segment.bytes': '1048576' }), fs, clock });
  const values: Uint8Array[] = [];
  const append = (): void => {
    const batch = noisyBatch(rng, 1000, 1000 + values.length);
    log.append(batch, { leaderEpoch: 0 });
    values.push(batch);
  };
  for (let i = 0; i < 4; i++) append();
  await log.flush();
  const durableEnd = log.logEndOffset;
  const file = path.join(DIR, segmentFileName(0, LOG_SUFFIX));
  const durableSize = (await fs.stat(file))!.sizeBytes;
  for (let i = 0; i < 12; i++) append(); // never fsynced: never acknowledged as durable
  // What the disk kept: the file at full size, one unsynced page never written back.
  const page = Math.ceil(durableSize / 4096) * 4096 + (opts.pageOffset ?? 0);
  const handle = fs.open(file, 'r+');
  handle.write(new Uint8Array(opts.zeroBytes ?? 4096).fill(fill), page);
  await handle.datasync();
  handle.close();
  fs.crash();
  return { fs, clock, file, durableEnd, before: await fs.readFile(file), values };
}

t.test('lost unsynced pages in the last segment: cut at the hole, the rest set aside with a warning; anything else stays corruption', async (t) => {
  const s = await lostPage(0);
  const warnings: string[] = [];
  const logger = { info: () => undefined, warn: (_fields: Record<string, unknown>, message: string) => warnings.push(message), error: () => undefined };
  const log = await PartitionLog.open({ dir: DIR, config: config({ fsync: 'always' }), fs: s.fs, clock: s.clock, logger });
  const aside = log.openReport.setAside;
  t.ok(aside !== null && aside.lostPages, 'recovered as lost unsynced pages');
  t.ok(log.logEndOffset >= s.durableEnd && log.logEndOffset < 16, `cut at the hole: log end ${log.logEndOffset}, every durable offset below ${s.durableEnd} kept`);
  const kept = (await log.read(0, 1 << 20)).records;
  t.same(kept.map(hex), s.values.slice(0, log.logEndOffset).map(hex), 'what is left reads back as appended');
  t.ok(aside!.batches > 0 && aside!.records === aside!.batches, `${aside!.records} records after the hole counted`);
  const cutAt = kept.reduce((n, b) => n + b.byteLength, 0);
  t.same(Buffer.from(await s.fs.readFile(path.join(aside!.dir, segmentFileName(0, LOG_SUFFIX)))), Buffer.from(s.before.subarray(cutAt)), 'the bytes cut are in the set-aside directory, byte for byte');
  t.match(new TextDecoder().decode(await s.fs.readFile(path.join(aside!.dir, SET_ASIDE_MANIFEST))), /reason=pages the power loss did not write back/);
  t.match(warnings.join('\n'), new RegExp(`${aside!.records} records in ${aside!.batches} batches after them \\(never acknowledged as durable\\) were moved to ${aside!.dir.replace(/[.]/g, '\\.')}`), 'a warning names the counts and the directory');
  t.notOk(parsePartitionDirName(path.basename(aside!.dir)), 'the set-aside directory never reads as a partition');
  await log.close();

  const garbage = await lostPage(0xab);
  await openFailsIn(t, garbage.fs, garbage.clock, garbage.file, 'a page of non-zero garbage');
  const partial = await lostPage(0, { zeroBytes: 3000, pageOffset: 500 });
  await openFailsIn(t, partial.fs, partial.clock, partial.file, 'zeros that are not a whole page');
});

t.test('zero pages anywhere but above the recovery point of the last segment are corruption', async (t) => {
  // A page of zeros in a segment that is not the last: synced data, never a lost write.
  const s = await fortyDurableBatches();
  const first = path.join(DIR, s.names[0]!);
  writeAt(s.fs, first, 0, new Uint8Array(4096));
  await openFails(t, s.fs, s.clock, { file: first, position: 0, message: /later segment holds a valid batch/ }, 'a zero page in segment 0');

  // Below the recovery point of the last segment: fsynced, so damage.
  const below = await lostPage(0);
  await below.fs.writeFileAtomic(path.join(DIR, PARTITION_META_FILE), encodePartitionMeta({ topic: 'orders', partition: 0, recoveryPoint: 16 }));
  const err = await PartitionLog.open({ dir: DIR, config: config({ fsync: 'always' }), fs: below.fs, clock: below.clock }).catch((e: unknown) => e);
  t.match(err, { name: 'CorruptLogError', message: /below the recovery point/ }, 'a zero page below the recovery point is corruption');
});

/* ----------------------------------------------------------- the roll barrier */

/**
 * A file system probe: on every write into a segment .log, every other
 * segment of the same directory with a lower base offset must be durable
 * (its bytes fdatasynced, its directory entry fsynced). Records violations.
 */
class RollOrderProbe implements FileSystem {
  readonly violations: string[] = [];
  readonly #segments = new Map<string, { size: number; durableSize: number; entryDurable: boolean }>();

  constructor(readonly inner: SimulatedFileSystem) {}

  #segment(filePath: string): { base: number; dir: string } | null {
    const base = parseSegmentFileName(path.basename(filePath), LOG_SUFFIX);
    return base === null ? null : { base, dir: path.dirname(filePath) };
  }

  #checkWrite(filePath: string, base: number): void {
    for (const [other, state] of this.#segments) {
      const seg = this.#segment(other);
      if (seg === null || seg.dir !== path.dirname(filePath) || seg.base >= base) continue;
      if (state.durableSize < state.size || !state.entryDurable) {
        this.violations.push(`${path.basename(filePath)} written while ${path.basename(other)} had ${state.size - state.durableSize} unsynced bytes${state.entryDurable ? '' : ' and an unsynced directory entry'}`);
      }
    }
  }

  open(filePath: string, flags: OpenFlags): FileHandle {
    const handle = this.inner.open(filePath, flags);
    const seg = this.#segment(filePath);
    if (seg === null) return handle;
    let state = this.#segments.get(filePath);
    if (state === undefined || flags === 'w+') {
      const size = handle.sizeBytes();
      state = { size, durableSize: size, entryDurable: flags !== 'w+' };
      this.#segments.set(filePath, state);
    }
    const tracked = state;
    return {
      path: handle.path,
      write: (data, position) => {
        if (data.byteLength > 0) this.#checkWrite(filePath, seg.base);
        handle.write(data, position);
        tracked.size = Math.max(tracked.size, position + data.byteLength);
      },
      read: (target, offset, length, position) => handle.read(target, offset, length, position),
      sizeBytes: () => handle.sizeBytes(),
      truncate: (sizeBytes) => {
        handle.truncate(sizeBytes);
        tracked.size = sizeBytes;
        tracked.durableSize = Math.min(tracked.durableSize, sizeBytes);
      },
      datasync: async () => {
        const covered = tracked.size;
        await handle.datasync();
        tracked.durableSize = Math.max(tracked.durableSize, Math.min(covered, tracked.size));
      },
      datasyncSync: () => {
        handle.datasyncSync();
        tracked.durableSize = tracked.size;
      },
      identity: () => handle.identity(),
      keepOpen: () => handle.keepOpen(),
      close: () => handle.close(),
    };
  }

  openLocked(filePath: string): FileHandle | null {
    return this.inner.openLocked(filePath);
  }

  async fsyncDir(dir: string): Promise<void> {
    const created = [...this.#segments].filter(([file, state]) => path.dirname(file) === dir && !state.entryDurable).map(([, state]) => state);
    await this.inner.fsyncDir(dir);
    for (const state of created) state.entryDurable = true;
  }

  async rename(from: string, to: string): Promise<void> {
    await this.inner.rename(from, to);
    this.#segments.delete(from);
  }

  async unlink(filePath: string): Promise<void> {
    await this.inner.unlink(filePath);
    this.#segments.delete(filePath);
  }

  stat(filePath: string): Promise<FileStat | null> {
    return this.inner.stat(filePath);
  }
  readdir(dir: string): Promise<string[]> {
    return this.inner.readdir(dir);
  }
  mkdirp(dir: string): Promise<void> {
    return this.inner.mkdirp(dir);
  }
  removeTree(dir: string): Promise<void> {
    return this.inner.removeTree(dir);
  }
  readFile(filePath: string): Promise<Uint8Array> {
    return this.inner.readFile(filePath);
  }
  writeFileAtomic(filePath: string, data: Uint8Array): Promise<void> {
    return this.inner.writeFileAtomic(filePath, data);
  }

  /** The machine lost power: the inner disk falls back, and every tracked file is as durable as it now is. */
  crash(rng: Rng, loss: CrashLoss): void {
    this.inner.crash({ rng, loss });
    this.#segments.clear();
  }
}

/** Yields to the event loop `n` times (flush rounds on the simulated disk run in microtasks and immediates). */
async function yieldTimes(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

t.test('a rolled segment is held in memory, readable, until the one before it is durable', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const log = await PartitionLog.open({ dir: DIR, config: config({ 'segment.bytes': '2000' }), fs, clock });
  const batches = Array.from({ length: 12 }, (_, i) => makeBatch(1, 400, 5000 + i * 10));
  for (const batch of batches) log.append(batch, { leaderEpoch: 0 });
  const bases = log.segmentBaseOffsets();
  t.ok(bases.length >= 3, `rolled into ${bases.length} segments`);
  t.same(await logFileNames(fs), [segmentFileName(0, LOG_SUFFIX)], 'only the first segment has a file: nothing before it is durable yet');
  t.ok(log.writtenEndOffset < log.logEndOffset, `written end ${log.writtenEndOffset} < log end ${log.logEndOffset}`);
  for (let offset = 0; offset < 12; offset++) {
    const read = await log.read(offset, 1);
    t.equal(hex(read.records[0]!), hex(batches[offset]!), `offset ${offset} reads back while pending`);
  }
  t.match(await log.offsetForTimestamp(5000 + 105), { offset: 11, timestamp: 5110 }, 'a timestamp lookup finds a record in a pending segment');
  await log.waitWritten(log.logEndOffset);
  t.same(await logFileNames(fs), bases.map((b) => segmentFileName(b, LOG_SUFFIX)), 'each pending segment got its file, in order');
  t.equal(log.writtenEndOffset, log.logEndOffset);
  for (let offset = 0; offset < 12; offset++) {
    const read = await log.read(offset, 1);
    t.equal(read.records.length, 1, `offset ${offset} reads back from the files`);
  }
  await log.close();
});

t.test('power losses at any moment: every write waits for the segment before it, and recovery never cries corruption', async (t) => {
  for (const [fsync, loss] of [['always', 'prefix'], ['interval', 'prefix'], ['always', 'pages'], ['interval', 'pages']] as const) {
    const rng = seededRng((fsync === 'always' ? 91 : 92) + (loss === 'pages' ? 10 : 0));
    const probe = new RollOrderProbe(new SimulatedFileSystem());
    const clock = new ManualClock();
    // Lost pages need unsynced runs longer than a page: bigger segments, batches and flush groups for that model.
    const pages = loss === 'pages';
    const cfg = config({ fsync, 'segment.bytes': pages ? '24000' : '1500', 'flush.messages': pages ? '40' : '3' });
    // The process dies with the power: the abandoned log must not carry on writing to the disk the next one recovers.
    let view = new ProcessDisk(probe);
    let log = await PartitionLog.open({ dir: DIR, config: cfg, fs: view, clock });
    const model: Uint8Array[] = [];
    let corrupt = 0;
    let rounds = 0;
    let setAside = 0;
    for (; rounds < (pages ? 80 : 30); rounds++) {
      let acknowledged = log.logEndOffset;
      for (let i = 0, n = 1 + rng.int(pages ? 25 : 15); i < n; i++) {
        const batch = pages ? noisyBatch(rng, 100 + rng.int(2500), 1000 + rounds) : makeBatch(1, 100 + rng.int(500), 1000 + rounds);
        const info = log.append(batch, { leaderEpoch: 0 });
        model[info.baseOffset] = batch;
        log.waitDurable(info.lastOffset + 1).then(() => { acknowledged = Math.max(acknowledged, info.lastOffset + 1); }, () => undefined);
        // Fewer pauses with pages lost, so the power often goes while several pages are unsynced.
        if (rng.int(pages ? 20 : 3) === 0) await yieldTimes(rng.int(pages ? 2 : 4));
      }
      // With pages lost, half the cuts come at once, before the flushes this burst started have run.
      const pause = rng.int(pages ? 2 : 6);
      if (!pages || pause > 0) await yieldTimes(pause);
      const durable = acknowledged;
      view.die();
      probe.crash(rng, loss);
      view = new ProcessDisk(probe);
      try {
        log = await PartitionLog.open({ dir: DIR, config: cfg, fs: view, clock });
        if (log.openReport.setAside?.lostPages === true) setAside += 1;
      } catch (err) {
        corrupt += 1;
        t.fail(`round ${rounds}: ${String(err)}`);
        break;
      }
      if (log.logEndOffset < durable) t.fail(`round ${rounds}: log end ${log.logEndOffset} lost acknowledged offsets below ${durable}`);
      model.length = log.logEndOffset;
    }
    t.equal(corrupt, 0, `fsync=${fsync}, ${loss} lost: ${rounds} power losses, never reported as corruption`);
    t.same(probe.violations, [], `fsync=${fsync}, ${loss} lost: no segment was written while one before it was not durable`);
    if (loss === 'pages') t.ok(setAside > 0, `fsync=${fsync}: ${setAside} of the power losses left valid batches after a lost page, cut and set aside`);
    let mismatches = 0;
    for (let offset = log.logStartOffset; offset < log.logEndOffset; offset++) {
      const read = await log.read(offset, 1);
      if (hex(read.records[0]!) !== hex(model[offset]!)) mismatches++;
    }
    t.equal(mismatches, 0, `fsync=${fsync}: all ${log.logEndOffset} surviving offsets read back what was appended`);
    t.ok(log.segmentCount > 5, `fsync=${fsync}: ${log.segmentCount} segments, so rolls were crossed`);
    await log.close();
  }
});

/* ------------------------------------------------------------- runnel recover */

t.test('recover: inspection, the plan and a cut that sets aside (never deletes) what it removes', async (t) => {
  const sound = await fortyDurableBatches();
  const healthy = await inspectPartition(sound.fs, DIR);
  t.equal(healthy.damage, null, 'a sound log has no damage');
  t.same({ records: healthy.good.records, batches: healthy.good.batches, end: healthy.goodEndOffset }, { records: 40, batches: 40, end: 40 });
  t.throws(() => planCut(sound.fs, healthy, 40), { name: 'LogSurgeryError', message: /nothing to cut/ });

  const s = await fortyDurableBatches();
  const first = path.join(DIR, s.names[0]!);
  const inFirst = batchesIn(await s.fs.readFile(first));
  const last = inFirst.at(-1)!;
  corruptByte(s.fs, first, last.position + 100);
  const original = new Map<string, Uint8Array>();
  for (const name of s.names) original.set(name, await s.fs.readFile(path.join(DIR, name)));
  const inspection = await inspectPartition(s.fs, DIR);
  const damagedOffset = inFirst.length - 1;
  t.match(inspection.damage, { file: s.names[0], position: last.position, offset: damagedOffset, reason: 'CRC-32C mismatch', claimed: { baseOffset: damagedOffset, lastOffset: damagedOffset, recordCount: 1 } });
  t.same(inspection.good, { batches: damagedOffset, records: damagedOffset, bytes: last.position }, 'the good prefix');
  t.match(inspection.afterDamage, { batches: 40 - inFirst.length, records: 40 - inFirst.length, unreadableBytes: last.sizeBytes }, 'valid batches after the damage, found by resynchronising');
  t.throws(() => planCut(s.fs, inspection, damagedOffset + 1), { name: 'LogSurgeryError', message: new RegExp(`--truncate-at ${damagedOffset}`) });
  t.throws(() => planCut(s.fs, inspection, -1), { name: 'LogSurgeryError' });

  const earlier = planCut(s.fs, inspection, 3);
  t.match(earlier, { logEndOffset: 3, cutPosition: inFirst[3]!.position, setAside: { records: 40 - 4 } }, 'a cut below the damage sets aside good batches too');
  const plan = planCut(s.fs, inspection, damagedOffset);
  t.match(plan, { logEndOffset: damagedOffset, cutPosition: last.position, setAside: { batches: 40 - inFirst.length, records: 40 - inFirst.length }, unreadableBytes: last.sizeBytes });
  t.same(plan.laterSegments.map((seg) => seg.name), s.names.slice(1));
  t.same(await snapshot(s.fs), new Map([...original].map(([k, v]) => [k, Buffer.from(v).toString('hex')])), 'planning changed nothing');

  const done = await executeCut(s.fs, inspection, plan, Date.UTC(2026, 10, 29, 10, 15, 0));
  t.equal(done.setAsideDir, `${DIR}.set-aside-20261129T101500Z`);
  s.fs.crash(); // everything it did is durable
  t.same(Buffer.from(await s.fs.readFile(path.join(done.setAsideDir, s.names[0]!))), Buffer.from(original.get(s.names[0]!)!.subarray(last.position)), 'the tail, byte for byte');
  for (const name of s.names.slice(1)) t.same(Buffer.from(await s.fs.readFile(path.join(done.setAsideDir, name))), Buffer.from(original.get(name)!), `${name}, whole`);
  t.match(new TextDecoder().decode(await s.fs.readFile(path.join(done.setAsideDir, SET_ASIDE_MANIFEST))), new RegExp(`truncate.at=${damagedOffset}\\n[^]*valid.records=${40 - inFirst.length}\\n`));
  const log = await PartitionLog.open({ dir: DIR, config: config({ fsync: 'always' }), fs: s.fs, clock: s.clock });
  t.equal(log.logEndOffset, damagedOffset, 'the broker opens the log, which ends at the cut');
  t.equal((await log.read(0, 1 << 20)).records.length, damagedOffset);
  await log.close();

  // A segment whose predecessor runs past its base goes whole.
  const o = await fortyDurableBatches();
  const lastOfFirst = batchesIn(await o.fs.readFile(path.join(DIR, o.names[0]!))).at(-1)!;
  writeAt(o.fs, path.join(DIR, o.names[0]!), lastOfFirst.position + 7, new Uint8Array([12]));
  const overlapping = await inspectPartition(o.fs, DIR);
  t.match(overlapping.damage, { file: o.names[1], position: 0, offset: 13 });
  const overlapPlan = planCut(o.fs, overlapping, 13);
  t.match(overlapPlan, { cutSegment: { name: o.names[0] }, logEndOffset: 13 }, 'the cut keeps segment 0 whole');
  t.same(overlapPlan.laterSegments.map((seg) => seg.name), o.names.slice(1), 'and sets aside the overlapped segment and the rest');
});

/**
 * A file system that dies (every call throws) after `budget` mutating calls:
 * the process running the cut was killed there.
 */
function dyingAfter(inner: SimulatedFileSystem, budget: number): FileSystem {
  let left = budget;
  const step = (): void => {
    if (left-- <= 0) throw Object.assign(new Error('killed'), { code: 'EKILLED' });
  };
  return {
    open: (filePath, flags) => {
      step();
      const handle = inner.open(filePath, flags);
      return {
        path: handle.path,
        write: (data, position) => { step(); handle.write(data, position); },
        read: (target, offset, length, position) => handle.read(target, offset, length, position),
        sizeBytes: () => handle.sizeBytes(),
        truncate: (sizeBytes) => { step(); handle.truncate(sizeBytes); },
        datasync: async () => { step(); await handle.datasync(); },
        datasyncSync: () => { step(); handle.datasyncSync(); },
        identity: () => handle.identity(),
        keepOpen: () => handle.keepOpen(),
        close: () => handle.close(),
      };
    },
    openLocked: (p) => inner.openLocked(p),
    stat: (p) => inner.stat(p),
    readdir: (d) => inner.readdir(d),
    mkdirp: async (d) => { step(); await inner.mkdirp(d); },
    rename: async (a, b) => { step(); await inner.rename(a, b); },
    unlink: async (p) => { step(); await inner.unlink(p); },
    removeTree: async (d) => { step(); await inner.removeTree(d); },
    fsyncDir: async (d) => { step(); await inner.fsyncDir(d); },
    readFile: (p) => inner.readFile(p),
    writeFileAtomic: async (p, data) => { step(); await inner.writeFileAtomic(p, data); },
  };
}

/** Every byte of every original segment is in the partition or in some set-aside directory. */
async function everyByteSomewhere(fs: SimulatedFileSystem, original: Map<string, Uint8Array>, cutPosition: number): Promise<string[]> {
  const missing: string[] = [];
  const asideDirs = (await fs.readdir('/data')).filter((name) => name.startsWith('orders-0.set-aside-')).map((name) => `/data/${name}`);
  const find = async (dir: string, name: string): Promise<Uint8Array | null> => ((await fs.stat(path.join(dir, name))) === null ? null : fs.readFile(path.join(dir, name)));
  const [firstName, ...laterNames] = [...original.keys()];
  const firstBytes = original.get(firstName!)!;
  const kept = await find(DIR, firstName!);
  if (kept === null || Buffer.compare(Buffer.from(kept.subarray(0, cutPosition)), Buffer.from(firstBytes.subarray(0, cutPosition))) !== 0) missing.push(`${firstName} before the cut`);
  const tailInPlace = kept !== null && Buffer.compare(Buffer.from(kept), Buffer.from(firstBytes)) === 0;
  let tailAside = false;
  for (const dir of asideDirs) {
    const tail = await find(dir, firstName!);
    if (tail !== null && Buffer.compare(Buffer.from(tail), Buffer.from(firstBytes.subarray(cutPosition))) === 0) tailAside = true;
  }
  if (!tailInPlace && !tailAside) missing.push(`${firstName} from the cut`);
  for (const name of laterNames) {
    let found = false;
    for (const dir of [DIR, ...asideDirs]) {
      const copy = await find(dir, name);
      if (copy !== null && Buffer.compare(Buffer.from(copy), Buffer.from(original.get(name)!)) === 0) found = true;
    }
    if (!found) missing.push(name);
  }
  return missing;
}

/** The offsets a consumer reading `log` from its start gets (one-record batches: one offset each), up to the first error. */
async function servedOffsets(log: PartitionLog): Promise<number[]> {
  const offsets: number[] = [];
  try {
    for (let at = log.logStartOffset; at < log.logEndOffset;) {
      const { records } = await log.read(at, 1 << 20);
      if (records.length === 0) break;
      for (const batch of records) {
        const base = Number(Buffer.from(batch.buffer, batch.byteOffset, 8).readBigInt64BE(0));
        offsets.push(base);
        at = base + 1;
      }
    }
  } catch {
    // a read that meets the damage fails: what was served before it is what counts
  }
  return offsets;
}

/** Null when `offsets` run from 0 without a gap, else where the first gap is. */
function holeIn(offsets: number[]): string | null {
  for (let i = 0; i < offsets.length; i++) if (offsets[i] !== i) return `after offset ${i - 1} comes ${offsets[i]}`;
  return null;
}

/** 40 one-record batches over several segments, closed cleanly (clean-shutdown marker, recovery point at the end). */
async function fortyCleanlyClosed(): Promise<{ fs: SimulatedFileSystem; clock: ManualClock; names: string[] }> {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const log = await PartitionLog.open({ dir: DIR, config: config({ fsync: 'always' }), fs, clock });
  for (let i = 0; i < 40; i++) log.append(makeBatch(1, 330, 1000 + i), { leaderEpoch: 0 });
  await log.flush();
  await log.close();
  fs.crash();
  return { fs, clock, names: await logFileNames(fs) };
}

const CUT_SCENARIOS = [
  { label: 'damaged log, cut at the damage', damaged: true, clean: false },
  { label: 'sound log after a crash, cut at 5', damaged: false, clean: false },
  { label: 'sound log closed cleanly, cut at 5', damaged: false, clean: true },
] as const;

t.test('recover: killed at any step of a cut, every byte is still somewhere, the broker never serves a hole, and running it again finishes the job', async (t) => {
  const configFor = (): LogConfig => config({ fsync: 'always' });
  for (const scenario of CUT_SCENARIOS) {
    let finished = false;
    for (let budget = 0; !finished && budget < 200; budget++) {
      const s = scenario.clean ? await fortyCleanlyClosed() : await fortyDurableBatches();
      const first = path.join(DIR, s.names[0]!);
      if (scenario.damaged) {
        const last = batchesIn(await s.fs.readFile(first)).at(-1)!;
        corruptByte(s.fs, first, last.position + 100);
        await syncFile(s.fs, first); // the damage is on disk: the crash below must not undo it
      }
      const original = new Map<string, Uint8Array>();
      for (const name of s.names) original.set(name, await s.fs.readFile(path.join(DIR, name)));
      const inspection = await inspectPartition(s.fs, DIR);
      const plan = planCut(s.fs, inspection, scenario.damaged ? inspection.damage!.offset : 5);
      const at = `${scenario.label}, killed after ${budget} steps`;
      finished = await executeCut(dyingAfter(s.fs, budget), inspection, plan, 1_800_000_000_000).then(() => true, (err: unknown) => {
        if ((err as { code?: string }).code !== 'EKILLED') throw err;
        return false;
      });
      s.fs.crash({ rng: seededRng(budget) });
      const missing = await everyByteSomewhere(s.fs, original, plan.cutPosition);
      if (missing.length > 0) t.fail(`${at}: lost ${missing.join(', ')}`);

      // The broker starts here: a cut in progress keeps the partition offline; otherwise it serves no hole.
      const cutInProgress = (await s.fs.stat(path.join(DIR, CUT_IN_PROGRESS_FILE))) !== null;
      const broker = await LogManager.open({ dataDir: '/data', fs: s.fs, clock: s.clock, configFor, recoveryThreads: 0 });
      const served = broker.get('orders', 0);
      if (cutInProgress) {
        if (served !== undefined) t.fail(`${at}: the broker served a partition with a cut in progress`);
        const offline = broker.offline()[0]?.error;
        if (!(offline instanceof InterruptedCutError)) t.fail(`${at}: offline for the wrong reason: ${String(offline)}`);
      } else if (served !== undefined) {
        const hole = holeIn(await servedOffsets(served));
        if (hole !== null) t.fail(`${at}: the broker serves a hole: ${hole}`);
        if (served.logEndOffset !== 40 && served.logEndOffset !== plan.logEndOffset) t.fail(`${at}: the broker's log ends at ${served.logEndOffset}`);
      }
      await broker.close();
      // Even a broker that ignored the marker would find a prefix of the log, never a hole.
      const ignoring = await PartitionLog.open({ dir: DIR, config: configFor(), fs: s.fs, clock: s.clock }).catch(() => null);
      if (ignoring !== null) {
        const hole = holeIn(await servedOffsets(ignoring));
        if (hole !== null) t.fail(`${at}: a log opened past the marker has a hole: ${hole}`);
        await ignoring.close();
      }

      // Running the same command again (as the operator would) completes the cut.
      if (!finished) {
        const again = await recoverPartition({ partitionDir: DIR, truncateAt: plan.truncateAt, execute: true }, { fs: s.fs, clock: s.clock }).catch((err: unknown) => err);
        if (again instanceof Error) t.fail(`${at}: running it again failed: ${again.message}`);
      }
      if (await s.fs.stat(path.join(DIR, CUT_IN_PROGRESS_FILE))) t.fail(`${at}: the marker is still there after running it again`);
      const missingAfter = await everyByteSomewhere(s.fs, original, plan.cutPosition);
      if (missingAfter.length > 0) t.fail(`${at}, run again: lost ${missingAfter.join(', ')}`);
      const restarted = await LogManager.open({ dataDir: '/data', fs: s.fs, clock: s.clock, configFor, recoveryThreads: 0 });
      const log = restarted.get('orders', 0);
      if (log === undefined) t.fail(`${at}: offline after running it again: ${String(restarted.offline()[0]?.error)}`);
      else {
        const offsets = await servedOffsets(log);
        if (log.logEndOffset !== plan.logEndOffset || holeIn(offsets) !== null || offsets.length !== plan.logEndOffset) {
          t.fail(`${at}: after running it again the log ends at ${log.logEndOffset} and serves ${offsets.length} offsets (${holeIn(offsets) ?? 'no hole'}), not ${plan.logEndOffset}`);
        }
      }
      await restarted.close();
      if (finished) t.pass(`${scenario.label}: a cut takes ${budget} file system steps; killed after each of 0..${budget - 1}, nothing was lost or served across a hole, and a second run finished it`);
    }
    t.ok(finished, `${scenario.label}: the cut completes within the step budget`);
  }
});

t.test('recover: an interrupted cut is reported, refuses another cut, and is finished by the same command', async (t) => {
  const s = await fortyCleanlyClosed();
  const inspection = await inspectPartition(s.fs, DIR);
  const plan = planCut(s.fs, inspection, 5);
  t.same(plan.laterSegments.length >= 3, true, 'several later segments to move');
  // The kill lands between two moves of later segments (the second rename of the second segment to go).
  s.fs.injectFault('rename', `/${plan.laterSegments.at(-2)!.name}`, 1);
  await t.rejects(executeCut(s.fs, inspection, plan, 1_800_000_000_000), { code: 'EIO' });
  t.same(await logFileNames(s.fs), [s.names[0], ...s.names.slice(1, -1)], 'the newest segment went first: the partition holds a prefix of the log');
  t.equal(await s.fs.stat(path.join(DIR, CLEAN_SHUTDOWN_FILE)), null, 'the clean-shutdown marker went before anything moved');
  t.match(decodePartitionMeta(await s.fs.readFile(path.join(DIR, PARTITION_META_FILE))), { recoveryPoint: 0 }, 'and the recovery point dropped to the cut segment');

  const report = await recoverPartition({ partitionDir: DIR, execute: false }, { fs: s.fs, clock: s.clock });
  t.match(report, { interrupted: { plan: { truncateAt: 5 } }, plan: { truncateAt: 5 }, done: null }, 'run without options, it reports the interrupted cut');
  await t.rejects(recoverPartition({ partitionDir: DIR, truncateAt: 3, execute: true }, { fs: s.fs, clock: s.clock }),
    { name: 'LogSurgeryError', message: /a cut of this log at offset 5 was interrupted; finish it first: runnel recover \/data\/orders-0 --truncate-at 5 --execute/ });
  s.clock.advance(1000);
  const finished = await recoverPartition({ partitionDir: DIR, truncateAt: 5, execute: true }, { fs: s.fs, clock: s.clock });
  t.equal(finished.done?.setAsideDir, report.interrupted && `/data/${report.interrupted.setAsideDir}`, 'into the set-aside directory the first run began');
  t.same((await s.fs.readdir('/data')).filter((name) => name.includes('.set-aside-')).length, 1, 'one set-aside directory, not two');
  t.same(await logFileNames(s.fs), [s.names[0]], 'the cut segment alone stays');
  const manifest = new TextDecoder().decode(await s.fs.readFile(path.join(finished.done!.setAsideDir, SET_ASIDE_MANIFEST)));
  const files = [s.names[0]!, ...s.names.slice(1).flatMap((name) => [name, name.replace('.log', '.index'), name.replace('.log', '.timeindex')])].sort();
  t.match(manifest, `\nfiles=${files.join(',')}\n`, 'the note lists the tail and every later segment\'s files');
  const log = await PartitionLog.open({ dir: DIR, config: config({ fsync: 'always' }), fs: s.fs, clock: s.clock });
  t.equal(log.logEndOffset, 5);
  t.same(await servedOffsets(log), [0, 1, 2, 3, 4]);
  await log.close();
});

t.test('set-aside directories: never named like a partition, never opened by the broker', async (t) => {
  const s = await fortyCleanlyClosed();
  const cutAt = async (offset: number): Promise<string> => {
    const inspection = await inspectPartition(s.fs, DIR);
    return (await executeCut(s.fs, inspection, planCut(s.fs, inspection, offset), Date.UTC(2026, 10, 29, 10, 15, 0))).setAsideDir;
  };
  const firstAside = await cutAt(30);
  const secondAside = await cutAt(20); // the same second
  t.equal(firstAside, `${DIR}.set-aside-20261129T101500Z`);
  t.equal(secondAside, `${DIR}.set-aside-20261129T101500Z.2`, 'a second one in the same second');
  for (const aside of [firstAside, secondAside]) {
    const name = path.basename(aside);
    t.equal(parsePartitionDirName(name), null, `${name} does not parse as a partition directory`);
    t.ok(isSetAsideDirName(name), `${name} is recognised as set aside`);
  }
  t.notOk(isSetAsideDirName('orders-0'), 'a partition directory is not');
  t.match(topicNameProblem('orders-0.set-aside-20261129T101500Z'), /set-aside/, 'and no topic may take such a name');

  // What an earlier version named a second directory in one second ("…Z-2"): it parses as partition 2, and the
  // broker used to open it, write indexes into it and cut its damaged batch as a torn tail.
  const legacy = '/data/orders-0.set-aside-20261129T101500Z-2';
  await s.fs.mkdirp(legacy);
  const damaged = makeBatch(3, 500, 1000);
  damaged[200]! ^= 0x10;
  const file = s.fs.open(`${legacy}/00000000000000000005.log`, 'w+');
  file.write(damaged, 0);
  await file.datasync();
  file.close();
  t.same(parsePartitionDirName(path.basename(legacy)), { topic: 'orders-0.set-aside-20261129T101500Z', partition: 2 });
  const before = new Map<string, string>();
  for (const aside of [firstAside, secondAside, legacy]) for (const name of await s.fs.readdir(aside)) before.set(`${aside}/${name}`, hex(await s.fs.readFile(`${aside}/${name}`)));
  const logged: { msg: string; fields: Record<string, unknown> }[] = [];
  const logger = { info: (fields: Record<string, unknown>, msg: string) => logged.push({ msg, fields }), warn: () => undefined, error: () => undefined };
  const broker = await LogManager.open({ dataDir: '/data', fs: s.fs, clock: s.clock, configFor: () => config(), recoveryThreads: 0, logger });
  t.same([...broker.all()].map(({ topic, partition }) => `${topic}-${partition}`), ['orders-0'], 'the broker opens the partition only');
  t.same(broker.offline(), [], 'and tries none of the set-aside directories');
  await broker.close();
  const after = new Map<string, string>();
  for (const aside of [firstAside, secondAside, legacy]) for (const name of await s.fs.readdir(aside)) after.set(`${aside}/${name}`, hex(await s.fs.readFile(`${aside}/${name}`)));
  t.same(after, before, 'not a byte in them changed, no file added');
  const line = logged.find(({ msg }) => msg.includes('set-aside'));
  t.ok(line, 'the broker logs that they are there');
  t.same(line?.fields.setAside, [firstAside, secondAside, legacy].map((p) => path.basename(p)).sort(), 'naming each');
});
