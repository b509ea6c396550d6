/**
 * The plaintext cache of encrypted logs (storage/encryption/plaintext-cache.ts):
 * the cache alone (views of immutable appends, copies of others, buffers
 * counted once, what it lets go), then an encrypted PartitionLog with the cache against one
 * without it, through seeded random appends (some from buffers written over
 * right after), truncations and re-appends of
 * other bytes, follower appends, compaction, DeleteRecords, restarts and
 * reads: every batch a cached read returns must be the log's batch at that
 * offset now, never one the log has since dropped or rewritten.
 */
import t, { type Test } from 'tap';
import { buildBatch } from '../../protocol/batch/builder.js';
import { BATCH_OFFSET_LAST_OFFSET_DELTA, readI64, sealBatchCrc, stampBatch } from '../../protocol/batch/header.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { seededRng, type Rng } from '../../broker/world/rng.js';
import { parseKeyring } from '../../broker/storage/encryption/key-provider.js';
import { PlaintextCache } from '../../broker/storage/encryption/plaintext-cache.js';
import { parseLogConfig } from '../../broker/storage/log-config.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { bytes } from '../support/storage-fixtures.js';

const lastOffsetOf = (batch: Uint8Array): number => readI64(batch, 0) + new DataView(batch.buffer, batch.byteOffset, batch.byteLength).getInt32(BATCH_OFFSET_LAST_OFFSET_DELTA);

/** One batch of `records` records with random values (and keys from a small set, so compaction has work), stamped at `base`. */
function batchAt(rng: Rng, base: number, records: number, epoch = 0): Uint8Array {
  const batch = buildBatch(Array.from({ length: records }, (_, i) => {
    const value = new Uint8Array(8 + rng.int(120));
    rng.fill(value);
    return { key: bytes(`key-${rng.int(6)}`), value, timestamp: 1_000 + base + i };
  }), { nowMs: 1_000 + base });
  stampBatch(batch, 0, base, epoch);
  sealBatchCrc(batch, 0, batch.byteLength);
  // In a buffer of its own size, as a request frame holding one batch (the builder's may be larger).
  return Uint8Array.from(batch);
}

t.test('views of immutable appends, copies of the others; each buffer counted once; the oldest anywhere goes first', async (t) => {
  const rng = seededRng(7);
  const cache = new PlaintextCache(4096);
  const a = cache.forLog();
  const b = cache.forLog();
  const first = batchAt(rng, 0, 4);
  a.add(first, true);
  const got = a.read(0, 1, Number.MAX_SAFE_INTEGER) as Uint8Array[];
  t.same(got.map((x) => Buffer.from(x)), [Buffer.from(first)], 'a read gives the batch holding the offset (at least one batch, past maxBytes)');
  t.equal(got[0]?.buffer, first.buffer, 'an immutable append is kept as it is, and read without a copy');
  t.equal(cache.stats().sizeBytes, first.buffer.byteLength, 'its whole buffer is counted');
  t.same(a.read(0, 1 << 20, lastOffsetOf(first)), [], 'a batch that does not end below the bound is not returned');
  t.equal(a.read(lastOffsetOf(first) + 1, 1 << 20, Number.MAX_SAFE_INTEGER), null, 'an offset past the cached run is not the cache\'s to answer');

  // Another writer's buffer may be written again after its append: the cache keeps a copy.
  const reused = batchAt(rng, lastOffsetOf(first) + 1, 2);
  const asAppended = Buffer.from(reused);
  a.add(reused, false);
  reused.fill(0);
  t.same(Buffer.from((a.read(readI64(asAppended, 0), 1, Number.MAX_SAFE_INTEGER) as Uint8Array[])[0] as Uint8Array), asAppended, 'a copy: the writer reusing its buffer changes nothing cached');

  // Two logs' batches in one buffer (one produce request for two partitions): counted once, freed with the last.
  a.clear();
  const one = batchAt(rng, 100, 2);
  const two = batchAt(rng, 500, 3);
  const frame = new Uint8Array(one.byteLength + two.byteLength);
  frame.set(one);
  frame.set(two, one.byteLength);
  a.add(frame.subarray(0, one.byteLength), true);
  b.add(frame.subarray(one.byteLength), true);
  t.equal(cache.stats().sizeBytes, frame.byteLength, 'one buffer, counted once');
  a.clear();
  t.equal(cache.stats().sizeBytes, frame.byteLength, 'still kept alive by the other log\'s batch');
  b.clear();
  t.equal(cache.stats().sizeBytes, 0, 'and let go with it');

  // A view whose buffer is larger than the whole budget is not kept (a copy of it would be).
  const inBig = new Uint8Array(8192);
  const small = batchAt(rng, 700, 1);
  inBig.set(small, 100);
  a.add(inBig.subarray(100, 100 + small.byteLength), true);
  t.equal(a.startOffset, -1, 'a view of an 8 KiB buffer does not fit a 4 KiB cache: not kept');
  a.add(inBig.subarray(100, 100 + small.byteLength), false);
  t.equal(a.startOffset, 700, 'copied, it fits');
  a.clear();

  // Appends of both logs, in turn, each in its own buffer: each newest one stays, the oldest anywhere go first.
  const held = new Map([[a, [] as Uint8Array[]], [b, [] as Uint8Array[]]]);
  const next = new Map([[a, 1000], [b, 5000]]);
  const early = batchAt(rng, 1000, 3);
  a.add(early, true);
  (held.get(a) as Uint8Array[]).push(early);
  next.set(a, lastOffsetOf(early) + 1);
  const earlyRead = a.read(1000, 1 << 20, Number.MAX_SAFE_INTEGER) as Uint8Array[];
  for (let i = 0; i < 200; i++) {
    const log = i % 3 === 0 ? b : a;
    const batch = batchAt(rng, next.get(log) as number, 1 + rng.int(5));
    next.set(log, lastOffsetOf(batch) + 1);
    log.add(batch, rng.int(2) === 0);
    (held.get(log) as Uint8Array[]).push(batch);
    const newest = log.read(readI64(batch, 0), 1 << 20, Number.MAX_SAFE_INTEGER);
    if (newest?.length !== 1 || !Buffer.from(newest[0] as Uint8Array).equals(batch)) t.fail(`append ${i} is not readable right after it was added`);
    if (cache.stats().sizeBytes > cache.maxBytes) t.fail(`append ${i}: ${cache.stats().sizeBytes} bytes kept, more than ${cache.maxBytes}`);
  }
  t.same(Buffer.from(earlyRead[0] as Uint8Array), Buffer.from(early), 'a read taken before its batch was evicted still has its bytes');
  for (const [log, batches] of held) {
    const cachedFrom = log.startOffset;
    const expected = batches.filter((batch) => readI64(batch, 0) >= cachedFrom);
    t.ok(expected.length > 1 && expected.length < batches.length, `log keeps its newest ${expected.length} of ${batches.length} batches`);
    const run = log.read(cachedFrom, 1 << 20, Number.MAX_SAFE_INTEGER) as Uint8Array[];
    t.same(run.map((x) => Buffer.from(x)), expected.map((x) => Buffer.from(x)), 'the cached run is the newest batches, in order');
  }
  const stats = cache.stats();
  t.ok(stats.evictedBytes > 0 && stats.hitBytes > 0, `evicted ${stats.evictedBytes} bytes, served ${stats.hitBytes}`);
  t.ok(cache.queueLength < 100, `the queue holds about the live batches (${cache.queueLength})`);

  const jump = batchAt(rng, (next.get(a) as number) + 50, 2);
  a.add(jump, true);
  t.equal(a.startOffset, readI64(jump, 0), 'a discontinuous append starts a new run');
  a.clear();
  b.clear();
  t.equal(cache.stats().sizeBytes, 0, 'cleared logs keep nothing alive');
});

t.test('truncate and dropBelow take batches out from either end; their space comes back', async (t) => {
  const rng = seededRng(11);
  const cache = new PlaintextCache(64 * 1024);
  const log = cache.forLog();
  const batches: Uint8Array[] = [];
  for (let base = 0; batches.length < 20;) {
    const batch = batchAt(rng, base, 3);
    log.add(batch, batches.length % 2 === 0);
    batches.push(batch);
    base = lastOffsetOf(batch) + 1;
  }
  const cut = readI64(batches[15] as Uint8Array, 0) + 1;
  log.truncate(cut);
  t.equal(log.endOffset, readI64(batches[15] as Uint8Array, 0), 'a truncation inside a batch drops that batch and every later one');
  log.dropBelow(readI64(batches[5] as Uint8Array, 0) + 1);
  t.equal(log.startOffset, readI64(batches[6] as Uint8Array, 0), 'dropBelow drops every batch starting below the offset');
  const left = batches.slice(6, 15);
  t.same((log.read(log.startOffset, 1 << 20, Number.MAX_SAFE_INTEGER) as Uint8Array[]).map((x) => Buffer.from(x)), left.map((x) => Buffer.from(x)));
  t.equal(cache.stats().sizeBytes, left.reduce((sum, b) => sum + b.byteLength, 0), 'the bytes kept alive are the batches left (each in a buffer of its own size)');
  log.truncate(0);
  t.equal(cache.stats().sizeBytes, 0);
  t.equal(log.read(0, 1, 10), null);
});

/**
 * Two encrypted logs given the same operations, one with a cache of
 * `cacheBytes` and one without: after every operation, reads of the cached
 * one at random offsets, sizes and bounds must return only batches the
 * uncached one holds at those offsets now, consecutive from the one holding
 * the offset, within the size and the bound, and something whenever it does.
 */
async function differential(t: Test, seed: number, cacheBytes: number): Promise<{ hitBytes: number; checked: number }> {
  const rng = seededRng(seed);
  const keys = parseKeyring(`k1=${Buffer.alloc(32, 1).toString('base64')}`, 'test keyring');
  const config = parseLogConfig({ 'segment.bytes': '2048', 'index.interval.bytes': '256', 'flush.ms': '9223372036854775807', 'encryption.enabled': 'true', 'cleanup.policy': 'compact,delete' });
  const cache = new PlaintextCache(cacheBytes);
  const fsCached = new SimulatedFileSystem();
  const fsPlainReads = new SimulatedFileSystem();
  const clock = new ManualClock();
  const openBoth = async (): Promise<[PartitionLog, PartitionLog]> => [
    await PartitionLog.open({ dir: '/d/p-0', config, fs: fsCached, clock, encryption: { keys, rng: seededRng(seed + 1), cache } }),
    await PartitionLog.open({ dir: '/d/p-0', config, fs: fsPlainReads, clock, encryption: { keys, rng: seededRng(seed + 2) } }),
  ];
  let [cached, reference] = await openBoth();
  let epoch = 0;
  let checked = 0;

  /** The reference log's batches now, in order. */
  const referenceBatches = async (): Promise<Uint8Array[]> => {
    const out: Uint8Array[] = [];
    for (let offset = reference.logStartOffset, rounds = 0; offset < reference.logEndOffset && rounds < 10_000; rounds++) {
      const { records } = await reference.read(offset, 1 << 20);
      if (records.length === 0) break;
      for (const batch of records) out.push(Uint8Array.from(batch));
      offset = lastOffsetOf(records.at(-1) as Uint8Array) + 1;
    }
    return out;
  };

  const check = async (when: string): Promise<void> => {
    t.equal(cached.logEndOffset, reference.logEndOffset, `${when}: same log end`);
    const all = await referenceBatches();
    const start = reference.logStartOffset;
    const end = reference.logEndOffset;
    for (let i = 0; i < 6 && end > start; i++) {
      const fetchOffset = start + rng.int(end - start);
      const maxBytes = 1 + rng.int(3000);
      const limit = fetchOffset + 1 + rng.int(end - fetchOffset);
      const got = (await cached.read(fetchOffset, maxBytes, limit)).records;
      const at = all.findIndex((batch) => readI64(batch, 0) <= fetchOffset && lastOffsetOf(batch) >= fetchOffset);
      const bad = (why: string): void => {
        t.fail(`${when}: read(${fetchOffset}, ${maxBytes}, ${limit}): ${why}`);
      };
      checked += 1;
      if (at < 0) {
        // Inside a batch compaction emptied of the offset: the read starts at the next batch after it.
        if (got.length > 0 && readI64(got[0] as Uint8Array, 0) < fetchOffset) bad('a batch before the offset');
        continue;
      }
      if ((lastOffsetOf(all[at] as Uint8Array) < limit) !== (got.length > 0)) bad(`returned ${got.length} batches`);
      let size = 0;
      got.forEach((batch, j) => {
        size += batch.byteLength;
        if (!Buffer.from(batch).equals(Buffer.from(all[at + j] ?? new Uint8Array()))) bad(`batch ${j} is not the log's batch at offset ${readI64(batch, 0)}`);
        if (lastOffsetOf(batch) >= limit) bad(`batch ${j} ends at or past the bound`);
      });
      if (got.length > 1 && size > maxBytes) bad(`${size} bytes in ${got.length} batches, over ${maxBytes}`);
    }
  };

  const both = async (op: (log: PartitionLog) => unknown): Promise<void> => {
    await op(cached);
    await op(reference);
  };

  for (let step = 0; step < 120; step++) {
    const roll = rng.int(100);
    const end = reference.logEndOffset;
    let what: string;
    if (roll < 55) {
      const batch = batchAt(rng, 0, 1 + rng.int(6));
      // As a produce request's frame (kept as it is), or as a writer that reuses its buffer (scribbled over after).
      const immutable = rng.int(2) === 0;
      what = `append at ${end}${immutable ? '' : ' (buffer reused after)'}`;
      await both((log) => {
        const records = Uint8Array.from(batch);
        log.append(records, { leaderEpoch: epoch, immutable });
        if (!immutable) records.fill(0x5a);
      });
    } else if (roll < 67 && end > reference.logStartOffset) {
      // A truncation (or, now and then, a replica starting over), then other bytes at the same offsets: as a new
      // leader appends them (cached), or as a follower does (not cached: nothing may be left from before the cut).
      const restart = rng.int(4) === 0;
      const to = restart ? end - rng.int(Math.min(3, end) + 1) : reference.logStartOffset + rng.int(end - reference.logStartOffset + 1);
      epoch += 1;
      const asLeader = rng.int(2) === 0;
      what = `${restart ? 'start over at' : 'truncate to'} ${to}, then ${asLeader ? 'leader' : 'follower'} appends in epoch ${epoch}`;
      await both((log) => (restart ? log.truncateFullyAndStartAt(to) : log.truncateTo(to)));
      const batch = batchAt(rng, to, 1 + rng.int(4), epoch);
      await both((log) => (asLeader ? log.append(Uint8Array.from(batch), { leaderEpoch: epoch, immutable: true }) : log.appendAsFollower(Uint8Array.from(batch))));
    } else if (roll < 74) {
      // A follower's append (not cached): what the cache holds must still be the log's.
      const batch = batchAt(rng, end, 1 + rng.int(4), epoch);
      what = `follower append at ${end}`;
      await both((log) => log.appendAsFollower(Uint8Array.from(batch)));
    } else if (roll < 82) {
      what = 'compaction';
      await both(async (log) => {
        await log.flush();
        await log.compact();
      });
    } else if (roll < 87 && end > reference.logStartOffset) {
      const to = reference.logStartOffset + rng.int(end - reference.logStartOffset + 1);
      what = `DeleteRecords to ${to}`;
      await both(async (log) => {
        await log.flush();
        await log.advanceLogStart(to);
      });
    } else if (roll < 90) {
      what = 'restart';
      await both((log) => log.close());
      [cached, reference] = await openBoth();
    } else {
      what = 'flush';
      await both((log) => log.flush());
    }
    await check(`seed ${seed} step ${step} (${what})`);
  }
  await both((log) => log.close());
  t.equal(cache.stats().sizeBytes, 0, 'a closed log gives its cache back');
  return { hitBytes: cache.stats().hitBytes, checked };
}

t.test('an encrypted log with the cache reads as one without it, through truncations, compaction, DeleteRecords and restarts', async (t) => {
  let hitBytes = 0;
  let checked = 0;
  for (let seed = 1; seed <= 24; seed++) {
    // A cache smaller than a segment (evicting all the time), one of a few segments, and one holding everything.
    const result = await differential(t, seed, [1500, 6 * 1024, 1 << 20][seed % 3] as number);
    hitBytes += result.hitBytes;
    checked += result.checked;
  }
  t.ok(hitBytes > 100_000, `reads answered from the cache: ${hitBytes} bytes (${checked} reads checked)`);
});
