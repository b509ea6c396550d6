/**
 * Encryption at rest, reads opened on worker threads
 * (storage/encryption/batch-opener.ts): a read into shared memory (as a
 * fetch reads) hands its envelopes to the opener; the bytes that come back
 * must be exactly what the inline path gives, through key rotation, a
 * truncation (also one that starts while the worker runs), compaction,
 * tampering and a missing key.
 */
import t from 'tap';
import { sealBatchCrc, stampBatch } from '../../protocol/batch/header.js';
import { buildBatch } from '../../protocol/batch/builder.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { seededRng } from '../../broker/world/rng.js';
import { WorkerBatchOpener, runOpenRequest, type BatchOpener, type OpenReply, type OpenRequest } from '../../broker/storage/encryption/batch-opener.js';
import { isEncryptedBatch } from '../../broker/storage/encryption/batch-envelope.js';
import { EncryptionKeyError, parseKeyring, type KeyProvider } from '../../broker/storage/encryption/key-provider.js';
import { CorruptLogError } from '../../broker/storage/errors.js';
import { parseLogConfig } from '../../broker/storage/log-config.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { LOG_SUFFIX } from '../../broker/storage/segment-names.js';
import { ReadBufferPool } from '../../broker/handlers/read-buffers.js';
import { bytes } from '../support/storage-fixtures.js';

const DIR = '/data/offthread-0';
const K1 = Buffer.alloc(32, 1).toString('base64');
const K2 = Buffer.alloc(32, 2).toString('base64');
const ring1 = (): KeyProvider => parseKeyring(`k1=${K1}`, 'test keyring');
const ring12 = (): KeyProvider => parseKeyring(`k1=${K1}\nk2=${K2}`, 'test keyring');
/** Reads large enough to go to the worker (OFF_THREAD_MIN_BYTES is 64 KiB). */
const READ_BYTES = 256 * 1024;

/** The real worker pool (one thread), shared by every test here; counts the requests it was given. */
const pool = new WorkerBatchOpener(1);
t.teardown(() => pool.close());
let requests = 0;
const counting = (inner: BatchOpener = pool): BatchOpener => ({
  run: (request) => {
    requests += 1;
    return inner.run(request);
  },
  close: () => Promise.resolve(),
});

/** A fetch's buffer: shared memory, so the read may be opened off the event loop. */
const shared = (size: number): Buffer => Buffer.from(new SharedArrayBuffer(size));

/** A batch of `records` records of ~1 KiB whose values start with `tag`. */
function batchOf(tag: string, records: number): Uint8Array {
  return buildBatch(Array.from({ length: records }, (_, i) => ({ key: bytes(`key-${i % 5}`), value: bytes(`${tag}-${i}-`.padEnd(1024, 'x')), timestamp: 1_000 + i })), { nowMs: 1_000 });
}

async function openLog(fs: SimulatedFileSystem, keys: KeyProvider, opener: BatchOpener, overrides: Record<string, string> = {}): Promise<PartitionLog> {
  const config = parseLogConfig({ 'segment.bytes': '1048576', 'flush.ms': '9223372036854775807', 'encryption.enabled': 'true', ...overrides });
  return PartitionLog.open({ dir: DIR, config, fs, clock: new ManualClock(), encryption: { keys, rng: seededRng(7), opener } });
}

/** Every batch from `from` to the log end, read in READ_BYTES reads into `allocate`'s buffers, copied out. */
async function readAll(log: PartitionLog, allocate?: (size: number) => Buffer, from = log.logStartOffset): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let offset = from, rounds = 0; offset < log.logEndOffset && rounds < 1_000; rounds++) {
    const { records } = await log.read(offset, READ_BYTES, undefined, allocate);
    if (records.length === 0) break;
    for (const batch of records) {
      out.push(Buffer.from(batch));
      const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
      offset = Number(view.getBigInt64(0)) + view.getInt32(23) + 1;
    }
  }
  return out;
}

t.test('reads into shared memory are opened by the worker and give back exactly what inline opening gives', async (t) => {
  const fs = new SimulatedFileSystem();
  // Plain batches first, then encryption turned on under k1, then rotated to k2: one read meets all three kinds.
  const plain = await openLog(fs, ring1(), counting(), { 'encryption.enabled': 'false' });
  for (let i = 0; i < 4; i++) plain.append(batchOf(`plain${i}`, 20), { leaderEpoch: 0 });
  await plain.close();
  const first = await openLog(fs, ring1(), counting());
  for (let i = 0; i < 8; i++) first.append(batchOf(`k1-${i}`, 20), { leaderEpoch: 0 });
  await first.close();
  const log = await openLog(fs, ring12(), counting());
  for (let i = 0; i < 8; i++) log.append(batchOf(`k2-${i}`, 20), { leaderEpoch: 0 });
  t.ok(log.pendingBytes > 0 || log.segmentCount > 0, 'the log has what to read');

  const inline = await readAll(log);
  t.equal(inline.length, 20, 'every batch reads inline (a fresh, unshared buffer)');
  t.equal(requests, 0, 'inline: no worker request');
  const offThread = await readAll(log, shared);
  t.ok(requests > 0, `${requests} reads went to the worker`);
  t.same(offThread, inline, 'byte for byte the same batches, CRC included');
  t.ok(offThread.every((batch) => !isEncryptedBatch(batch, 0)), 'no envelope is served');
  t.match(offThread[0]!.toString('latin1'), /plain0-0-/, 'the plain batches come through as they are');
  t.match(offThread[19]!.toString('latin1'), /k2-7-0-/, 'the last batch is the last one appended under k2');
  await log.close();
});

t.test('after a truncation, after compaction: the worker path reads the log as it is now', async (t) => {
  const fs = new SimulatedFileSystem();
  const log = await openLog(fs, ring1(), counting(), { 'cleanup.policy': 'compact', 'segment.bytes': '65536' });
  for (let i = 0; i < 20; i++) log.append(batchOf(`old${i}`, 10), { leaderEpoch: 0 });
  await log.flush();
  await log.truncateTo(100);
  // A follower's re-write of the cut offsets with other records.
  for (let i = 0; i < 5; i++) {
    const batch = batchOf(`new${i}`, 20);
    stampBatch(batch, 0, 100 + i * 20, 1);
    log.appendAsFollower(batch);
  }
  await log.flush();
  const afterTruncation = await readAll(log, shared);
  t.same(afterTruncation, await readAll(log), 'same as inline after the truncation');
  t.match(afterTruncation.at(-1)!.toString('latin1'), /new4-19-/, 'the re-written batches, not the cut ones');
  t.notMatch(Buffer.concat(afterTruncation).toString('latin1'), /old1[0-9]-/, 'nothing that was cut comes back');

  const result = await log.compact();
  t.ok(result.groupsSwapped > 0, 'compaction rewrote segments (sealed again)');
  const afterCompaction = await readAll(log, shared);
  t.same(afterCompaction, await readAll(log), 'same as inline after compaction');
  t.ok(afterCompaction.length > 0);
  await log.close();
});

t.test('a truncation that starts while the worker opens a read: the read is done again, and returns the new bytes', async (t) => {
  const fs = new SimulatedFileSystem();
  let log: PartitionLog | null = null;
  let rewrite = true;
  // The first worker request lets the log be cut and re-written before it is answered.
  const racing: BatchOpener = {
    run: async (request: OpenRequest): Promise<OpenReply> => {
      const reply = pool.run(request);
      if (rewrite && log !== null) {
        rewrite = false;
        await log.truncateTo(0);
        for (let i = 0; i < 4; i++) {
          const batch = batchOf(`after${i}`, 20);
          stampBatch(batch, 0, i * 20, 1);
          log.appendAsFollower(batch);
        }
      }
      return reply;
    },
    close: () => Promise.resolve(),
  };
  log = await openLog(fs, ring1(), racing);
  for (let i = 0; i < 4; i++) log.append(batchOf(`before${i}`, 20), { leaderEpoch: 0 });
  const { records } = await log.read(0, READ_BYTES, undefined, shared);
  t.equal(rewrite, false, 'the truncation ran while the read waited for the worker');
  const text = Buffer.concat(records.map((b) => Buffer.from(b))).toString('latin1');
  t.match(text, /after0-0-/, 'the read returns the log as it is after the truncation');
  t.notMatch(text, /before/, 'not the batches the truncation cut');
  await log.close();
});

t.test('a tampered batch opened by the worker is corruption at its position; a missing key stays a key error', async (t) => {
  const fs = new SimulatedFileSystem();
  const log = await openLog(fs, ring1(), counting());
  for (let i = 0; i < 6; i++) log.append(batchOf(`t${i}`, 20), { leaderEpoch: 0 });
  await log.close();
  const file = (await fs.readdir(DIR)).find((name) => name.endsWith(LOG_SUFFIX))!;
  const data = Buffer.from(await fs.readFile(`${DIR}/${file}`));
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const firstSize = 12 + view.getInt32(8);
  const secondSize = 12 + view.getInt32(firstSize + 8);
  const victim = data.subarray(firstSize, firstSize + secondSize);
  victim[victim.byteLength - 40] = (victim[victim.byteLength - 40] as number) ^ 0x01;
  sealBatchCrc(victim, 0, victim.byteLength);
  const handle = fs.open(`${DIR}/${file}`, 'r+');
  handle.write(victim, firstSize);
  handle.close();

  const before = requests;
  const damaged = await openLog(fs, ring1(), counting());
  const err = await damaged.read(0, READ_BYTES, undefined, shared).then(() => null, (e: unknown) => e);
  t.ok(requests > before, 'the read went to the worker');
  t.ok(err instanceof CorruptLogError, 'a batch that does not authenticate is CorruptLogError');
  t.match((err as Error).message, new RegExp(`byte ${firstSize}\\b.*does not authenticate`), 'at the damaged batch\'s place in the file');
  t.ok(damaged.isOffline, 'the log goes offline: never served, never skipped');
  await damaged.close().catch(() => undefined);

  const missing = await openLog(fs, parseKeyring(`k2=${K2}`, 'the keyring'), counting());
  const refused = await missing.read(0, READ_BYTES, undefined, shared).then(() => null, (e: unknown) => e);
  t.ok(refused instanceof EncryptionKeyError, 'a key the ring lacks is EncryptionKeyError, found before any worker request');
  t.match((refused as Error).message, /the batch at byte 0 is encrypted under key 'k1', and no encryption key 'k1'/);
  t.equal(missing.isOffline, false, 'and the log stays online');
  await missing.close().catch(() => undefined);
});

t.test('runOpenRequest: opens in place, leaves plain batches, reports a bad envelope by index', async (t) => {
  const fs = new SimulatedFileSystem();
  const log = await openLog(fs, ring1(), counting());
  for (let i = 0; i < 3; i++) log.append(batchOf(`r${i}`, 2), { leaderEpoch: 0 });
  await log.flush();
  const file = (await fs.readdir(DIR)).find((name) => name.endsWith(LOG_SUFFIX))!;
  const disk = await fs.readFile(`${DIR}/${file}`);
  const expected = await readAll(log);
  await log.close();
  const view = new DataView(disk.buffer, disk.byteOffset, disk.byteLength);
  const sizes: number[] = [];
  for (let pos = 0; pos < disk.byteLength; pos += sizes.at(-1)!) sizes.push(12 + view.getInt32(pos + 8));
  const request = (): OpenRequest => {
    const buffer = shared(disk.byteLength + 10);
    buffer.set(disk, 10);
    return { shared: buffer.buffer as SharedArrayBuffer, offset: 10, sizes, keys: { k1: Buffer.from(K1, 'base64') } };
  };
  const ok = request();
  const reply = runOpenRequest(ok);
  t.same(reply.kind === 'opened' ? reply.sizes : null, expected.map((b) => b.byteLength), 'the plaintext size of each batch');
  let at = 10;
  const opened = sizes.map((size, i) => {
    const batch = Buffer.from(ok.shared, at, reply.kind === 'opened' ? reply.sizes[i] : 0);
    at += size;
    return Buffer.from(batch);
  });
  t.same(opened, expected, 'each plaintext batch where its envelope began');
  const bad = runOpenRequest({ ...request(), keys: { k1: Buffer.from(K2, 'base64') } });
  t.same(bad.kind === 'corrupt' ? [bad.index, /does not authenticate/.test(bad.message)] : null, [0, true], 'a wrong key: the first batch does not authenticate');
  t.throws(() => runOpenRequest({ ...request(), keys: {} }), /no key 'k1' was sent/, 'a key the caller failed to send is a bug, not corruption');
});

t.test('the fetch read-buffer pool: shared memory only when asked (an encrypted topic\'s read), each kind recycled apart', async (t) => {
  const pool = new ReadBufferPool(1024 * 1024, 2);
  const plain = pool.take(512 * 1024);
  const sharedOne = pool.take(512 * 1024, true);
  t.notOk(plain.buffer instanceof SharedArrayBuffer, 'plain reads keep ordinary buffers');
  t.ok(sharedOne.buffer instanceof SharedArrayBuffer, 'a read of an encrypted topic gets shared memory');
  t.ok(pool.take(100, true).buffer instanceof SharedArrayBuffer, 'also when too small to pool');
  pool.give(plain);
  pool.give(sharedOne);
  t.equal(pool.take(512 * 1024, true), sharedOne, 'a shared buffer comes back to a shared read');
  t.equal(pool.take(512 * 1024), plain, 'an ordinary one to an ordinary read');
});
