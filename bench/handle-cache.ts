/**
 * What the descriptor cache (broker/storage/handle-cache.ts) costs, on the
 * real disk. Figures only, never a verdict.
 *
 * - hot path: the same 1 KiB batches appended, then read back by offset,
 *   through a partition log on the plain file system and through one behind
 *   a HandleCache whose budget holds all its files (the broker's usual
 *   case: every use only moves the file to the front of the LRU). The two
 *   take turns a slice at a time, so load on a shared machine hits both.
 * - misses: reads by offset round-robin over 16 logs behind a budget of 4
 *   descriptors (every read closes an idle file and reopens another), and
 *   appends the same way, all in one turn of the event loop (past the
 *   overdraft every append also fdatasyncs the written file it closes, on
 *   the event loop: the worst case, more files written between flushes than
 *   the budget holds, with no turn for background syncs to finish), beside
 *   the same work with a budget that holds every file.
 * - steady requests: appends to 96 logs (288 files) behind a budget of 64,
 *   8 logs per request, one request per turn of the event loop (a broker
 *   taking Produce requests, fsync=interval): ns per append and how many
 *   fdatasyncs the cache ran in the background and on the event loop per
 *   1000 appends, beside a budget that holds every file.
 *
 * Each figure is the median of several runs, with the spread beside it. No
 * fsync in the hot path (flush.ms never): this is the page-cache write path.
 *
 *   npm run build && node dist/bench/handle-cache.js [--runs N] [--batches N]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildBatch } from '../protocol/batch/builder.js';
import { systemClock } from '../broker/world/clock.js';
import { realFileSystem, type FileSystem } from '../broker/world/file-system.js';
import { HandleCache } from '../broker/storage/handle-cache.js';
import { parseLogConfig } from '../broker/storage/log-config.js';
import { PartitionLog } from '../broker/storage/partition-log.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, batches: { type: 'string', default: '200000' } } });
const RUNS = Number(values.runs);
const BATCHES = Number(values.batches);
const SLICE = 5000;
const config = parseLogConfig({ 'flush.ms': String(2 ** 31 - 1), 'flush.messages': String(2 ** 31 - 1), 'segment.bytes': String(256 * 1024 * 1024) });
const batch = buildBatch(Array.from({ length: 8 }, (_v, i) => ({ key: null, value: new Uint8Array(100 + i) })), { nowMs: Date.now() });
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runnel-bench-handles-'));
let seq = 0;

function open(fileSystem: FileSystem): Promise<PartitionLog> {
  return PartitionLog.open({ dir: path.join(root, `log-${seq++}`), config, fs: fileSystem, clock: systemClock });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}..${Math.max(...xs).toFixed(0)}`;

/** ns per append and per read of one batch, plain and cached, taking turns. */
async function hotPathRun(): Promise<{ appendPlain: number; appendCached: number; readPlain: number; readCached: number }> {
  const plain = await open(realFileSystem);
  const cached = await open(new HandleCache(realFileSystem, { budget: 64 }));
  const ns = { appendPlain: 0, appendCached: 0, readPlain: 0, readCached: 0 };
  for (let done = 0; done < BATCHES; done += SLICE) {
    for (const [log, key] of [[plain, 'appendPlain'], [cached, 'appendCached']] as const) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < SLICE; i++) log.append(batch, { leaderEpoch: 0 });
      ns[key] += Number(process.hrtime.bigint() - started);
    }
  }
  for (let offset = 0; offset < plain.logEndOffset; offset += 8 * SLICE) {
    for (const [log, key] of [[plain, 'readPlain'], [cached, 'readCached']] as const) {
      const started = process.hrtime.bigint();
      for (let at = offset; at < Math.min(offset + 8 * SLICE, log.logEndOffset); at += 8) await log.read(at, batch.byteLength);
      ns[key] += Number(process.hrtime.bigint() - started);
    }
  }
  await plain.close();
  await cached.close();
  return { appendPlain: ns.appendPlain / BATCHES, appendCached: ns.appendCached / BATCHES, readPlain: ns.readPlain / BATCHES, readCached: ns.readCached / BATCHES };
}

/** ns per append and per read, round-robin over 16 logs, behind a budget that holds them all and one of 4 descriptors. */
async function missRun(): Promise<{ appendFits: number; appendThrashing: number; readFits: number; readThrashing: number }> {
  const count = Math.floor(BATCHES / 10);
  const result = { appendFits: 0, appendThrashing: 0, readFits: 0, readThrashing: 0 };
  for (const [budget, append, read] of [[64, 'appendFits', 'readFits'], [4, 'appendThrashing', 'readThrashing']] as const) {
    const cache = new HandleCache(realFileSystem, { budget });
    const logs = await Promise.all(Array.from({ length: 16 }, () => open(cache)));
    let started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) (logs[i % logs.length] as PartitionLog).append(batch, { leaderEpoch: 0 });
    result[append] = Number(process.hrtime.bigint() - started) / count;
    for (const log of logs) await log.flush();
    started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) await (logs[i % logs.length] as PartitionLog).read(8 * Math.floor(i / logs.length), batch.byteLength);
    result[read] = Number(process.hrtime.bigint() - started) / count;
    for (const log of logs) await log.close();
  }
  return result;
}

/** Appends in requests of 8 logs, one request per turn; ns per append and the cache's syncs per 1000 appends. */
async function steadyRun(): Promise<{ fits: number; thrashing: number; backgroundSyncs: number; blockingSyncs: number }> {
  const count = Math.floor(BATCHES / 10);
  const result = { fits: 0, thrashing: 0, backgroundSyncs: 0, blockingSyncs: 0 };
  for (const budget of [512, 64]) {
    const cache = new HandleCache(realFileSystem, { budget });
    const logs = await Promise.all(Array.from({ length: 96 }, () => open(cache)));
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
      (logs[i % logs.length] as PartitionLog).append(batch, { leaderEpoch: 0 });
      if (i % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
    }
    const ns = Number(process.hrtime.bigint() - started) / count;
    const stats = cache.stats();
    if (budget === 64) {
      result.thrashing = ns;
      result.backgroundSyncs = (1000 * stats.backgroundSyncs) / count;
      result.blockingSyncs = (1000 * stats.blockingSyncs) / count;
    } else {
      result.fits = ns;
    }
    for (const log of logs) await log.close();
  }
  return result;
}

try {
  const hot: Awaited<ReturnType<typeof hotPathRun>>[] = [];
  const misses: Awaited<ReturnType<typeof missRun>>[] = [];
  const steady: Awaited<ReturnType<typeof steadyRun>>[] = [];
  for (let run = 0; run < RUNS; run++) {
    hot.push(await hotPathRun());
    misses.push(await missRun());
    steady.push(await steadyRun());
  }
  const line = (label: string, plain: number[], cached: number[], names = ['plain', 'behind the cache']): string =>
    `${label}: ${names[0]} ${median(plain).toFixed(0)} ns (${spread(plain)}), ${names[1]} ${median(cached).toFixed(0)} ns (${spread(cached)}), ratio ${(median(cached) / median(plain)).toFixed(3)}`;
  console.log(`# descriptor cache: ${RUNS} runs, ${BATCHES} batches of ${batch.byteLength} B each, medians`);
  console.log(line('append, every file within the budget', hot.map((h) => h.appendPlain), hot.map((h) => h.appendCached)));
  console.log(line('read by offset, every file within the budget', hot.map((h) => h.readPlain), hot.map((h) => h.readCached)));
  const budgets = ['budget 64 (no miss)', 'budget 4 (every one a miss)'];
  console.log(line('read round-robin over 16 logs', misses.map((m) => m.readFits), misses.map((m) => m.readThrashing), budgets));
  console.log(line('append round-robin over 16 logs in one turn (past the overdraft each miss fdatasyncs a written file on the event loop)', misses.map((m) => m.appendFits), misses.map((m) => m.appendThrashing), budgets));
  console.log(line('append in requests of 8 over 96 logs, one request a turn', steady.map((m) => m.fits), steady.map((m) => m.thrashing), ['budget 512 (no miss)', 'budget 64 (every one a miss)']));
  console.log(`  budget 64: fdatasyncs per 1000 appends in the background ${median(steady.map((m) => m.backgroundSyncs)).toFixed(0)} (${spread(steady.map((m) => m.backgroundSyncs))}), on the event loop ${median(steady.map((m) => m.blockingSyncs)).toFixed(0)} (${spread(steady.map((m) => m.blockingSyncs))})`);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
