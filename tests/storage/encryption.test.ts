/**
 * Encryption at rest in storage, in process on the simulated disk
 * (storage/encryption/): what reaches the disk, what comes back, and the
 * failure modes (tampering, a missing key, a torn tail, nonce reuse).
 */
import t from 'tap';
import path from 'node:path';
import { BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD, BATCH_OFFSET_LENGTH, readI64, sealBatchCrc, stampBatch } from '../../protocol/batch/header.js';
import { buildBatch } from '../../protocol/batch/builder.js';
import { decodeBatch } from '../../protocol/batch/reader.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { seededRng, systemRng } from '../../broker/world/rng.js';
import { ATTR_ENCRYPTED, NONCE_BYTES, envelopeInfo, isEncryptedBatch } from '../../broker/storage/encryption/batch-envelope.js';
import { EncryptionKeyError, parseKeyring, type KeyProvider } from '../../broker/storage/encryption/key-provider.js';
import { keyProviderFromConfig } from '../../broker/storage/encryption/keys-from-config.js';
import { envelopeReader } from '../../broker/storage/encryption/offline-reader.js';
import { BatchFormatError } from '../../protocol/batch/header.js';
import { CorruptLogError } from '../../broker/storage/errors.js';
import { toWireError } from '../../broker/handlers/errors.js';
import { parseLogConfig, type LogConfig } from '../../broker/storage/log-config.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { LOG_SUFFIX } from '../../broker/storage/segment-names.js';
import { bytes } from '../support/storage-fixtures.js';

const DIR = '/data/secrets-0';
const K1 = Buffer.alloc(32, 1).toString('base64');
const K2 = Buffer.alloc(32, 2).toString('base64');
const ring1 = (): KeyProvider => parseKeyring(`k1=${K1}`, 'test keyring');
const ring12 = (): KeyProvider => parseKeyring(`# rotated\nk1=${K1}\nk2=${K2}\n`, 'test keyring');

function config(overrides: Record<string, string> = {}): LogConfig {
  return parseLogConfig({ 'segment.bytes': '4096', 'index.interval.bytes': '256', 'flush.ms': '9223372036854775807', 'encryption.enabled': 'true', ...overrides });
}

const secret = (i: number): string => `SECRET-PAYLOAD-${String(i).padStart(4, '0')}`;

/** One batch of `records` keyed records whose values are secret(first..), readable text on a plain disk. */
function secretBatch(first: number, records: number, timestampMs: number): Uint8Array {
  return buildBatch(Array.from({ length: records }, (_, i) => ({ key: bytes(`key-${(first + i) % 7}`), value: bytes(secret(first + i)), timestamp: timestampMs + i })), { nowMs: timestampMs });
}

async function open(fs: SimulatedFileSystem, keys: KeyProvider | null, overrides: Record<string, string> = {}, clock = new ManualClock()): Promise<PartitionLog> {
  return PartitionLog.open({ dir: DIR, config: config(overrides), fs, clock, encryption: { keys, rng: seededRng(42) } });
}

async function segmentFiles(fs: SimulatedFileSystem): Promise<string[]> {
  return (await fs.readdir(DIR)).filter((name) => name.endsWith(LOG_SUFFIX)).sort().map((name) => path.join(DIR, name));
}

/** Every batch in the log's .log files, as they are on disk. */
async function diskBatches(fs: SimulatedFileSystem): Promise<{ file: string; position: number; bytes: Uint8Array }[]> {
  const out: { file: string; position: number; bytes: Uint8Array }[] = [];
  for (const file of await segmentFiles(fs)) {
    const data = await fs.readFile(file);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let pos = 0; pos + BATCH_HEADER_BYTES <= data.byteLength;) {
      const size = BATCH_LOG_OVERHEAD + view.getInt32(pos + BATCH_OFFSET_LENGTH);
      out.push({ file, position: pos, bytes: data.subarray(pos, pos + size) });
      pos += size;
    }
  }
  return out;
}

async function readValues(log: PartitionLog, from = log.logStartOffset): Promise<string[]> {
  const values: string[] = [];
  for (let offset = from, rounds = 0; offset < log.logEndOffset && rounds < 10_000; rounds++) {
    const { records } = await log.read(offset, 64 * 1024);
    for (const batch of records) {
      for (const record of decodeBatch(batch, 0).records) {
        if (record.offset >= offset) values.push(new TextDecoder().decode(record.value ?? new Uint8Array()));
      }
      offset = readI64(batch, 0) + new DataView(batch.buffer, batch.byteOffset).getInt32(23) + 1;
    }
  }
  return values;
}

async function plaintextOnDisk(fs: SimulatedFileSystem): Promise<boolean> {
  for (const file of await segmentFiles(fs)) {
    if (Buffer.from(await fs.readFile(file)).includes('SECRET-PAYLOAD')) return true;
  }
  return false;
}

t.test('an encrypted topic: no plaintext on disk, every read (segments, pending segments, by time) gives back the exact batches', async (t) => {
  const fs = new SimulatedFileSystem();
  const log = await open(fs, ring1());
  const appended: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) {
    const batch = secretBatch(i * 5, 5, 1_000 + i * 10);
    log.append(batch, { leaderEpoch: 0 });
    appended.push(Uint8Array.from(batch)); // as stamped: what a consumer must get back
  }
  t.ok(log.pendingBytes > 0, 'some appends wait in pending segments (their reads are opened too)');
  const fromPending = await readValues(log);
  await log.flush();
  t.ok(log.segmentCount >= 3, `${log.segmentCount} segments`);
  t.notOk(await plaintextOnDisk(fs), 'no record value appears in any .log file');
  const onDisk = await diskBatches(fs);
  t.equal(onDisk.length, 40, 'one disk batch per appended batch');
  t.ok(onDisk.every((b) => isEncryptedBatch(b.bytes, 0) && envelopeInfo(b.bytes, 0, b.bytes.byteLength).keyId === 'k1'), 'every batch is an envelope under k1');

  const expected = Array.from({ length: 200 }, (_, i) => secret(i));
  t.same(fromPending, expected, 'read back while segments were pending');
  t.same(await readValues(log), expected, 'read back from segment files');
  const { records } = await log.read(0, 1);
  t.same(Buffer.from(records[0] as Uint8Array), Buffer.from(appended[0] as Uint8Array), 'a read returns the stamped plaintext batch byte for byte (CRC included)');
  t.same(await log.offsetForTimestamp(1_000 + 17 * 10 + 2), { offset: 17 * 5 + 2, timestamp: 1_000 + 17 * 10 + 2, leaderEpoch: 0 }, 'ListOffsets by time decodes the record inside');

  await log.close();
  const reopened = await open(fs, ring1());
  t.same(await readValues(reopened, 123), expected.slice(123), 'after a clean restart, from an offset in the middle of a batch');
  await reopened.close();
});

t.test('a plain topic on the same broker writes plaintext (the setting decides), and both read', async (t) => {
  const fs = new SimulatedFileSystem();
  const log = await open(fs, ring1(), { 'encryption.enabled': 'false' });
  log.append(secretBatch(0, 3, 1_000), { leaderEpoch: 0 });
  await log.flush();
  t.ok(await plaintextOnDisk(fs), 'encryption.enabled=false writes the batch as it came');
  await log.close();
  // Turned on later: old plaintext segments stay readable, new appends are sealed.
  const on = await open(fs, ring1());
  on.append(secretBatch(3, 3, 2_000), { leaderEpoch: 0 });
  await on.flush();
  const kinds = (await diskBatches(fs)).map((b) => isEncryptedBatch(b.bytes, 0));
  t.same(kinds, [false, true], 'the old batch stays plain, the new one is sealed');
  t.same(await readValues(on), [0, 1, 2, 3, 4, 5].map(secret));
  await on.close();
});

t.test('rotation: old batches stay readable under their key id, new ones use the new current key', async (t) => {
  const fs = new SimulatedFileSystem();
  const log = await open(fs, ring1());
  for (let i = 0; i < 4; i++) log.append(secretBatch(i * 5, 5, 1_000 + i), { leaderEpoch: 0 });
  await log.close();
  const rotated = await open(fs, ring12());
  for (let i = 4; i < 8; i++) rotated.append(secretBatch(i * 5, 5, 1_000 + i), { leaderEpoch: 0 });
  await rotated.flush();
  const ids = (await diskBatches(fs)).map((b) => envelopeInfo(b.bytes, 0, b.bytes.byteLength).keyId);
  t.same(ids, ['k1', 'k1', 'k1', 'k1', 'k2', 'k2', 'k2', 'k2'], 'key id per batch: the old ones were not rewritten');
  t.same(await readValues(rotated), Array.from({ length: 40 }, (_, i) => secret(i)), 'all readable with both keys in the ring');
  await rotated.close();

  // The operator dropped k1 too early: a clear error naming the key, and the log stays online.
  const missing = await open(fs, parseKeyring(`k2=${K2}`, 'the keyring'));
  const refused = await missing.read(0, 1024).then(() => null, (err: unknown) => err);
  t.ok(refused instanceof EncryptionKeyError, 'a missing key is an EncryptionKeyError');
  t.match((refused as Error).message, /secrets-0\/0+\.log: the batch at byte 0 is encrypted under key 'k1', and no encryption key 'k1' in the keyring/, 'naming the file, the batch and the missing key id');
  t.equal(missing.isOffline, false, 'a missing key is configuration, not corruption: the log stays online');
  const wire = toWireError(refused, { error: () => undefined } as unknown as Parameters<typeof toWireError>[1]);
  t.same([wire.errorName, wire.message], ['KAFKA_STORAGE_ERROR', (refused as Error).message], 'clients get KAFKA_STORAGE_ERROR with the reason');
  t.same(await readValues(missing, 20), Array.from({ length: 20 }, (_, i) => secret(20 + i)), 'batches under the key it has still read');
  await missing.close();

  const none = await open(fs, null);
  t.throws(() => none.append(secretBatch(99, 1, 5_000), { leaderEpoch: 0 }), /this broker has no encryption keys/, 'an encrypted topic on a broker without keys refuses appends');
  t.equal(none.logEndOffset, 40, 'nothing was appended');
  t.equal(none.isOffline, false);
  await t.rejects(none.read(0, 1024), /encrypted under key 'k1', and this broker has no encryption keys/, 'and never serves ciphertext as records');
  await none.close();
});

t.test('a flipped ciphertext byte, even with the CRC made to match, is corruption: never served, never skipped', async (t) => {
  const fs = new SimulatedFileSystem();
  const log = await open(fs, ring1(), { 'segment.bytes': '1048576' });
  for (let i = 0; i < 3; i++) log.append(secretBatch(i * 5, 5, 1_000 + i), { leaderEpoch: 0 });
  await log.close();
  const victim = (await diskBatches(fs))[1]!;
  const handle = fs.open(victim.file, 'r+');
  const batch = Uint8Array.from(victim.bytes);
  batch[batch.byteLength - 30] = (batch[batch.byteLength - 30] as number) ^ 0x01; // inside the ciphertext
  sealBatchCrc(batch, 0, batch.byteLength); // what an attacker (or a bad disk that rewrites whole blocks) can do
  handle.write(batch, victim.position);
  handle.close();

  const reopened = await open(fs, ring1(), { 'segment.bytes': '1048576' });
  t.same(await readValues(reopened, 0).catch(() => 'failed'), 'failed', 'reading through the damaged batch fails');
  t.ok(reopened.isOffline, 'the log went offline, as for any damaged segment');
  const err = reopened.offlineError?.cause ?? reopened.offlineError;
  t.match(String((err as Error | undefined)?.message ?? err), /does not authenticate/, 'the reason says the batch does not authenticate');
  await reopened.close().catch(() => undefined);

  // The same with a different key under the same id (a wrong key file).
  const fs2 = new SimulatedFileSystem();
  const good = await open(fs2, ring1());
  good.append(secretBatch(0, 2, 1_000), { leaderEpoch: 0 });
  await good.close();
  const wrong = await PartitionLog.open({ dir: DIR, config: config(), fs: fs2, clock: new ManualClock(), encryption: { keys: parseKeyring(`k1=${K2}`, 'wrong'), rng: systemRng } });
  await t.rejects(wrong.read(0, 1024), CorruptLogError, 'a wrongly keyed batch is reported as corruption');
  await wrong.close().catch(() => undefined);
});

t.test('a torn encrypted tail is cut by recovery; what was acknowledged reads back', async (t) => {
  const fs = new SimulatedFileSystem();
  const log = await open(fs, ring1(), { 'segment.bytes': '1048576', fsync: 'always' });
  for (let i = 0; i < 5; i++) log.append(secretBatch(i * 5, 5, 1_000 + i), { leaderEpoch: 0 });
  await log.flush();
  const [file] = await segmentFiles(fs);
  const durable = (await fs.stat(file!))!.sizeBytes;
  log.append(secretBatch(25, 5, 2_000), { leaderEpoch: 0 });
  fs.crash({ rng: { next: () => 0, int: () => 40, fill: (b) => b } }); // keeps 40 bytes of the last, unsynced append
  t.equal((await fs.stat(file!))!.sizeBytes, durable + 40, 'the crash left a torn envelope');
  const recovered = await open(fs, ring1(), { 'segment.bytes': '1048576', fsync: 'always' });
  t.equal(recovered.openReport.cleanShutdown, false);
  t.equal(recovered.logEndOffset, 25, 'the torn batch is gone');
  t.equal((await fs.stat(file!))!.sizeBytes, durable, 'cut back to the last whole batch');
  t.same(await readValues(recovered), Array.from({ length: 25 }, (_, i) => secret(i)));
  recovered.append(secretBatch(25, 5, 3_000), { leaderEpoch: 0 });
  t.same((await readValues(recovered)).slice(25), [25, 26, 27, 28, 29].map(secret), 'appends go on after recovery');
  await recovered.close();
});

t.test('nonces never repeat, including a follower that truncates and re-writes the same offsets', async (t) => {
  const fs = new SimulatedFileSystem();
  const log = await PartitionLog.open({ dir: DIR, config: config({ 'segment.bytes': '1048576' }), fs, clock: new ManualClock(), encryption: { keys: ring1(), rng: systemRng } });
  // As a follower: the leader's batches at fixed offsets, written, truncated, and written again.
  const atOffsets = Array.from({ length: 10 }, (_, i) => {
    const batch = secretBatch(i * 5, 5, 1_000 + i);
    stampBatch(batch, 0, i * 5, 0);
    return batch;
  });
  const nonces = new Set<string>();
  for (let round = 0; round < 5; round++) {
    for (const batch of atOffsets) log.appendAsFollower(Uint8Array.from(batch));
    await log.flush();
    for (const b of await diskBatches(fs)) {
      const info = envelopeInfo(b.bytes, 0, b.bytes.byteLength);
      const at = info.nonceAt;
      nonces.add(Buffer.from(b.bytes.subarray(at, at + NONCE_BYTES)).toString('hex') + '@' + info.baseOffset);
    }
    await log.truncateTo(0);
  }
  const distinct = new Set([...nonces].map((n) => n.split('@')[0]));
  t.equal(nonces.size, 50, '10 batches written 5 times over the same offsets');
  t.equal(distinct.size, 50, 'and 50 different nonces: a re-write never reuses one');
  await log.close();
});

t.test('a batch arriving with the disk-format bit set is refused (it would later be read as an envelope)', async (t) => {
  const fs = new SimulatedFileSystem();
  const log = await open(fs, ring1(), { 'encryption.enabled': 'false' });
  const batch = secretBatch(0, 2, 1_000);
  const view = new DataView(batch.buffer, batch.byteOffset);
  view.setUint16(21, view.getUint16(21) | ATTR_ENCRYPTED);
  sealBatchCrc(batch, 0, batch.byteLength);
  t.throws(() => log.append(batch, { leaderEpoch: 0 }), BatchFormatError);
  t.throws(() => log.appendAsFollower(batch), BatchFormatError, 'from a follower fetch too');
  t.equal(log.logEndOffset, 0);
  await log.close();
});

t.test('compaction reads encrypted segments and writes its output sealed; retention and DeleteRecords work on them', async (t) => {
  const fs = new SimulatedFileSystem();
  const clock = new ManualClock();
  const log = await open(fs, ring12(), { 'cleanup.policy': 'compact', 'segment.bytes': '2048' }, clock);
  for (let i = 0; i < 60; i++) log.append(secretBatch(i * 3, 3, 1_000 + i), { leaderEpoch: 0 });
  await log.flush();
  const before = await readValues(log);
  const result = await log.compact();
  t.equal(result.skipped, null);
  t.ok(result.groupsSwapped > 0 && result.stats.recordsKept < result.stats.recordsRead, `kept ${result.stats.recordsKept} of ${result.stats.recordsRead} records`);
  t.notOk(await plaintextOnDisk(fs), 'the cleaned segments hold no plaintext');
  t.ok((await diskBatches(fs)).every((b) => isEncryptedBatch(b.bytes, 0)), 'every batch is still an envelope');
  const after = await readValues(log);
  // Latest value per key below the active segment survives; every value read is one that was written.
  t.ok(after.length < before.length && after.every((v) => before.includes(v)), `${before.length} -> ${after.length} records, all genuine`);
  t.same(after.slice(-5), before.slice(-5), 'the newest records are intact');

  const start = log.segmentBaseOffsets()[2] as number;
  const deleted = await log.advanceLogStart(start + 1);
  t.ok(deleted.deletedSegments >= 2, 'DeleteRecords drops whole encrypted segments below the new start');
  t.equal(log.logStartOffset, start + 1);
  t.ok((await readValues(log)).length > 0, 'and the log reads from its new start');
  await log.close();
});

t.test('keyrings: parsing, and the settings that load one', async (t) => {
  const ring = parseKeyring(`# comment\nold=${K1}\n\nnew=${K2}`, 'file');
  t.equal(ring.currentKeyId(), 'new', 'the last entry is current');
  t.same(ring.ids(), ['old', 'new']);
  t.equal(parseKeyring(`a=${K1},b=${K2}`, 'env').currentKeyId(), 'b', 'commas separate entries too (the environment form)');
  t.throws(() => parseKeyring(`a=${Buffer.alloc(16).toString('base64')}`, 'file'), /16 bytes, AES-256 needs 32/);
  t.throws(() => parseKeyring(`a=${K1}\na=${K2}`, 'file'), /appears twice/);
  t.throws(() => parseKeyring('', 'file'), /holds no keys/);
  t.throws(() => parseKeyring(`bad id=${K1}`, 'file'), /is not 1-64/);
  t.throws(() => parseKeyring(`a=not*base64`, 'file'), /is not base64/);
  const message = (() => { try { parseKeyring(`a=${K1.slice(0, 20)}`, 'file'); return ''; } catch (err) { return (err as Error).message; } })();
  t.notMatch(message, K1.slice(0, 20), 'an error never quotes key material');
  const noFile = (): Promise<Uint8Array> => Promise.reject(new Error('ENOENT: no such file'));
  t.equal(await keyProviderFromConfig({ keyFile: '', keys: '' }, noFile), null, 'no settings: no keys');
  t.equal((await keyProviderFromConfig({ keyFile: '/etc/runnel/keys', keys: '' }, async () => bytes(`x=${K1}\n`)))?.currentKeyId(), 'x');
  t.equal((await keyProviderFromConfig({ keyFile: '', keys: `x=${K1},y=${K2}` }, noFile))?.currentKeyId(), 'y', 'encryption.keys (RUNNEL_ENCRYPTION_KEYS)');
  await t.rejects(keyProviderFromConfig({ keyFile: '/nope', keys: '' }, noFile), /encryption.key.file \/nope cannot be read: ENOENT/);
  await t.rejects(keyProviderFromConfig({ keyFile: '/a', keys: `x=${K1}` }, noFile), /not both/);
});

t.test('the offline reader (runnel dump-log): names the key without a keyring, opens with it, refuses a wrong key', async (t) => {
  const fs = new SimulatedFileSystem();
  const log = await open(fs, ring1());
  log.append(secretBatch(0, 3, 1_000), { leaderEpoch: 0 });
  await log.close();
  const [batch] = await diskBatches(fs);
  const bare = envelopeReader(null);
  t.equal(bare.isEncrypted(batch!.bytes), true);
  t.equal(bare.keyIdOf(batch!.bytes), 'k1');
  t.equal(bare.open, null, 'no keyring: nothing to open with');
  const keyed = envelopeReader({ text: `k1=${K1}`, source: 'test' });
  t.same(decodeBatch(keyed.open!(batch!.bytes, batch!.file, 0), 0).records.map((r) => Buffer.from(r.value ?? []).toString()), [0, 1, 2].map(secret));
  const wrong = envelopeReader({ text: `k1=${K2}`, source: 'test' });
  t.throws(() => wrong.open!(batch!.bytes, batch!.file, 0), /does not authenticate/);
});

t.test('a provider of an embedding program whose current key id the envelope cannot hold is refused before anything is written', async (t) => {
  const odd: KeyProvider = { currentKeyId: () => 'x'.repeat(300), key: () => new Uint8Array(32) };
  const log = await open(new SimulatedFileSystem(), odd);
  t.throws(() => log.append(secretBatch(0, 1, 1_000), { leaderEpoch: 0 }), /current key id 'x+' is not 1-64/);
  t.equal(log.logEndOffset, 0);
  t.equal(log.isOffline, false);
  await log.close();
});
