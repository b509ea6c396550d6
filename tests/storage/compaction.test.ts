/**
 * Log compaction (broker/storage/cleaner.ts and its compaction-* modules):
 * newest value per key, offsets unchanged, valid batches across cleaned
 * segments, tombstones and delete.retention.ms, min.compaction.lag.ms, the
 * active segment left alone, compact,delete, keyless records refused, a
 * crash or a failure between every step of the swap, readers during a swap,
 * the offset map filling up, chunking, worker threads and the LogManager's
 * schedule, and a seeded model check against a plain Map. Deterministic:
 * ManualClock, seededRng, SimulatedFileSystem; except one test, which
 * SIGKILLs a real process at each step of the swap on the real file system
 * (tests/fixtures/compaction-swap-child.ts).
 */
import nodeFs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { BatchFormatError } from '../../protocol/batch/header.js';
import { buildBatch } from '../../protocol/batch/builder.js';
import { decodeBatch } from '../../protocol/batch/reader.js';
import type { CodecName } from '../../protocol/batch/header.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem, realFileSystem, type FileSystem } from '../../broker/world/file-system.js';
import { seededRng, type Rng } from '../../broker/world/rng.js';
import { parseLogConfig } from '../../broker/storage/log-config.js';
import { LogOfflineError } from '../../broker/storage/errors.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { LogManager } from '../../broker/storage/log-manager.js';
import { KeylessRecordError } from '../../broker/storage/compaction-records.js';
import { OffsetMap } from '../../broker/storage/compaction-offset-map.js';
import { COMMITTED_STEPS, SWAP_STEPS, type SwapStep } from '../../broker/storage/compaction-swap.js';
import { WorkerCleanerRunner } from '../../broker/storage/cleaner-runner.js';
import { HandleCache } from '../../broker/storage/handle-cache.js';
import type { CompactOptions } from '../../broker/storage/cleaner.js';
import { compactConfig, DIR, enc, oneGroupLog, openLog, Writer, type Rec } from '../fixtures/compaction-log.js';
import type { SwapChildMessage } from '../fixtures/compaction-swap-child.js';
import { builtFixture } from '../support/built-fixture.js';

const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

interface ReadBack {
  /** Surviving records in offset order. */
  records: ({ offset: number } & Rec)[];
  batches: number;
}

/** Every batch from the log start to the log end, each decoded with its CRC checked; offsets must rise. */
async function readAll(t: Test, log: PartitionLog): Promise<ReadBack> {
  const records: ReadBack['records'] = [];
  let batches = 0;
  let offset = log.logStartOffset;
  let previousLast = -1;
  while (offset < log.logEndOffset) {
    const result = await log.read(offset, 16 * 1024);
    // Nothing from here to the log end: only a truncation into a compacted gap leaves that.
    if (result.records.length === 0) break;
    for (const bytes of result.records) {
      const { header, records: decoded } = decodeBatch(bytes); // verifies the CRC
      if (header.baseOffset <= previousLast) t.fail(`batch at ${header.baseOffset} does not follow ${previousLast}`);
      previousLast = header.baseOffset + header.lastOffsetDelta;
      batches += 1;
      for (const r of decoded) records.push({ offset: r.offset, key: r.key === null ? null : dec(r.key), value: r.value === null ? null : dec(r.value) });
      offset = previousLast + 1;
    }
  }
  return { records, batches };
}

function viewOf(records: readonly Rec[]): Map<string, string> {
  const view = new Map<string, string>();
  for (const r of records) {
    if (r.key === null) continue;
    if (r.value === null) view.delete(r.key);
    else view.set(r.key, r.value);
  }
  return view;
}

function sorted(map: Map<string, string>): [string, string][] {
  return [...map].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Each surviving record is exactly what was appended at its offset. */
function checkOffsetsUnchanged(t: Test, writer: Writer, back: ReadBack): void {
  const wrong = back.records.filter((r) => {
    const original = writer.appended.get(r.offset);
    return original === undefined || original.key !== r.key || original.value !== r.value;
  });
  t.same(wrong, [], 'every surviving record is what was appended at its offset');
}

async function leftovers(fs: FileSystem, dir = DIR): Promise<string[]> {
  return (await fs.readdir(dir)).filter((name) => /\.(cleaned|swap|deleted|tmp)$/.test(name));
}

/** A log of several segments with keys k0..k(keys-1) overwritten many times, mixed codecs and batch sizes. */
async function filledLog(keys: number, records: number, config = compactConfig(), seed = 7): Promise<{ fs: SimulatedFileSystem; clock: ManualClock; writer: Writer }> {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const writer = new Writer(await openLog(fs, clock, config), clock);
  const rng = seededRng(seed);
  const codecs: CodecName[] = ['none', 'gzip', 'lz4'];
  for (let n = 0; n < records;) {
    const size = 1 + rng.int(4);
    const batch: Rec[] = [];
    for (let i = 0; i < size && n < records; i++, n++) batch.push({ key: `k${rng.int(keys)}`, value: `v${n}-${'x'.repeat(rng.int(40))}` });
    writer.append(batch, codecs[rng.int(3)] as CodecName);
    clock.advance(1);
  }
  return { fs, clock, writer };
}

t.test('offset map: exact keys, larger offset wins, grows, says when it is full', async (t) => {
  const map = OffsetMap.create(4 * 1024 * 1024);
  const key = (i: number): Uint8Array => enc(`key-${i}`);
  let refused = 0;
  for (let i = 0; i < 5000; i++) if (!map.put(key(i), 0, key(i).length, i)) refused += 1;
  t.equal(refused, 0, '5000 keys fit in 4 MiB');
  map.put(key(7), 0, key(7).length, 3); // an older offset never replaces a newer one
  map.put(key(8), 0, key(8).length, 99_999);
  t.equal(map.size, 5000);
  t.equal(map.get(key(7), 0, key(7).length), 7);
  t.equal(map.get(key(8), 0, key(8).length), 99_999);
  t.equal(map.get(key(4999), 0, key(4999).length), 4999);
  t.equal(map.get(enc('key-5000'), 0, 8), -1, 'an absent key');
  const empty = new Uint8Array(0);
  t.equal(map.put(empty, 0, 0, 1), true, 'the empty key is a key');
  t.equal(map.get(empty, 0, 0), 1);
  const attached = OffsetMap.attach(map.state);
  t.equal(attached.get(key(123), 0, key(123).length), 123, 'another view (thread) sees the same map');

  const small = OffsetMap.create(100 * 1024);
  let accepted = 0;
  while (small.put(key(accepted), 0, key(accepted).length, accepted)) accepted += 1;
  t.ok(accepted >= 500 && accepted < 5000, `a 100 KiB map holds ${accepted} keys, then says full`);
  t.ok(small.sizeBytes <= 100 * 1024, 'and never grew past its bound');
  t.equal(small.get(key(accepted), 0, key(accepted).length), -1, 'the refused key was not stored');
  t.equal(small.get(key(0), 0, key(0).length), 0, 'earlier keys are intact');
});

t.test('newest value per key survives, offsets unchanged, the active segment untouched, valid batches', async (t) => {
  const { fs, clock, writer } = await filledLog(25, 600);
  const log = writer.log;
  t.ok(log.segmentCount >= 5, `${log.segmentCount} segments`);
  await log.flush(); // a rolled segment gets its file once the one before it is durable; this test reads the active one's
  const before = await readAll(t, log);
  const activeBase = log.segmentBaseOffsets().at(-1) as number;
  const activeName = `${String(activeBase).padStart(20, '0')}.log`;
  const activeBytes = await fs.readFile(`${DIR}/${activeName}`);
  const range = { start: log.logStartOffset, end: log.logEndOffset };

  const result = await log.compact();
  t.equal(result.skipped, null);
  t.ok(result.groupsSwapped > 0 && result.bytesWritten < result.bytesRead, `${result.bytesRead} -> ${result.bytesWritten} bytes`);
  t.equal(result.endOffset, activeBase, 'everything below the active segment was cleaned');
  t.same({ start: log.logStartOffset, end: log.logEndOffset }, range, 'log start and end did not move');
  t.same(await fs.readFile(`${DIR}/${activeName}`), activeBytes, 'the active segment is byte for byte the same');

  const after = await readAll(t, log);
  checkOffsetsUnchanged(t, writer, after);
  // Below the active segment exactly the latest record of each key (among offsets below it) survives.
  const latestBelow = new Map<string, number>();
  for (const r of before.records) if (r.offset < activeBase && r.key !== null) latestBelow.set(r.key, r.offset);
  t.same(after.records.filter((r) => r.offset < activeBase).map((r) => r.offset), [...latestBelow.values()].sort((a, b) => a - b), 'one record per key below the active segment: its latest');
  t.same(after.records.filter((r) => r.offset >= activeBase), before.records.filter((r) => r.offset >= activeBase), 'the active segment keeps every record');
  t.same(sorted(viewOf(after.records)), sorted(writer.model), 'key -> latest value is unchanged');
  t.same(await leftovers(fs), [], 'no .cleaned, .swap or .deleted files left');

  // A fetch at an offset that compaction removed gets the next batch that holds a later offset.
  const gap = after.records.findIndex((r, i) => i > 0 && r.offset > (after.records[i - 1] as { offset: number }).offset + 1);
  const next = after.records[gap] as { offset: number };
  const fetched = await log.read(next.offset - 1, 1);
  t.ok(fetched.records.length === 1 && decodeBatch(fetched.records[0] as Uint8Array).header.baseOffset + decodeBatch(fetched.records[0] as Uint8Array).header.lastOffsetDelta >= next.offset, 'a read inside a gap returns the batch after it');

  // A second pass with nothing new dirty changes no record (it may merge the small segments).
  const again = await log.compact();
  t.equal(again.stats.recordsKept, again.stats.recordsRead, 'the cleaned part already holds one record per key');
  t.ok(log.segmentCount < result.segmentsBefore, `small cleaned segments were merged (${result.segmentsBefore} -> ${log.segmentCount})`);
  t.same((await readAll(t, log)).records, after.records);

  // Durable: a clean reopen and a crash both bring back the same records.
  await log.close();
  const reopened = await openLog(fs, clock, compactConfig());
  t.same((await readAll(t, reopened)).records, after.records, 'same records after a clean reopen');
  await reopened.flush();
  fs.crash();
  const recovered = await openLog(fs, clock, compactConfig());
  t.same((await readAll(t, recovered)).records, after.records, 'same records after a crash');
  await recovered.close();
});

t.test('tombstones stay for delete.retention.ms, then go; min.compaction.lag.ms; the offset bound', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const config = compactConfig({ 'delete.retention.ms': '10000', 'segment.ms': '1000', 'segment.bytes': String(1024 * 1024) });
  const writer = new Writer(await openLog(fs, clock, config), clock);
  const log = writer.log;
  writer.append([{ key: 'a', value: 'a1' }, { key: 'b', value: 'b1' }]);
  writer.append([{ key: 'a', value: null }]); // tombstone for a
  clock.advance(1001);
  writer.append([{ key: 'c', value: 'c1' }]); // rolls: a and b are now in an inactive segment
  t.equal(log.segmentCount, 2);

  clock.advance(5000);
  let result = await log.compact();
  let back = await readAll(t, log);
  t.same(back.records.map((r) => [r.key, r.value]), [['b', 'b1'], ['a', null], ['c', 'c1']], 'the old value of a is gone; its tombstone stays while young');
  t.equal(result.stats.tombstonesDropped, 0);

  // Nothing new is dirty, but the kept tombstone expires: a pass that asks for a dirty ratio still runs.
  clock.advance(5000);
  result = await log.compact({ minCleanableRatio: 0.99 });
  t.equal(result.skipped, null, 'an expired tombstone makes the log worth cleaning');
  t.equal(result.stats.tombstonesDropped, 1, 'the tombstone is dropped once older than delete.retention.ms');
  back = await readAll(t, log);
  t.same(back.records.map((r) => [r.key, r.value]), [['b', 'b1'], ['c', 'c1']]);
  t.same(sorted(viewOf(back.records)), sorted(writer.model));
  result = await log.compact({ minCleanableRatio: 0.5 });
  t.match(result.skipped, /dirty ratio/, 'and afterwards there is nothing to do');

  // min.compaction.lag.ms: a segment with records younger than the lag stays dirty.
  writer.append([{ key: 'b', value: 'b2' }]);
  clock.advance(1001);
  writer.append([{ key: 'd', value: 'd1' }]); // roll: the segment with c1 and b2 is inactive but young
  log.updateConfig({ ...config, minCompactionLagMs: 60_000 });
  result = await log.compact();
  t.equal((await readAll(t, log)).records.filter((r) => r.key === 'b').length, 2, 'b1 survives while b2 is younger than the lag');
  t.ok(result.skipped !== null || result.endOffset <= log.segmentBaseOffsets()[1]!, 'the young segment was not cleaned');
  clock.advance(60_001);
  result = await log.compact();
  t.same((await readAll(t, log)).records.filter((r) => r.key === 'b').map((r) => r.value), ['b2'], 'once old enough, b1 goes');

  // The offset bound (the high watermark): nothing at or above it is cleaned.
  log.updateConfig(config);
  writer.append([{ key: 'd', value: 'd2' }]);
  clock.advance(1001);
  writer.append([{ key: 'e', value: 'e1' }]);
  const bound = log.segmentBaseOffsets().at(-2) as number;
  result = await log.compact({ maxOffsetExclusive: bound });
  t.equal((await readAll(t, log)).records.filter((r) => r.key === 'd').length, 2, 'd1 stays: d2 lies in a segment above the bound');
  result = await log.compact();
  t.same((await readAll(t, log)).records.filter((r) => r.key === 'd').map((r) => r.value), ['d2']);
  await log.close();
});

t.test('keyless records: refused at append on compacted topics, dropped by the cleaner if already there', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const log = await openLog(fs, clock, compactConfig());
  const keyed = buildBatch([{ key: enc('k'), value: enc('v') }], { nowMs: clock.nowMs() });
  for (const codec of ['none', 'lz4'] as CodecName[]) {
    const keyless = buildBatch([{ key: enc('k'), value: enc('v') }, { key: null, value: enc('no key') }], { nowMs: clock.nowMs(), codec });
    const both = new Uint8Array(keyed.byteLength + keyless.byteLength);
    both.set(keyed, 0);
    both.set(keyless, keyed.byteLength);
    const err = (() => {
      try {
        log.append(both, { leaderEpoch: 0 });
      } catch (e) {
        return e;
      }
      return null;
    })();
    t.ok(err instanceof KeylessRecordError && err instanceof BatchFormatError, `${codec}: a KeylessRecordError (a BatchFormatError)`);
    t.match((err as Error).message, /record 1 has no key.*cleanup\.policy=compact/);
    t.equal(log.logEndOffset, 0, `${codec}: all or nothing: the keyed batch before it was not appended either`);
  }
  await log.close();

  // A topic switched from delete to compact may hold keyless records: the cleaner drops them (as Kafka's does).
  const fs2 = new SimulatedFileSystem();
  const deleteConfig = compactConfig({ 'cleanup.policy': 'delete', 'segment.ms': '1000' });
  const writer = new Writer(await openLog(fs2, clock, deleteConfig), clock);
  writer.append([{ key: null, value: 'orphan' }, { key: 'k', value: 'v1' }]);
  writer.append([{ key: 'k', value: 'v2' }]);
  clock.advance(1001);
  writer.append([{ key: 'k', value: 'v3' }]);
  t.match((await writer.log.compact()).skipped, /cleanup\.policy/, 'compact() does nothing under cleanup.policy=delete');
  writer.log.updateConfig(compactConfig({ 'segment.ms': '1000' }));
  const result = await writer.log.compact();
  t.equal(result.stats.keylessDropped, 1);
  t.same((await readAll(t, writer.log)).records.map((r) => r.value), ['v2', 'v3']);
  await writer.log.close();
});

t.test('compact,delete: compaction and retention both apply', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const config = compactConfig({ 'cleanup.policy': 'compact,delete', 'retention.ms': '20000', 'segment.ms': '1000', 'segment.bytes': String(1024 * 1024) });
  const writer = new Writer(await openLog(fs, clock, config), clock);
  const log = writer.log;
  for (let round = 0; round < 4; round++) {
    writer.append([{ key: 'a', value: `a${round}` }, { key: `only${round}`, value: 'x' }]);
    clock.advance(10_000);
  }
  writer.append([{ key: 'z', value: 'z' }]);
  await log.compact();
  t.same((await readAll(t, log)).records.filter((r) => r.key === 'a').map((r) => r.value), ['a3'], 'compaction kept the newest a');
  t.equal((await log.applyRetention()).deletedSegments, 0, 'the merged segment is as young as its newest record (as in Kafka)');
  for (let round = 4; round < 6; round++) {
    writer.append([{ key: 'a', value: `a${round}` }]);
    clock.advance(10_000);
  }
  const startBefore = log.logStartOffset;
  const deleted = await log.applyRetention();
  t.ok(deleted.deletedSegments >= 1, `retention deletes the expired compacted segment (${deleted.deletedSegments})`);
  t.ok(log.logStartOffset > startBefore);
  const back = await readAll(t, log);
  t.same(back.records.filter((r) => r.key?.startsWith('only')), [], 'keys whose only records expired are gone, as with delete');
  t.same(back.records.filter((r) => r.key === 'a').map((r) => r.value), ['a4', 'a5'], 'newer records stay');
  t.same(await leftovers(fs), []);
  await log.close();
});

/**
 * A swap hook that stops the cleaner for good at `step` (after running
 * `atStop`, e.g. a simulated power loss), as a killed process would stop;
 * `reached` resolves when it got there.
 */
function stopAt(step: SwapStep, atStop: () => void = () => undefined): { reached: Promise<void>; onSwapStep: (at: SwapStep) => Promise<void> | undefined } {
  let arrived!: () => void;
  const reached = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const onSwapStep = (at: SwapStep): Promise<void> | undefined => {
    if (at !== step) return undefined;
    atStop();
    arrived();
    return new Promise<void>(() => undefined);
  };
  return { reached, onSwapStep };
}

/** Waits for the cleaner to stop at `step`; a pass that ends without getting there fails at once. */
async function untilStopped(reached: Promise<void>, pass: Promise<unknown>, step: SwapStep): Promise<void> {
  const ended = pass.then(
    () => Promise.reject(new Error(`the pass finished without reaching ${step}`)),
    (err: unknown) => Promise.reject(new Error(`the pass failed before ${step}: ${String(err)}`)),
  );
  await Promise.race([reached, ended]);
}

t.test('a crash between any two steps of the swap recovers the old set or the new one', async (t) => {
  // The new set, from an uninterrupted compaction of the same data.
  const reference = await oneGroupLog(3);
  const oldOffsets = (await readAll(t, reference.writer.log)).records.map((r) => r.offset);
  await reference.writer.log.compact();
  const newOffsets = (await readAll(t, reference.writer.log)).records.map((r) => r.offset);
  t.ok(newOffsets.length < oldOffsets.length, `compaction removes records (${oldOffsets.length} -> ${newOffsets.length})`);
  await reference.writer.log.close();

  for (const torn of [false, true]) {
    for (const step of SWAP_STEPS) {
      const { fs, clock, writer, config } = await oneGroupLog(3);
      const { reached, onSwapStep } = stopAt(step, () => fs.crash(torn ? { rng: seededRng(SWAP_STEPS.indexOf(step)) } : {}));
      await untilStopped(reached, writer.log.compact({ onSwapStep }), step);
      const reopened = await openLog(fs, clock, config);
      const back = await readAll(t, reopened);
      const offsets = back.records.map((r) => r.offset);
      const expected = COMMITTED_STEPS.has(step) ? newOffsets : oldOffsets;
      t.same(offsets, expected, `crash after ${step}${torn ? ' (torn)' : ''}: the ${COMMITTED_STEPS.has(step) ? 'new' : 'old'} set`);
      checkOffsetsUnchanged(t, writer, back);
      t.same(sorted(viewOf(back.records)), sorted(writer.model), `crash after ${step}: key -> latest value unchanged`);
      t.same(await leftovers(fs), [], `crash after ${step}: no leftovers after recovery`);
      await reopened.compact();
      t.same((await readAll(t, reopened)).records.map((r) => r.offset), newOffsets, `crash after ${step}: compacting again gives the new set`);
      await reopened.close();
    }
  }
});

t.test('a process SIGKILLed between any two steps of the swap, on the real file system', async (t) => {
  const root = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'runnel-compaction-'));
  const child = builtFixture('tests/fixtures/compaction-swap-child.ts');
  t.teardown(() => nodeFs.rmSync(root, { recursive: true, force: true }));
  // The same log (seed 3) compacted without interruption, here: the old set, the new set and the model.
  const reference = await oneGroupLog(3, realFileSystem, path.join(root, 'reference'));
  const oldOffsets = (await readAll(t, reference.writer.log)).records.map((r) => r.offset);
  await reference.writer.log.compact();
  const newOffsets = (await readAll(t, reference.writer.log)).records.map((r) => r.offset);
  await reference.writer.log.close();
  // One child a step, all at once (each takes about a second to get there).
  const children = SWAP_STEPS.map((step) => {
    const dir = path.join(root, step);
    const proc = child.fork({ RUNNEL_SWAP_DIR: dir, RUNNEL_SWAP_STEP: step });
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    t.teardown(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    });
    // Stopped at the step, or dead without getting there (a failure); bounded, so a stuck child fails.
    const stopped = new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('no word from the child within 60 s'), 60_000);
      proc.on('message', (message: SwapChildMessage) => {
        clearTimeout(timer);
        resolve(message.type === 'stopped' && message.step === step ? 'stopped' : `unexpected message ${JSON.stringify(message)}`);
      });
      void exited.then(() => {
        clearTimeout(timer);
        resolve(`the child exited (${String(proc.exitCode ?? proc.signalCode)}) before reaching ${step}`);
      });
    });
    return { step, dir, proc, exited, stopped };
  });
  for (const { step, dir, proc, exited, stopped } of children) {
    t.equal(await stopped, 'stopped', `the child stopped at ${step}`);
    proc.kill('SIGKILL');
    await exited;
    t.equal(proc.signalCode, 'SIGKILL', `killed at ${step}`);
    const reopened = await openLog(realFileSystem, new ManualClock(), reference.config, dir);
    const back = await readAll(t, reopened);
    // Without a power loss every rename the process made stays: the commit is the rename to .swap itself.
    const committed = COMMITTED_STEPS.has(step) || step === 'swap-renamed';
    t.same(back.records.map((r) => r.offset), committed ? newOffsets : oldOffsets, `killed after ${step}: the ${committed ? 'new' : 'old'} set`);
    t.same(sorted(viewOf(back.records)), sorted(reference.writer.model), `killed after ${step}: key -> latest value unchanged`);
    t.same(await leftovers(realFileSystem, dir), [], `killed after ${step}: no leftovers`);
    await reopened.close();
  }
});

t.test('a failing disk during a compaction: before the commit the log carries on, after it the log goes offline and reopens cleaned', async (t) => {
  {
    const { fs, clock, writer, config } = await oneGroupLog(4);
    const before = (await readAll(t, writer.log)).records;
    fs.injectFault('datasync', '.log.cleaned');
    await t.rejects(writer.log.compact(), { code: 'EIO' });
    t.equal(writer.log.isOffline, false, 'a failure while writing the cleaned files leaves the log online');
    t.same((await readAll(t, writer.log)).records, before, 'and unchanged');
    t.same(await leftovers(fs), [], 'the cleaned files were removed');
    writer.append([{ key: 'k1', value: 'after' }]);
    await writer.log.compact();
    t.same(sorted(viewOf((await readAll(t, writer.log)).records)), sorted(writer.model), 'the next pass works');
    await writer.log.close();
    const reopened = await openLog(fs, clock, config);
    t.same(sorted(viewOf((await readAll(t, reopened)).records)), sorted(writer.model));
    await reopened.close();
  }
  const reference = await oneGroupLog(5);
  const oldOffsets = (await readAll(t, reference.writer.log)).records.map((r) => r.offset);
  await reference.writer.log.compact();
  const newOffsets = (await readAll(t, reference.writer.log)).records.map((r) => r.offset);
  await reference.writer.log.close();
  // Each failure after the first rename: the log goes offline; a crash and a reopen decide, as recovery would.
  const failures = [
    { what: 'renaming the cleaned log to .swap', at: 'cleaned-durable', op: 'rename', path: '.log.cleaned', expected: oldOffsets },
    { what: 'the commit fsync', at: 'swap-renamed', op: 'fsyncDir', path: DIR, expected: oldOffsets },
    { what: 'renaming an old segment to .deleted', at: 'swap-durable', op: 'rename', path: '.timeindex', expected: newOffsets },
    { what: 'installing the swap log', at: 'old-durable', op: 'rename', path: '.log.swap', expected: newOffsets },
    { what: 'unlinking the replaced files', at: 'installed-durable', op: 'unlink', path: '.deleted', expected: newOffsets },
  ] as const;
  for (const { what, at, op, path, expected } of failures) {
    const { fs, clock, writer, config } = await oneGroupLog(5);
    const onSwapStep = (step: SwapStep): void => {
      if (step === at) fs.injectFault(op, path);
    };
    const failed = await writer.log.compact({ onSwapStep }).then(() => null, (err: unknown) => err);
    t.ok(failed instanceof LogOfflineError && writer.log.isOffline, `${what} failing takes the log offline`);
    await t.rejects(writer.log.read(0, 100), LogOfflineError, `${what}: the offline log refuses reads`);
    fs.crash();
    const reopened = await openLog(fs, clock, config);
    const back = await readAll(t, reopened);
    t.same(back.records.map((r) => r.offset), expected, `${what}: reopened as the ${expected === oldOffsets ? 'old' : 'new'} set`);
    checkOffsetsUnchanged(t, writer, back);
    t.same(sorted(viewOf(back.records)), sorted(writer.model), `${what}: key -> latest value unchanged after reopening`);
    t.same(await leftovers(fs), []);
    await reopened.close();
  }
});

t.test('reads during a swap see the old segments, then the new one, never a missing file', async (t) => {
  const { fs, writer } = await oneGroupLog(6);
  const log = writer.log;
  const namesBefore = new Set((await fs.readdir(DIR)).filter((n) => !n.includes('.cleaned')));
  const seen: string[] = [];
  const onSwapStep = async (step: SwapStep): Promise<void> => {
    const back = await readAll(t, log); // throws (and fails the test) if a file were missing
    checkOffsetsUnchanged(t, writer, back);
    t.same(sorted(viewOf(back.records)), sorted(writer.model), `a full read at ${step} sees the same key -> value`);
    seen.push(step);
  };
  await log.compact({ onSwapStep });
  t.same(seen, [...SWAP_STEPS], 'every step ran');
  const namesAfter = (await fs.readdir(DIR)).filter((n) => !namesBefore.has(n) && n !== 'cleaner-offset-checkpoint');
  t.same(namesAfter, [], 'reads during the swap created no stray index files');
  await log.close();
});

t.test('chunking, big batches, the offset map filling up, retention racing the cleaner, worker threads', async (t) => {
  const rng = seededRng(11);
  const big = (n: number): string => `${n}-${'y'.repeat(3000 + rng.int(9000))}`;
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const config = compactConfig({ 'segment.bytes': String(48 * 1024) });
  const writer = new Writer(await openLog(fs, clock, config), clock);
  for (let i = 0; i < 60; i++) writer.append([{ key: `big${rng.int(6)}`, value: big(i) }, { key: `small${rng.int(30)}`, value: `s${i}` }], i % 2 === 0 ? 'none' : 'gzip');
  for (let i = 0; i < 1500; i++) writer.append([{ key: `many${i}`, value: `m${i}` }]);
  for (let i = 0; i < 200; i++) writer.append([{ key: `many${rng.int(1500)}`, value: `again${i}` }]);

  // 4 KiB chunks: every big batch is longer than a chunk.
  const chunked = await writer.log.compact({ chunkBytes: 4096, offsetMapBytes: 100 * 1024 });
  t.ok(chunked.endOffset < (writer.log.segmentBaseOffsets().at(-1) as number), `a 100 KiB offset map cannot hold every key: the pass stopped at ${chunked.endOffset}`);
  let back = await readAll(t, writer.log);
  checkOffsetsUnchanged(t, writer, back);
  t.same(sorted(viewOf(back.records)), sorted(writer.model), 'a partial pass keeps key -> latest value');
  for (let pass = 0; pass < 10; pass++) {
    const r = await writer.log.compact({ chunkBytes: 4096, offsetMapBytes: 100 * 1024 });
    if (r.endOffset === writer.log.segmentBaseOffsets().at(-1)) break;
  }
  const activeBase = writer.log.segmentBaseOffsets().at(-1) as number;
  back = await readAll(t, writer.log);
  const below = back.records.filter((r) => r.offset < activeBase && r.key !== null).map((r) => r.key as string);
  t.equal(new Set(below).size, below.length, 'after enough passes every key below the active segment appears once');
  t.same(sorted(viewOf(back.records)), sorted(writer.model));

  // Retention and compaction at once: the structural lock keeps them apart.
  for (let i = 0; i < 300; i++) writer.append([{ key: `many${rng.int(1500)}`, value: `late${i}` }]);
  writer.log.updateConfig({ ...config, cleanupPolicy: { compact: true, delete: true }, retentionBytes: 96 * 1024 });
  const runner = new WorkerCleanerRunner(1);
  t.teardown(() => runner.close());
  const [compacted, retained] = await Promise.all([writer.log.compact({ runner }), writer.log.applyRetention()]);
  t.ok(retained.deletedSegments >= 1, `retention deleted ${retained.deletedSegments} segments meanwhile`);
  t.ok(compacted.skipped === null, 'compaction on a worker thread ran');
  t.equal(writer.log.isOffline, false);
  back = await readAll(t, writer.log);
  checkOffsetsUnchanged(t, writer, back);
  t.same(await leftovers(fs), []);
  await writer.log.close();
  const reopened = await openLog(fs, clock, config);
  t.same((await readAll(t, reopened)).records, back.records, 'the same records after reopening');
  await reopened.close();
});

t.test('LogManager cleans compacted logs on its schedule (worker thread), by dirty ratio', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const config = compactConfig({ 'segment.bytes': String(8 * 1024) });
  const manager = await LogManager.open({ dataDir: '/data', fs, clock, configFor: () => config, cleanerBackoffMs: 15_000, cleanerThreads: 1, recoveryThreads: 0 });
  t.teardown(() => manager.close());
  const compacted = await manager.create('events', 0, config);
  const plain = await manager.create('plain', 0, parseLogConfig({ 'segment.bytes': String(8 * 1024) }));
  const writer = new Writer(compacted, clock);
  for (let i = 0; i < 400; i++) writer.append([{ key: `k${i % 10}`, value: `v${i}-${'z'.repeat(50)}` }]);
  for (let i = 0; i < 400; i++) plain.append(buildBatch([{ key: enc(`k${i % 10}`), value: enc(`v${i}`) }], { nowMs: clock.nowMs() }), { leaderEpoch: 0 });
  const compactedBytes = compacted.sizeBytes;
  const plainBytes = plain.sizeBytes;
  manager.startMaintenance();
  clock.advance(15_000);
  await manager.cleanerIdle();
  t.ok(compacted.sizeBytes < compactedBytes / 3, `the compacted topic shrank (${compactedBytes} -> ${compacted.sizeBytes} bytes)`);
  t.equal(plain.sizeBytes, plainBytes, 'a cleanup.policy=delete topic is not compacted');
  t.same(sorted(viewOf((await readAll(t, compacted)).records)), sorted(writer.model));

  // Just cleaned: the dirty ratio is now small, so the next run leaves it alone.
  const results = await manager.runCleaner();
  t.match(results.find((r) => r.topic === 'events')?.result.skipped, /dirty ratio/);
});

t.test('a truncation below the cleaned part makes what follows dirty again', async (t) => {
  const { writer } = await filledLog(10, 300, compactConfig({ 'segment.bytes': '2048' }), 9);
  const log = writer.log;
  await log.compact();
  const cleanedEnd = log.segmentBaseOffsets().at(-1) as number;
  const cut = Math.floor(cleanedEnd / 2);
  await log.truncateTo(cut);
  t.ok(log.logEndOffset <= cut, `truncating into a compacted gap leaves the log end at or below the offset (${log.logEndOffset} <= ${cut})`);
  for (const offset of [...writer.appended.keys()]) if (offset >= log.logEndOffset) writer.appended.delete(offset);
  writer.model.clear();
  for (const r of (await readAll(t, log)).records) {
    if (r.key !== null && r.value !== null) writer.model.set(r.key, r.value);
    else if (r.key !== null) writer.model.delete(r.key);
  }
  for (let i = 0; i < 200; i++) writer.append([{ key: `k${i % 10}`, value: `new${i}` }]);
  const activeBase = log.segmentBaseOffsets().at(-1) as number;
  t.ok(activeBase > cleanedEnd, 'the new records reach past where the earlier pass stopped');
  await log.compact({ minCleanableRatio: 0.01 });
  const back = await readAll(t, log);
  const below = back.records.filter((r) => r.offset < activeBase).map((r) => r.key);
  t.equal(new Set(below).size, below.length, 'the records appended after the truncation were compacted too');
  checkOffsetsUnchanged(t, writer, back);
  t.same(sorted(viewOf(back.records)), sorted(writer.model));
  await log.close();
});

t.test('model check: random appends, tombstones, compactions, crashes and reopenings match a plain map', async (t) => {
  for (const seed of [1, 2, 3]) {
    const rng: Rng = seededRng(seed);
    const fs = new SimulatedFileSystem();
    const clock = new ManualClock();
    const config = compactConfig({ 'segment.bytes': '2048', 'delete.retention.ms': '50', 'min.compaction.lag.ms': String(rng.int(3) * 20) });
    const writer = new Writer(await openLog(fs, clock, config), clock);
    const codecs: CodecName[] = ['none', 'gzip', 'lz4'];
    for (let round = 0; round < 40; round++) {
      const appends = 1 + rng.int(25);
      for (let i = 0; i < appends; i++) {
        const size = 1 + rng.int(3);
        const batch: Rec[] = [];
        for (let j = 0; j < size; j++) batch.push({ key: `k${rng.int(30)}`, value: rng.int(6) === 0 ? null : `r${round}-${i}-${j}` });
        writer.append(batch, codecs[rng.int(3)] as CodecName);
        clock.advance(rng.int(10));
      }
      // A high watermark somewhere in the tail: compaction stays below it, truncation above it (as replication does).
      const hw = writer.log.logEndOffset - rng.int(Math.min(20, writer.log.logEndOffset - writer.log.logStartOffset) + 1);
      const action = rng.int(11);
      if (action < 6) {
        const opts: CompactOptions = { chunkBytes: 512 + rng.int(4096), offsetMapBytes: rng.int(2) === 0 ? 100 * 1024 : undefined, maxOffsetExclusive: hw };
        const pass = await writer.log.compact(opts);
        const cleanedKeys = (await readAll(t, writer.log)).records.filter((r) => r.offset < pass.endOffset).map((r) => r.key);
        if (pass.skipped === null && new Set(cleanedKeys).size !== cleanedKeys.length) {
          t.fail(`seed ${seed} round ${round}: a key appears twice below the cleaned end ${pass.endOffset} (pass from ${pass.firstDirtyOffset})`);
          break;
        }
      } else if (action === 8) {
        await writer.log.truncateTo(hw);
        const end = writer.log.logEndOffset;
        for (const offset of [...writer.appended.keys()]) if (offset >= end) writer.appended.delete(offset);
        writer.model.clear();
        for (const [, r] of [...writer.appended].sort((a, b) => a[0] - b[0])) {
          if (r.key === null) continue;
          if (r.value === null) writer.model.delete(r.key);
          else writer.model.set(r.key, r.value);
        }
      } else if (action === 6) {
        await writer.log.flush();
        fs.crash({ rng });
        writer.log = await openLog(fs, clock, config);
      } else if (action === 7) {
        await writer.log.close();
        writer.log = await openLog(fs, clock, config);
      }
      const back = await readAll(t, writer.log);
      const ok = JSON.stringify(sorted(viewOf(back.records))) === JSON.stringify(sorted(writer.model));
      if (!ok) {
        t.same(sorted(viewOf(back.records)), sorted(writer.model), `seed ${seed} round ${round}: the log's key -> latest value`);
        break;
      }
      const moved = back.records.filter((r) => writer.appended.get(r.offset)?.value !== r.value || writer.appended.get(r.offset)?.key !== r.key);
      if (moved.length > 0) {
        t.same(moved, [], `seed ${seed} round ${round}: offsets unchanged`);
        break;
      }
    }
    const back = await readAll(t, writer.log);
    t.same(sorted(viewOf(back.records)), sorted(writer.model), `seed ${seed}: the log agrees with the model after 40 rounds`);
    t.same(await leftovers(fs), [], `seed ${seed}: no leftovers`);
    await writer.log.close();
  }
});

/* ------------------------------------------- review: cleaner checkpoint */

t.test('where the clean part ends is checkpointed: restarts, crashes, truncation and a shorter log', async (t) => {
  const { fs, clock, writer } = await filledLog(25, 600, compactConfig(), 11);
  const config = compactConfig();
  let log = writer.log;
  const first = await log.compact();
  t.equal(first.skipped, null);
  const cleanedEnd = first.endOffset;
  t.ok(cleanedEnd > log.logStartOffset, `the first pass cleaned below ${cleanedEnd}`);
  const reopen = async (how: 'clean' | 'crash'): Promise<PartitionLog> => {
    if (how === 'clean') await log.close();
    else {
      await log.flush();
      fs.crash();
    }
    log = await openLog(fs, clock, config);
    writer.log = log;
    return log;
  };

  for (const how of ['clean', 'crash'] as const) {
    await reopen(how);
    const idle = await log.compact({ minCleanableRatio: 0.5 });
    t.match(idle, { skipped: /dirty ratio 0\.000/, firstDirtyOffset: cleanedEnd }, `after a ${how} restart the cleaned part is still clean: no pass`);
  }
  // new records on 3 keys, then a restart: the next pass maps only them, not the whole log again
  for (let i = 0; i < 150; i++) writer.append([{ key: `k${i % 3}`, value: `after-restart-${i}-${'y'.repeat(30)}` }]);
  await reopen('crash');
  const second = await log.compact();
  const dirtyKeys = new Set([...writer.appended].filter(([offset]) => offset >= cleanedEnd && offset < second.endOffset).map(([, r]) => r.key));
  t.ok(dirtyKeys.size < 25, `${dirtyKeys.size} of the 25 keys were written since the last pass`);
  t.match(second, { skipped: null, firstDirtyOffset: cleanedEnd, mapKeys: dirtyKeys.size }, 'the pass after a restart maps only the records written since the last one');
  t.same(sorted(viewOf((await readAll(t, log)).records)), sorted(writer.model));

  // a truncation below the clean part lowers the checkpoint before it resolves
  await log.truncateTo(Math.floor(second.endOffset / 2));
  const truncatedEnd = log.logEndOffset;
  for (const offset of [...writer.appended.keys()]) if (offset >= truncatedEnd) writer.appended.delete(offset);
  for (let i = 0; i < 5000 && log.logEndOffset <= second.endOffset + 100; i++) writer.append([{ key: `k${i % 7}`, value: `after-truncation-${i}-${'w'.repeat(30)}` }]);
  t.ok(log.logEndOffset > second.endOffset, 'the new records reach past where the last pass stopped');
  await reopen('crash');
  const third = await log.compact();
  t.equal(third.firstDirtyOffset, truncatedEnd, 'after truncating and a crash, what was written after the truncation is dirty');
  const below = (await readAll(t, log)).records.filter((r) => r.offset < third.endOffset).map((r) => r.key);
  t.equal(new Set(below).size, below.length, 'one record per key below the cleaned end');
  checkOffsetsUnchanged(t, writer, await readAll(t, log));

  // a checkpoint above the log end (say, the log lost its tail) is clamped, and the clamp is persisted at once
  await log.close();
  await fs.writeFileAtomic(`${DIR}/cleaner-offset-checkpoint`, enc('version=1\nfirst.dirty.offset=1000000\n'));
  log = await openLog(fs, clock, config);
  writer.log = log;
  const endAtOpen = log.logEndOffset;
  for (let i = 0; i < 150; i++) writer.append([{ key: `k${i % 5}`, value: `after-clamp-${i}-${'v'.repeat(30)}` }]);
  await reopen('crash');
  const fourth = await log.compact();
  t.equal(fourth.firstDirtyOffset, endAtOpen, 'records appended after the clamped open are dirty');

  // a damaged checkpoint means a full pass, not a wrong one
  await log.close();
  await fs.writeFileAtomic(`${DIR}/cleaner-offset-checkpoint`, enc('garbage'));
  log = await openLog(fs, clock, config);
  t.equal((await log.compact()).firstDirtyOffset, log.logStartOffset, 'a damaged checkpoint makes the whole log dirty');
  await log.close();
});

t.test('a kept tombstone still comes due after a restart (its expiry is checkpointed too)', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const config = compactConfig({ 'delete.retention.ms': '10000', 'segment.ms': '1000', 'segment.bytes': String(1024 * 1024) });
  const writer = new Writer(await openLog(fs, clock, config), clock);
  writer.append([{ key: 'a', value: 'a1' }, { key: 'b', value: 'b1' }]);
  writer.append([{ key: 'a', value: null }]);
  clock.advance(1001);
  writer.append([{ key: 'c', value: 'c1' }]);
  clock.advance(5000);
  t.equal((await writer.log.compact()).stats.tombstonesDropped, 0, 'the tombstone is young: kept');
  await writer.log.close();
  clock.advance(5000);
  const log = await openLog(fs, clock, config);
  const result = await log.compact({ minCleanableRatio: 0.99 });
  t.equal(result.skipped, null, 'after the restart nothing is dirty, but the kept tombstone has expired: a pass runs');
  t.equal(result.stats.tombstonesDropped, 1);
  t.same((await readAll(t, log)).records.map((r) => [r.key, r.value]), [['b', 'b1'], ['c', 'c1']]);
  await log.close();
});

t.test('reads during a swap behind a descriptor cache of one file: renamed segments stay readable', async (t) => {
  // Every descriptor but the one in use is closed while idle: a segment renamed away must have kept its own.
  const cache = new HandleCache(new SimulatedFileSystem(), { budget: 1 });
  const { writer } = await oneGroupLog(6, cache as FileSystem as SimulatedFileSystem);
  const log = writer.log;
  const onSwapStep = async (step: SwapStep): Promise<void> => {
    const back = await readAll(t, log);
    checkOffsetsUnchanged(t, writer, back);
    t.same(sorted(viewOf(back.records)), sorted(writer.model), `a full read at ${step} sees the same key -> value`);
  };
  await log.compact({ onSwapStep });
  t.ok(cache.stats().reopens > 0, `descriptors were closed and reopened during the pass (${cache.stats().reopens})`);
  t.same(sorted(viewOf((await readAll(t, log)).records)), sorted(writer.model));
  await log.close();
});
