/**
 * Encryption at rest, large appends sealed on two threads
 * (storage/encryption/parallel-sealer.ts): the event loop seals the first
 * batches while the seal worker seals the rest in shared memory. The bytes
 * must be exactly what sealing inline gives with the same nonces (so what
 * lands on disk is the same whichever thread sealed it), for appends of
 * every shape, at any alignment, one after another and growing; a worker
 * that does not answer in time is abandoned and its half sealed inline; a
 * half the worker cannot seal fails the append with the worker's message;
 * a worker's late wake-up from one job does not end the wait for the next;
 * an event-loop half that throws never leaves the worker running on
 * buffers the next append reuses.
 */
import t from 'tap';
import type { Test } from 'tap';
import { buildBatch } from '../../protocol/batch/builder.js';
import { BATCH_OFFSET_LENGTH, batchSizeAt } from '../../protocol/batch/header.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { seededRng } from '../../broker/world/rng.js';
import { envelopeOverhead, isEncryptedBatch, openBatch } from '../../broker/storage/encryption/batch-envelope.js';
import { aesGcm } from '../../broker/storage/encryption/aes-gcm.js';
import { parseKeyring, type KeyProvider } from '../../broker/storage/encryption/key-provider.js';
import { LogCipher } from '../../broker/storage/encryption/log-cipher.js';
import { ParallelSealer, PARALLEL_SEAL_MIN_BYTES, type ParallelSealerOptions } from '../../broker/storage/encryption/parallel-sealer.js';
import { parseLogConfig } from '../../broker/storage/log-config.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { LOG_SUFFIX } from '../../broker/storage/segment-names.js';

const KEY = Buffer.alloc(32, 5);
const keys = (): KeyProvider => parseKeyring(`k1=${KEY.toString('base64')}`, 'test keyring');

/** A batch of `records` records of `valueBytes` bytes whose values depend on `tag`. */
function batchOf(tag: number, records: number, valueBytes: number): Uint8Array {
  return buildBatch(Array.from({ length: records }, (_, i) => ({ key: null, value: new Uint8Array(valueBytes).fill((tag * 31 + i) & 0xff), timestamp: 1_000 + i })), { nowMs: 1_000 });
}

/** The batches one after the other, starting `offset` bytes into a fresh buffer (so the append's alignment varies). */
function appendOf(batches: Uint8Array[], offset = 0): Uint8Array {
  const total = batches.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(offset + total);
  let at = offset;
  for (const b of batches) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out.subarray(offset);
}

/** A sealer whose worker has started (it seals inline until then). */
async function readySealer(t: Test, opts: ParallelSealerOptions = {}): Promise<ParallelSealer> {
  const sealer = new ParallelSealer({ minBytes: 64 * 1024, ...opts });
  t.teardown(() => sealer.close());
  t.ok(await sealer.whenStarted(), 'the seal worker started');
  return sealer;
}

/** Every batch of a sealed append opened again: its plaintext bytes, in order. */
function openedAll(sealed: Uint8Array): Uint8Array[] {
  const key = aesGcm().key(KEY);
  const out: Uint8Array[] = [];
  for (let pos = 0; pos < sealed.byteLength;) {
    const size = batchSizeAt(sealed, pos);
    if (!isEncryptedBatch(sealed, pos)) throw new Error(`batch at ${pos} is not sealed`);
    const plain = new Uint8Array(size);
    out.push(plain.subarray(0, openBatch(sealed, pos, size, key, plain, 0)));
    pos += size;
  }
  return out;
}

t.test('appends of every shape seal to the bytes inline sealing gives, and open back to what was appended', async (t) => {
  const sealer = await readySealer(t);
  const inline = new LogCipher({ keys: keys(), rng: seededRng(11) });
  const parallel = new LogCipher({ keys: keys(), rng: seededRng(11), sealer });
  const shapes: { name: string; batches: Uint8Array[] }[] = [
    { name: 'two batches', batches: [batchOf(1, 40, 1000), batchOf(2, 40, 1000)] },
    { name: 'one small batch, then one large (the worker takes nearly all)', batches: [batchOf(3, 1, 100), batchOf(4, 200, 1000)] },
    { name: 'one large, then small ones', batches: [batchOf(5, 200, 1000), ...Array.from({ length: 9 }, (_, i) => batchOf(6 + i, 1, 50))] },
    { name: '64 batches of 64 KiB (a full Produce request)', batches: Array.from({ length: 64 }, (_, i) => batchOf(20 + i, 64, 1000)) },
    { name: '600 batches of odd sizes', batches: Array.from({ length: 600 }, (_, i) => batchOf(90 + i, 1 + (i % 7), 97 + ((i * 37) % 400))) },
    { name: 'a larger append again (the buffers grow)', batches: Array.from({ length: 100 }, (_, i) => batchOf(700 + i, 64, 1000)) },
  ];
  for (const { name, batches } of shapes) {
    for (const offset of [0, 3, 5]) {
      const records = appendOf(batches, offset);
      t.ok(sealer.takes(records.byteLength, batches.length, records.byteLength + batches.length * 100), `${name}: the sealer takes it`);
      const expected = Buffer.from(inline.seal(records));
      const jobs = sealer.jobs;
      const sealed = parallel.seal(records);
      t.ok(sealed.buffer instanceof SharedArrayBuffer && sealer.jobs === jobs + 1, `${name}: sealed on two threads`);
      const got = Buffer.from(sealed);
      t.ok(got.equals(expected), `${name}, at byte offset ${offset}: the same bytes as inline (${got.byteLength} bytes)`);
      const opened = openedAll(got);
      t.equal(opened.length, batches.length, `${name}: every batch sealed`);
      t.ok(opened.every((plain, i) => Buffer.from(plain).equals(Buffer.from(batches[i]!))), `${name}: each opens to the batch appended`);
    }
  }
});

t.test('small appends, single batches and appends too large for its buffers are left to the inline path', async (t) => {
  const sealer = await readySealer(t, { minBytes: PARALLEL_SEAL_MIN_BYTES });
  t.notOk(sealer.takes(PARALLEL_SEAL_MIN_BYTES - 1, 4, PARALLEL_SEAL_MIN_BYTES + 400), 'below the minimum');
  t.notOk(sealer.takes(4 * 1024 * 1024, 1, 4 * 1024 * 1024 + 100), 'one batch');
  t.notOk(sealer.takes(16 * 1024 * 1024, 256, 16 * 1024 * 1024 + 25_600), 'past the output buffer\'s limit');
  t.notOk(sealer.takes(4 * 1024 * 1024, 9_000, 4 * 1024 * 1024 + 900_000), 'more batches than the board has nonces for');
  t.ok(sealer.takes(4 * 1024 * 1024, 64, 4 * 1024 * 1024 + 6_400), 'a full Produce request');
  await sealer.close();
  t.notOk(sealer.takes(4 * 1024 * 1024, 64, 4 * 1024 * 1024 + 6_400), 'nothing once closed');
});

t.test('a worker that does not answer in time is abandoned: its half is sealed inline, the bytes are the same, later appends seal inline', async (t) => {
  const abandoned: string[] = [];
  // A worker that says it runs and then never looks at a job.
  const sealer = await readySealer(t, { answerTimeoutMs: 50, onAbandoned: (reason) => abandoned.push(reason), workerFile: new URL('../support/silent-seal-worker.js', import.meta.url) });
  const inline = new LogCipher({ keys: keys(), rng: seededRng(12) });
  const parallel = new LogCipher({ keys: keys(), rng: seededRng(12), sealer });
  const records = appendOf([batchOf(1, 1, 1000), ...Array.from({ length: 32 }, (_, i) => batchOf(2 + i, 64, 1000))]);
  const expected = Buffer.from(inline.seal(records));
  const got = parallel.seal(records);
  t.ok(Buffer.from(got).equals(expected), 'the same bytes as inline');
  t.ok(!(got.buffer instanceof SharedArrayBuffer), 'in memory of its own, which the stray worker cannot write');
  t.same(abandoned, ['no answer within 50 ms'], 'told once, with the reason');
  t.notOk(sealer.ready, 'not used again');
  t.ok(Buffer.from(parallel.seal(records)).equals(Buffer.from(inline.seal(records))), 'the next append seals inline, still the same bytes');
  t.same(abandoned.length, 1, 'not told again');
});

t.test('a half the worker cannot seal fails the append with the worker\'s message; the next append seals', async (t) => {
  const sealer = await readySealer(t);
  const batches = Array.from({ length: 8 }, (_, i) => batchOf(i, 64, 1000));
  const records = appendOf(batches);
  const sizes = batches.map((b) => b.byteLength);
  const overhead = envelopeOverhead(2);
  const cipherKey = aesGcm().key(KEY);
  const nonces = seededRng(3);
  const job = (bytes: Uint8Array) => ({
    records: bytes,
    sizes,
    totalBytes: bytes.byteLength + sizes.length * overhead,
    overhead,
    keyIdBytes: Buffer.from('k1', 'latin1'),
    keyBytes: KEY,
    key: cipherKey,
    nonce: () => {
      const nonce = new Uint8Array(12);
      nonces.fill(nonce);
      return nonce;
    },
  });
  // The last batch's length field says one byte more than there is: the worker's half no longer adds up.
  const damaged = Uint8Array.from(records);
  const last = damaged.byteLength - (sizes.at(-1) as number);
  new DataView(damaged.buffer).setInt32(last + BATCH_OFFSET_LENGTH, (sizes.at(-1) as number) - 12 + 1);
  t.throws(() => sealer.seal(job(damaged)), /sealing the second half of an append on the worker thread failed: batch \d+ of the job does not fit its \d+ plaintext bytes/, 'the worker\'s message');
  t.ok(sealer.ready, 'the worker stays in use');
  const sealed = sealer.seal(job(records));
  t.ok(openedAll(sealed).every((plain, i) => Buffer.from(plain).equals(Buffer.from(batches[i]!))), 'the next append seals and opens back');
});

t.test('a log whose large appends seal on two threads writes the same segment bytes as one that seals inline', async (t) => {
  const sealer = await readySealer(t);
  const config = parseLogConfig({ 'segment.bytes': '8388608', 'flush.ms': '9223372036854775807', 'encryption.enabled': 'true' });
  const files: Buffer[] = [];
  for (const withSealer of [false, true]) {
    const fs = new SimulatedFileSystem();
    const dir = '/data/sealed-0';
    const log = await PartitionLog.open({ dir, config, fs, clock: new ManualClock(), encryption: { keys: keys(), rng: seededRng(21), ...(withSealer ? { sealer } : {}) } });
    for (let i = 0; i < 6; i++) log.append(appendOf(Array.from({ length: 8 }, (_, j) => batchOf(i * 8 + j, 64, 1000))), { leaderEpoch: 0 });
    const { records } = await log.read(0, 64 * 1024 * 1024);
    t.equal(records.length, 48, 'every batch reads back');
    await log.close();
    const file = (await fs.readdir(dir)).find((name) => name.endsWith(LOG_SUFFIX))!;
    files.push(Buffer.from(await fs.readFile(`${dir}/${file}`)));
  }
  t.equal(sealer.jobs, 6, 'the second log\'s six appends were sealed on two threads');
  t.ok(files[0]!.byteLength > 3_000_000 && files[1]!.equals(files[0]!), 'the same segment, byte for byte');
});

t.test('a late wake-up from the previous job does not end the wait for the next (the worker is not abandoned)', async (t) => {
  const abandoned: string[] = [];
  const sealer = await readySealer(t, { onAbandoned: (reason) => abandoned.push(reason), workerFile: new URL('../support/late-notify-seal-worker.js', import.meta.url) });
  const inline = new LogCipher({ keys: keys(), rng: seededRng(13) });
  const parallel = new LogCipher({ keys: keys(), rng: seededRng(13), sealer });
  // The event loop's batch (2 MiB) takes far longer than the worker's (1 KiB): the worker has answered, and waits 40 ms to
  // notify, when the event loop looks; the next append's wait then gets that notify while its own job is still posted.
  const records = appendOf([batchOf(1, 2048, 1000), batchOf(2, 1, 1000)]);
  for (let i = 0; i < 4; i++) {
    t.ok(Buffer.from(parallel.seal(records)).equals(Buffer.from(inline.seal(records))), `append ${i}: the same bytes as inline`);
  }
  t.same(abandoned, [], 'never abandoned');
  t.equal(sealer.jobs, 4, 'every append sealed on two threads');
});

t.test('an event-loop half that throws while the worker does not answer: the worker is abandoned, never left on buffers the next append reuses', async (t) => {
  const abandoned: string[] = [];
  const sealer = await readySealer(t, { answerTimeoutMs: 50, onAbandoned: (reason) => abandoned.push(reason), workerFile: new URL('../support/silent-seal-worker.js', import.meta.url) });
  const batches = [batchOf(1, 64, 1000), batchOf(2, 64, 1000)];
  const records = appendOf(batches);
  const sizes = batches.map((b) => b.byteLength);
  const overhead = envelopeOverhead(2);
  const failing = { seal: () => { throw new Error('the event loop half failed'); }, open: () => false };
  t.throws(
    () => sealer.seal({ records, sizes, totalBytes: records.byteLength + sizes.length * overhead, overhead, keyIdBytes: Buffer.from('k1', 'latin1'), keyBytes: KEY, key: failing, nonce: () => new Uint8Array(12) }),
    /the event loop half failed/,
    'the event loop\'s error',
  );
  t.same(abandoned, ['no answer within 50 ms'], 'the worker that had not answered is abandoned');
  t.notOk(sealer.ready, 'and not used again: the next append seals inline');
});
