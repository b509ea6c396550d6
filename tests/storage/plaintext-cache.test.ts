/**
 * The plaintext cache of encrypted logs (storage/encryption/plaintext-cache.ts):
 * the ring alone (what it keeps, what it lets go, that what a read got stays
 * its own), then an encrypted PartitionLog with the cache against one
 * without it, through seeded random appends, truncations and re-appends of
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
  return batch;
}

t.test('the ring: the newest append is always there, the oldest anywhere goes first, reads are copies', async (t) => {
  const rng = seededRng(7);
  const cache = new PlaintextCache(4096);
  const a = cache.forLog();
  const b = cache.forLog();
  const first = batchAt(rng, 0, 4);
  a.add(first);
  const got = a.read(0, 1, Number.MAX_SAFE_INTEGER);
  t.same(got?.map((x) => Buffer.from(x)), [Buffer.from(first)], 'a read gives the batch holding the offset (at least one batch, past maxBytes)');
  (got?.[0] as Uint8Array).fill(0);
  t.same(Buffer.from((a.read(0, 1, Number.MAX_SAFE_INTEGER) as Uint8Array[])[0] as Uint8Array), Buffer.from(first), 'what a read got is its own: writing to it changes nothing cached');
  t.same(a.read(0, 1 << 20, lastOffsetOf(first)), [], 'a batch that does not end below the bound is not returned');
  t.equal(a.read(lastOffsetOf(first) + 1, 1 << 20, Number.MAX_SAFE_INTEGER), null, 'an offset past the cached run is not the cache\'s to answer');

  // Appends of both logs, in turn, until the ring has wrapped many times: each newest one stays, the oldest go.
  const held = new Map([[a, [first]], [b, [] as Uint8Array[]]]);
  const next = new Map([[a, lastOffsetOf(first) + 1], [b, 100]]);
  const early = a.read(0, 1 << 20, Number.MAX_SAFE_INTEGER) as Uint8Array[];
  for (let i = 0; i < 200; i++) {
    const log = i % 3 === 0 ? b : a;
    const batch = batchAt(rng, next.get(log) as number, 1 + rng.int(5));
    next.set(log, lastOffsetOf(batch) + 1);
    log.add(batch);
    (held.get(log) as Uint8Array[]).push(batch);
    const newest = log.read(readI64(batch, 0), 1 << 20, Number.MAX_SAFE_INTEGER);
    if (newest?.length !== 1 || !Buffer.from(newest[0] as Uint8Array).equals(batch)) t.fail(`append ${i} is not readable right after it was added`);
    if (cache.stats().sizeBytes > cache.maxBytes) t.fail(`append ${i}: ${cache.stats().sizeBytes} bytes held, more than ${cache.maxBytes}`);
  }
  t.same(Buffer.from(early[0] as Uint8Array), Buffer.from(first), 'a read taken before the ring wrapped is untouched by the appends that overwrote its ring bytes');
  for (const [log, batches] of held) {
    // What is cached is a run of the newest batches of the log, byte for byte.
    const cachedFrom = log.startOffset;
    const expected = batches.filter((batch) => readI64(batch, 0) >= cachedFrom);
    t.ok(expected.length > 1 && expected.length < batches.length, `log keeps its newest ${expected.length} of ${batches.length} batches`);
    const got = log.read(cachedFrom, 1 << 20, Number.MAX_SAFE_INTEGER) as Uint8Array[];
    t.same(got.map((x) => Buffer.from(x)), expected.map((x) => Buffer.from(x)), 'the cached run is the newest batches, in order');
  }
  const stats = cache.stats();
  t.ok(stats.evictedBytes > 0 && stats.hitBytes > 0, `evicted ${stats.evictedBytes} bytes, served ${stats.hitBytes}`);

  // A run that does not continue the log's cached one replaces it; an append bigger than the ring is not kept.
  const jump = batchAt(rng, (next.get(a) as number) + 50, 2);
  a.add(jump);
  t.equal(a.startOffset, readI64(jump, 0), 'a discontinuous append starts a new run');
  const huge = batchAt(rng, lastOffsetOf(jump) + 1, 60);
  t.ok(huge.byteLength > cache.maxBytes);
  a.add(huge);
  t.equal(a.startOffset, -1, 'an append larger than the ring is not kept, and the run it broke is gone');
  a.clear();
  b.clear();
  t.equal(cache.stats().sizeBytes, 0, 'cleared logs hold nothing');
});

t.test('truncate and dropBelow take batches out from either end; their space comes back', async (t) => {
  const rng = seededRng(11);
  const cache = new PlaintextCache(64 * 1024);
  const log = cache.forLog();
  const batches: Uint8Array[] = [];
  for (let base = 0; batches.length < 20;) {
    const batch = batchAt(rng, base, 3);
    log.add(batch);
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
  t.equal(cache.stats().sizeBytes, left.reduce((sum, b) => sum + b.byteLength, 0), 'the bytes held are the batches left');
  log.truncate(0);
  t.equal(cache.stats().sizeBytes, 0);
  t.equal(log.read(0, 1, 10), null);
});

t.test('a log stops being kept once a batch of it leaves the ring unread, keeps what it holds, and starts again for a read of what came since', async (t) => {
  const rng = seededRng(13);
  const cache = new PlaintextCache(16 * 1024);
  const log = cache.forLog();
  let base = 0;
  const append = (): Uint8Array => {
    const batch = batchAt(rng, base, 4);
    base = lastOffsetOf(batch) + 1;
    log.add(batch);
    return batch;
  };
  // A reader at the tail: kept while the ring turns over many times.
  let found = 0;
  for (let i = 0; i < 200; i++) {
    const batch = append();
    if (log.read(readI64(batch, 0), 1 << 20, Number.MAX_SAFE_INTEGER) !== null) found += 1;
  }
  t.equal(found, 200, 'every tail read found the newest append');
  t.ok(log.keeping && cache.stats().evictedBytes > 3 * cache.maxBytes, `still keeping, after ${cache.stats().evictedBytes} bytes went through a ring of ${cache.maxBytes}`);

  // The reader goes: appends are kept until the first unread batch is pushed out, then no more.
  let unread = 0;
  for (let i = 0; log.keeping && i < 1000; i++) unread += append().byteLength;
  t.notOk(log.keeping, 'stopped');
  t.ok(unread > cache.maxBytes / 2 && unread <= cache.maxBytes + 2048, `stopped after ${unread} unread bytes, about a ring of ${cache.maxBytes}`);
  const held = cache.stats().sizeBytes;
  const heldEnd = log.endOffset;
  t.ok(held > 0, `what it holds stays for a reader just behind (${held} bytes)`);
  append();
  t.equal(log.endOffset, heldEnd, 'later appends are not kept');

  // A read behind the point where it stopped (a reader catching up, or one reading what is held) does not start it again.
  t.not(log.read(log.startOffset, 1 << 20, Number.MAX_SAFE_INTEGER), null, 'a read of what it holds is answered');
  log.noteMiss(100, heldEnd - 1);
  append();
  t.notOk(log.keeping, 'reads before where it stopped change nothing');
  log.noteMiss(100, heldEnd);
  t.ok(log.keeping, 'a read of what came since: kept again');
  const batch = append();
  t.same(log.read(readI64(batch, 0), 1 << 20, Number.MAX_SAFE_INTEGER)?.map((x) => Buffer.from(x)), [Buffer.from(batch)], 'the next append is there for the reader');

  // Stopped again, then the log is cut below where it stopped: a read from the new end counts.
  for (let i = 0; log.keeping && i < 1000; i++) append();
  t.notOk(log.keeping, 'stopped again');
  const cut = log.startOffset;
  log.truncate(cut);
  log.noteMiss(100, cut);
  t.ok(log.keeping, 'after a truncation below it, a read from the new log end starts keeping again');
});

t.test('logs nobody reads cost one pass through the ring in all, not one each; a read log sharing it stays kept', async (t) => {
  const rng = seededRng(17);
  const cache = new PlaintextCache(32 * 1024);
  const unread = Array.from({ length: 6 }, () => ({ log: cache.forLog(), next: 0 }));
  const read = { log: cache.forLog(), next: 0 };
  let admitted = 0;
  for (let round = 0; round < 300; round++) {
    for (const entry of [...unread, read]) {
      const batch = batchAt(rng, entry.next, 3);
      entry.next = lastOffsetOf(batch) + 1;
      const before = entry.log.keeping;
      entry.log.add(batch);
      if (before && entry !== read) admitted += batch.byteLength;
      if (entry === read && read.log.read(readI64(batch, 0), 1 << 20, Number.MAX_SAFE_INTEGER) === null) t.fail(`round ${round}: the read log lost its newest append`);
    }
  }
  t.ok(unread.every((entry) => !entry.log.keeping), 'every unread log stopped');
  t.ok(read.log.keeping, 'the log that is read is still kept');
  t.ok(admitted < 2 * cache.maxBytes, `the unread logs copied ${admitted} bytes in all, under two rings of ${cache.maxBytes}`);
});

t.test('an encrypted log: appends nobody reads stop being kept; a read of the tail brings the cache back for what follows', async (t) => {
  const keys = parseKeyring(`k1=${Buffer.alloc(32, 1).toString('base64')}`, 'test keyring');
  const config = parseLogConfig({ 'flush.ms': '9223372036854775807', 'encryption.enabled': 'true' });
  const cache = new PlaintextCache(16 * 1024);
  const rng = seededRng(19);
  const log = await PartitionLog.open({ dir: '/d/p-0', config, fs: new SimulatedFileSystem(), clock: new ManualClock(), encryption: { keys, rng: seededRng(20), cache } });
  t.teardown(() => log.close());
  for (let i = 0; i < 200; i++) log.append(batchAt(rng, 0, 4), { leaderEpoch: 0 });
  const held = cache.stats().sizeBytes;
  for (let i = 0; i < 5; i++) log.append(batchAt(rng, 0, 4), { leaderEpoch: 0 });
  t.equal(cache.stats().sizeBytes, held, 'appends nobody read: no longer kept');
  // A consumer shows up near the tail: its read misses (from disk), and the next append is kept for it.
  const end = log.logEndOffset;
  const missed = cache.stats().missBytes;
  const fromDisk = await log.read(end - 4, 1 << 20);
  t.equal(fromDisk.records.length, 1);
  t.ok(cache.stats().missBytes > missed, 'the tail read came from disk');
  log.append(batchAt(rng, 0, 4), { leaderEpoch: 0 });
  const before = cache.stats().hitBytes;
  const next = await log.read(end, 1 << 20);
  t.equal(next.records.length, 1);
  t.ok(cache.stats().hitBytes > before, 'the append after the tail read came from the cache');
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
      what = `append at ${end}`;
      await both((log) => log.append(Uint8Array.from(batch), { leaderEpoch: epoch }));
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
      await both((log) => (asLeader ? log.append(Uint8Array.from(batch), { leaderEpoch: epoch }) : log.appendAsFollower(Uint8Array.from(batch))));
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
    // A ring smaller than a segment (evicting and wrapping all the time), one of a few segments, and one holding everything.
    const result = await differential(t, seed, [1500, 6 * 1024, 1 << 20][seed % 3] as number);
    hitBytes += result.hitBytes;
    checked += result.checked;
  }
  t.ok(hitBytes > 100_000, `reads answered from the cache: ${hitBytes} bytes (${checked} reads checked)`);
});
