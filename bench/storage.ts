/**
 * Storage engine throughput against the raw file system, measured in the
 * same run on the same disk: what the partition log costs on top of plain
 * `fs.writeSync` / `fs.readSync` of the very same bytes. Prints figures and
 * ratios, never fails on time.
 *
 * Run: npx tsc -p tsconfig.build.json && node dist/bench/storage.js [--quick]
 *      [--runs N] [--append-mb MB] [--recovery-mb MB] [--compaction-mb MB]
 *      [--roll-mb MB] [--only append,recovery,compaction,rolls] [--dir PATH]
 *
 * - append: MB/s and batches/s at 1 KiB, 16 KiB and 256 KiB batches through
 *   `PartitionLog.append` (validation with CRC-32C, offset stamping, index
 *   upkeep, one positional write), beside `fs.writeSync` of the same batch
 *   bytes to a plain file. No fsync in either (flush.ms = never): this is
 *   the write path into the page cache.
 * - read: `PartitionLog.read` by offset, 1 MiB fetches from offset 0 to the
 *   end of a log of 16 KiB batches (page cache warm), beside `fs.readSync` of
 *   the same file in the same chunk size into a fresh buffer per read, as
 *   the log does.
 * - recovery: an unclean open of a ~1 GB log (no clean-shutdown marker, no
 *   recovery point: every byte scanned, CRC-32C checked on piscina workers).
 * - compaction: one pass over a log of 1 KiB records with 100k keys
 *   (about a quarter survive), chunk work on one cleaner worker thread.
 * - rolls: appends of 16 KiB batches to logs with small segments (1 MiB and
 *   8 MiB) and the default flush.ms (1 s), yielding to the event loop every
 *   256 KiB as a broker does between requests, on the real disk: every roll
 *   waits for the old segment's fsync (the roll barrier), so this measures
 *   what rolling costs, and the most bytes pending segments held meanwhile
 *   (log end - written end, sampled), until everything is in the files.
 *
 * Each figure is the median of several runs (the machine is shared; the
 * spread is printed next to it). Everything happens in a temporary
 * directory that is deleted at the end.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBatch } from '../protocol/batch/builder.js';
import { BATCH_OFFSET_LAST_OFFSET_DELTA, readBatchHeader, readI64, verifyBatchCrc } from '../protocol/batch/header.js';
import { systemClock } from '../broker/world/clock.js';
import { realFileSystem } from '../broker/world/file-system.js';
import { seededRng } from '../broker/world/rng.js';
import { WorkerCleanerRunner } from '../broker/storage/cleaner-runner.js';
import { parseLogConfig, type LogConfig } from '../broker/storage/log-config.js';
import { PartitionLog } from '../broker/storage/partition-log.js';
import { CLEAN_SHUTDOWN_FILE, PARTITION_META_FILE } from '../broker/storage/segment-names.js';
import { WorkerScanner } from '../broker/storage/segment-scanner.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
function numberArg(name: string, fallback: number): number {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number`);
  return value;
}
const RUNS = numberArg('--runs', quick ? 3 : 5);
const APPEND_BYTES = numberArg('--append-mb', quick ? 64 : 256) * 1024 * 1024;
const RECOVERY_BYTES = numberArg('--recovery-mb', quick ? 256 : 1024) * 1024 * 1024;
const COMPACTION_BYTES = numberArg('--compaction-mb', quick ? 64 : 256) * 1024 * 1024;
const ROLL_BYTES = numberArg('--roll-mb', quick ? 64 : 256) * 1024 * 1024;
const only = args.includes('--only') ? (args[args.indexOf('--only') + 1] ?? '').split(',') : null;
const RECORD_VALUE_BYTES = 1000;
const READ_FETCH_BYTES = 1024 * 1024;
const MB = 1e6;

const root = fs.mkdtempSync(path.join(args.includes('--dir') ? args[args.indexOf('--dir') + 1] ?? os.tmpdir() : os.tmpdir(), 'runnel-bench-storage-'));
let dirSeq = 0;
const freshDir = (): string => path.join(root, `t-${dirSeq++}`);

function config(overrides: Record<string, string> = {}): LogConfig {
  // No fsync on the measured path, so the log and the raw file both measure the page cache.
  return parseLogConfig({ 'flush.ms': '9223372036854775807', ...overrides });
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function spread(values: number[]): string {
  return `${fmt(Math.min(...values))}..${fmt(Math.max(...values))}`;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

/** One batch of `batchBytes` (within a few bytes), records of ~1 KB of incompressible bytes. */
function makeBatch(batchBytes: number, seed: number): Uint8Array {
  const records = Math.max(1, Math.round(batchBytes / 1024));
  const build = (valueBytes: number): Uint8Array => {
    const rng = seededRng(seed);
    const recs = [];
    for (let i = 0; i < records; i++) {
      const value = new Uint8Array(valueBytes);
      for (let j = 0; j < valueBytes; j++) value[j] = rng.int(256);
      recs.push({ key: new TextEncoder().encode(`key-${100_000 + rng.int(900_000)}`), value });
    }
    return buildBatch(recs, { nowMs: Date.now() });
  };
  const guess = Math.max(1, Math.floor(batchBytes / records) - 24);
  return build(Math.max(1, guess + Math.floor((batchBytes - build(guess).byteLength) / records)));
}

async function openLog(dir: string, overrides: Record<string, string> = {}): Promise<PartitionLog> {
  return PartitionLog.open({ dir, config: config(overrides), fs: realFileSystem, clock: systemClock });
}

/**
 * Appends as the produce handler does: first waiting while the log holds its
 * share of memory for the disk (rolled segments pending an fsync). Read
 * loosely so the same file measures a build without that bound.
 */
async function appendWaiting(log: PartitionLog, batch: Uint8Array): Promise<boolean> {
  const bounded = log as unknown as { appendable?: boolean; waitAppendable?: () => Promise<void> };
  const wait = bounded.appendable === false;
  if (wait) await bounded.waitAppendable?.();
  log.append(batch, { leaderEpoch: 0 });
  return wait;
}

/** Bytes each contender writes or reads before the next one takes a turn: load changes hit all of them alike. */
const SLICE_BYTES = 8 * 1024 * 1024;

interface AppendRun {
  /** Seconds spent by each contender, over the same bytes. */
  logSeconds: number;
  rawSeconds: number;
  rawCrcSeconds: number;
  bytes: number;
  batches: number;
}

/**
 * One run: the log, a raw file, and a raw file whose writer first checks the
 * CRC-32C (the least any validating append must do) take turns appending the
 * same batch, a slice at a time. Returns the times and the log (for reads).
 */
async function appendRun(batch: Uint8Array, count: number): Promise<{ run: AppendRun; log: PartitionLog; dir: string; rawFile: string }> {
  const dir = freshDir();
  const log = await openLog(dir);
  const rawFile = path.join(root, `raw-${dirSeq++}.log`);
  const rawCrcFile = path.join(root, `raw-crc-${dirSeq++}.log`);
  const rawFd = fs.openSync(rawFile, 'w+');
  const rawCrcFd = fs.openSync(rawCrcFile, 'w+');
  const perSlice = Math.max(1, Math.floor(SLICE_BYTES / batch.byteLength));
  const run: AppendRun = { logSeconds: 0, rawSeconds: 0, rawCrcSeconds: 0, bytes: 0, batches: 0 };
  let position = 0;
  for (let done = 0, slice = 0; done < count; slice++) {
    const n = Math.min(perSlice, count - done);
    const contenders: (() => void)[] = [
      () => {
        const started = performance.now();
        for (let i = 0, at = position; i < n; i++, at += batch.byteLength) fs.writeSync(rawFd, batch, 0, batch.byteLength, at);
        run.rawSeconds += (performance.now() - started) / 1000;
      },
      () => {
        const started = performance.now();
        for (let i = 0; i < n; i++) log.append(batch, { leaderEpoch: 0 });
        run.logSeconds += (performance.now() - started) / 1000;
      },
      () => {
        const started = performance.now();
        for (let i = 0, at = position; i < n; i++, at += batch.byteLength) {
          if (!verifyBatchCrc(batch, 0, batch.byteLength)) throw new Error('bad CRC');
          fs.writeSync(rawCrcFd, batch, 0, batch.byteLength, at);
        }
        run.rawCrcSeconds += (performance.now() - started) / 1000;
      },
    ];
    // Rotate who goes first, so none always writes into the coolest page cache.
    for (let k = 0; k < contenders.length; k++) (contenders[(slice + k) % contenders.length] as () => void)();
    done += n;
    position += n * batch.byteLength;
  }
  run.bytes = position;
  run.batches = count;
  fs.closeSync(rawFd);
  fs.closeSync(rawCrcFd);
  fs.rmSync(rawCrcFile, { force: true });
  return { run, log, dir, rawFile };
}

/** Reads the whole log by offset and the raw file by position, taking turns a slice at a time. */
async function readRun(log: PartitionLog, rawFile: string): Promise<{ logSeconds: number; rawSeconds: number; bytes: number }> {
  const fd = fs.openSync(rawFile, 'r');
  const size = fs.fstatSync(fd).size;
  let logSeconds = 0;
  let rawSeconds = 0;
  let offset = log.logStartOffset;
  let logBytes = 0;
  let rawPosition = 0;
  while (offset < log.logEndOffset || rawPosition < size) {
    let started = performance.now();
    for (let sliceBytes = 0; sliceBytes < SLICE_BYTES && offset < log.logEndOffset;) {
      const result = await log.read(offset, READ_FETCH_BYTES);
      const last = result.records[result.records.length - 1] as Uint8Array;
      offset = readI64(last, 0) + new DataView(last.buffer, last.byteOffset).getInt32(BATCH_OFFSET_LAST_OFFSET_DELTA) + 1;
      sliceBytes += result.sizeBytes;
      logBytes += result.sizeBytes;
    }
    logSeconds += (performance.now() - started) / 1000;
    started = performance.now();
    for (let sliceBytes = 0; sliceBytes < SLICE_BYTES && rawPosition < size; sliceBytes += READ_FETCH_BYTES) {
      const want = Math.min(READ_FETCH_BYTES, size - rawPosition);
      const buffer = Buffer.allocUnsafe(want);
      fs.readSync(fd, buffer, 0, want, rawPosition);
      rawPosition += want;
    }
    rawSeconds += (performance.now() - started) / 1000;
  }
  fs.closeSync(fd);
  if (logBytes !== size) throw new Error(`the log read back ${logBytes} bytes, the raw file has ${size}`);
  return { logSeconds, rawSeconds, bytes: size };
}

async function benchAppendAndRead(): Promise<void> {
  console.log(`\nappend (${fmt(APPEND_BYTES / MB)} MB a run per contender, taking turns every ${SLICE_BYTES / 1024 / 1024} MiB; no fsync), median of ${RUNS} runs [min..max]`);
  console.log('batch       log MB/s            log batches/s   raw MB/s            raw+CRC MB/s   log/raw               log/(raw+CRC)');
  const readRuns: { logSeconds: number; rawSeconds: number; bytes: number }[] = [];
  for (const batchBytes of [1024, 16 * 1024, 256 * 1024]) {
    const batch = makeBatch(batchBytes, batchBytes);
    const count = Math.max(1, Math.floor(APPEND_BYTES / batch.byteLength));
    const runs: AppendRun[] = [];
    for (let r = 0; r < RUNS; r++) {
      const { run, log, dir, rawFile } = await appendRun(batch, count);
      runs.push(run);
      if (batchBytes === 16 * 1024) readRuns.push(await readRun(log, rawFile));
      await log.close();
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(rawFile, { force: true });
    }
    const logMb = runs.map((r) => r.bytes / MB / r.logSeconds);
    const rawMb = runs.map((r) => r.bytes / MB / r.rawSeconds);
    const rawCrcMb = runs.map((r) => r.bytes / MB / r.rawCrcSeconds);
    const ratios = runs.map((r) => r.rawSeconds / r.logSeconds);
    const crcRatios = runs.map((r) => r.rawCrcSeconds / r.logSeconds);
    console.log(
      `${(batch.byteLength / 1024).toFixed(1).padStart(6)} KiB  ` +
      `${fmt(median(logMb)).padStart(6)} [${spread(logMb)}]`.padEnd(28) +
      `${fmt(median(runs.map((r) => r.batches / r.logSeconds))).padStart(9)}     ` +
      `${fmt(median(rawMb)).padStart(6)} [${spread(rawMb)}]`.padEnd(28) +
      `${fmt(median(rawCrcMb)).padStart(6)}         ` +
      `${pct(median(ratios))} [${pct(Math.min(...ratios))}..${pct(Math.max(...ratios))}]`.padEnd(22) +
      `${pct(median(crcRatios))}`,
    );
  }
  const logRead = readRuns.map((r) => r.bytes / MB / r.logSeconds);
  const rawRead = readRuns.map((r) => r.bytes / MB / r.rawSeconds);
  const readRatios = readRuns.map((r) => r.rawSeconds / r.logSeconds);
  console.log(`\nread by offset (${READ_FETCH_BYTES / 1024} KiB fetches over a ${fmt(APPEND_BYTES / MB)} MB log of 16 KiB batches, page cache warm, taking turns with the raw reader)`);
  console.log(`log ${fmt(median(logRead))} MB/s [${spread(logRead)}]   raw ${fmt(median(rawRead))} MB/s [${spread(rawRead)}]   log/raw ${pct(median(readRatios))} [${pct(Math.min(...readRatios))}..${pct(Math.max(...readRatios))}]`);
}

async function benchRecovery(): Promise<void> {
  const dir = freshDir();
  const log = await openLog(dir, { 'segment.bytes': String(256 * 1024 * 1024) });
  const batch = makeBatch(16 * 1024, 99);
  const count = Math.floor(RECOVERY_BYTES / batch.byteLength);
  for (let i = 0; i < count; i++) await appendWaiting(log, batch);
  await log.close();
  const scanner = new WorkerScanner(Math.max(1, Math.min(4, os.availableParallelism())));
  const rates: number[] = [];
  let scannedBytes = 0;
  try {
    for (let run = 0; run < RUNS; run++) {
      // An unclean open with no recovery point: every segment is scanned.
      fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_FILE), { force: true });
      fs.rmSync(path.join(dir, PARTITION_META_FILE), { force: true });
      const started = performance.now();
      const reopened = await PartitionLog.open({ dir, config: config(), fs: realFileSystem, clock: systemClock, scanner });
      const seconds = (performance.now() - started) / 1000;
      scannedBytes = reopened.openReport.scannedBytes;
      rates.push(scannedBytes / MB / seconds);
      await reopened.close();
    }
  } finally {
    await scanner.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nrecovery scan (unclean open, ${fmt(scannedBytes / MB)} MB in 256 MiB segments, CRC on ${scanner.threads} worker threads, page cache warm)`);
  console.log(`${fmt(median(rates))} MB/s [${spread(rates)}]`);
}

async function benchCompaction(): Promise<void> {
  const runner = new WorkerCleanerRunner(1);
  const rates: number[] = [];
  const recordRates: number[] = [];
  let last = { bytesRead: 0, bytesWritten: 0, recordsRead: 0, recordsKept: 0 };
  try {
    for (let run = 0; run < Math.max(3, Math.ceil(RUNS / 2)); run++) {
      const dir = freshDir();
      const log = await openLog(dir, { 'cleanup.policy': 'compact', 'segment.bytes': String(64 * 1024 * 1024) });
      const rng = seededRng(run + 1);
      const value = new Uint8Array(RECORD_VALUE_BYTES).map(() => rng.int(256));
      const nowMs = Date.now();
      let written = 0;
      while (written < COMPACTION_BYTES) {
        const records = [];
        for (let i = 0; i < 16; i++) records.push({ key: new TextEncoder().encode(`user-${rng.int(100_000)}`), value });
        const batch = buildBatch(records, { nowMs });
        await appendWaiting(log, batch);
        written += batch.byteLength;
      }
      await appendWaiting(log, buildBatch([{ key: new TextEncoder().encode('last'), value }], { nowMs }));
      const started = performance.now();
      const result = await log.compact({ runner });
      const seconds = (performance.now() - started) / 1000;
      rates.push(result.bytesRead / MB / seconds);
      recordRates.push(result.stats.recordsRead / seconds);
      last = { bytesRead: result.bytesRead, bytesWritten: result.bytesWritten, recordsRead: result.stats.recordsRead, recordsKept: result.stats.recordsKept };
      await log.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await runner.close();
  }
  console.log(`\ncompaction (one pass over ${fmt(last.bytesRead / MB)} MB: ${fmt(last.recordsRead)} records of 1 KB, 100k keys, ${fmt(last.recordsKept)} kept, ${fmt(last.bytesWritten / MB)} MB written; 1 cleaner thread)`);
  console.log(`${fmt(median(rates))} MB/s [${spread(rates)}], ${fmt(median(recordRates))} records/s`);
}

async function benchRolls(): Promise<void> {
  const batch = makeBatch(16 * 1024, 7);
  const count = Math.max(1, Math.floor(ROLL_BYTES / batch.byteLength));
  console.log(`\nrolls (${fmt(ROLL_BYTES / MB)} MB of ${fmt(batch.byteLength / 1024, 1)} KiB batches a run, flush.ms 1000, a yield every 256 KiB, until all is in the files), median of ${RUNS} runs [min..max]`);
  console.log('segment      MB/s                 peak pending MiB     appends that waited');
  for (const segmentBytes of [1024 * 1024, 8 * 1024 * 1024]) {
    const rates: number[] = [];
    const peaks: number[] = [];
    const waits: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const dir = freshDir();
      const log = await openLog(dir, { 'segment.bytes': String(segmentBytes), 'flush.ms': '1000' });
      const bytesPerOffset = batch.byteLength / (readBatchHeader(batch).lastOffsetDelta + 1);
      let peak = 0;
      let waited = 0;
      const started = performance.now();
      for (let i = 0; i < count; i++) {
        // A fresh buffer per append, as a request's frame is (a build before the bound kept views of what it was given).
        if (await appendWaiting(log, new Uint8Array(batch))) waited += 1;
        if (i % 16 === 15) {
          peak = Math.max(peak, (log.logEndOffset - log.writtenEndOffset) * bytesPerOffset);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      await log.waitWritten(log.logEndOffset);
      const seconds = (performance.now() - started) / 1000;
      rates.push((count * batch.byteLength) / MB / seconds);
      peaks.push(peak / 1024 / 1024);
      waits.push(waited);
      await log.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    console.log(`${fmt(segmentBytes / 1024 / 1024).padStart(3)} MiB    ${`${fmt(median(rates))} [${spread(rates)}]`.padEnd(21)}${`${fmt(median(peaks))} [${spread(peaks)}]`.padEnd(21)}${fmt(median(waits))}`);
  }
}

async function main(): Promise<void> {
  console.log(`bench/storage: node ${process.version}, ${os.availableParallelism()} cores, temp dir ${root}${quick ? ' (quick)' : ''}`);
  const started = performance.now();
  try {
    const run = (name: string): boolean => only === null || only.includes(name);
    if (run('append')) await benchAppendAndRead();
    if (run('recovery')) await benchRecovery();
    if (run('compaction')) await benchCompaction();
    if (run('rolls')) await benchRolls();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await main();
