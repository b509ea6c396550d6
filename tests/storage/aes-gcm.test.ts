/**
 * The two AES-256-GCM implementations of encryption at rest
 * (storage/encryption/aes-gcm.ts): the native addon is built and loaded,
 * and it is the same cipher as node:crypto byte for byte (each opens what
 * the other sealed), in place and over shared memory as the read paths use
 * it, refusing what does not authenticate. Its seal that also returns a
 * batch envelope's CRC seals the same bytes and returns fast-crc32c's CRC.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { buildBatch } from '../../protocol/batch/builder.js';
import { aesGcm, aesGcmFallback, nativeAesGcm, nodeAesGcm, type AesGcm } from '../../broker/storage/encryption/aes-gcm.js';
import crc32c from 'fast-crc32c';
import { computeBatchCrc } from '../../protocol/batch/header.js';
import { NONCE_BYTES, envelopeInfo, envelopeOverhead, openBatch, sealBatch } from '../../broker/storage/encryption/batch-envelope.js';
import { bytes } from '../support/storage-fixtures.js';

const LENGTHS = [0, 1, 15, 16, 17, 255, 4096, 65_536 + 3];

t.test('the native addon is built and is what encryption at rest uses', async (t) => {
  t.equal(aesGcmFallback(), null, 'native/build/Release/aes_gcm.node loads (npm install builds it)');
  t.equal(aesGcm().name, 'native');
});

const native = nativeAesGcm();
const impls: [string, AesGcm][] = native === null ? [] : [['native', native], ['node:crypto', nodeAesGcm]];

t.test('native and node:crypto seal to the same bytes and open each other', async (t) => {
  t.ok(native !== null, 'the native implementation is there to compare');
  if (native === null) return;
  for (const length of LENGTHS) {
    const keyBytes = randomBytes(32);
    const nonce = randomBytes(NONCE_BYTES);
    const aad = randomBytes(length % 97);
    const plain = randomBytes(length);
    const sealed = impls.map(([, gcm]) => {
      const out = new Uint8Array(length);
      const tag = new Uint8Array(16);
      gcm.key(keyBytes).seal(nonce, aad, plain, out, tag);
      return { out, tag };
    });
    const [a, b] = sealed as [{ out: Uint8Array; tag: Uint8Array }, { out: Uint8Array; tag: Uint8Array }];
    t.same(Buffer.from(a.out), Buffer.from(b.out), `${length} bytes: the same ciphertext`);
    t.same(Buffer.from(a.tag), Buffer.from(b.tag), `${length} bytes: the same tag`);
    if (length > 0) t.not(Buffer.from(a.out).toString('hex'), plain.toString('hex'), `${length} bytes: encrypted`);
    for (const [name, gcm] of impls) {
      for (const { out, tag } of sealed) {
        const back = new Uint8Array(length);
        t.equal(gcm.key(keyBytes).open(nonce, aad, out, back, tag), true, `${name} opens ${length} bytes`);
        t.same(Buffer.from(back), plain, `${name}: the plaintext back`);
      }
    }
  }
});

t.test('what does not authenticate is refused by both: a changed ciphertext, aad, tag, nonce or key', async (t) => {
  for (const [name, gcm] of impls) {
    const keyBytes = randomBytes(32);
    const key = gcm.key(keyBytes);
    const nonce = randomBytes(NONCE_BYTES);
    const aad = randomBytes(40);
    const plain = randomBytes(5000);
    const out = new Uint8Array(plain.byteLength);
    const tag = new Uint8Array(16);
    key.seal(nonce, aad, plain, out, tag);
    const flip = (bytes: Uint8Array, at: number): Uint8Array => {
      const copy = Uint8Array.from(bytes);
      copy[at] = (copy[at] as number) ^ 1;
      return copy;
    };
    const sink = () => new Uint8Array(plain.byteLength);
    t.equal(key.open(nonce, aad, out, sink(), tag), true, `${name}: the untouched one opens`);
    t.equal(key.open(nonce, aad, flip(out, 4321), sink(), tag), false, `${name}: a ciphertext bit`);
    t.equal(key.open(nonce, flip(aad, 3), out, sink(), tag), false, `${name}: an aad bit`);
    t.equal(key.open(nonce, aad, out, sink(), flip(tag, 15)), false, `${name}: a tag bit`);
    t.equal(key.open(flip(nonce, 0), aad, out, sink(), tag), false, `${name}: a nonce bit`);
    t.equal(gcm.key(flip(keyBytes, 31)).open(nonce, aad, out, sink(), tag), false, `${name}: another key`);
    t.equal(key.open(nonce, aad, out, sink(), tag), true, `${name}: the key still works after the refusals`);
  }
});

t.test('in place, and opened over its own envelope in shared memory, as reads open batches', async (t) => {
  const keyBytes = randomBytes(32);
  const keyId = Buffer.from('k-one');
  const plainBatch = buildBatch(
    Array.from({ length: 300 }, (_, i) => ({ key: bytes(`key-${i}`), value: randomBytes(90 + (i % 13)), timestamp: 1_700_000_000_000 + i })),
    { nowMs: 1_700_000_000_000 },
  );
  for (const [sealer, sealGcm] of impls) {
    for (const version of [1, 2]) {
      // Version 1 (no stored plaintext CRC) is still read: opening computes the CRC; version 2 puts back the stored one.
      const diskBytes = plainBatch.byteLength + envelopeOverhead(keyId.byteLength, version);
      const envelope = new Uint8Array(diskBytes);
      sealBatch(plainBatch, 0, plainBatch.byteLength, keyId, sealGcm.key(keyBytes), randomBytes(NONCE_BYTES), envelope, 0, version);
      t.equal(envelopeInfo(envelope, 0, diskBytes).version, version, `${sealer}: an envelope of version ${version}`);
      for (const [opener, openGcm] of impls) {
        for (const shift of [0, 3, 8]) {
          // Opened where it lies, in shared memory at an odd place (the worker path), and moved down by `shift`
          // bytes over earlier ones (the cleaner's chunks): the records land over the envelope's own bytes.
          const shared = new Uint8Array(new SharedArrayBuffer(diskBytes + 16), 5, diskBytes + 11);
          shared.set(envelope, shift);
          const size = openBatch(shared, shift, diskBytes, openGcm.key(keyBytes), shared, 0);
          t.equal(size, plainBatch.byteLength, `sealed by ${sealer}, opened by ${opener}, moved ${shift}: its size`);
          t.same(Buffer.from(shared.subarray(0, size)), Buffer.from(plainBatch), `v${version} sealed by ${sealer}, opened by ${opener}, moved ${shift}: the batch as sent`);
        }
      }
      if (version === 2) {
        // The stored CRC is authenticated: a changed one fails the tag instead of being handed to consumers.
        const changed = Uint8Array.from(envelope);
        const crcAt = envelopeInfo(changed, 0, diskBytes).nonceAt - 4;
        changed[crcAt] = (changed[crcAt] as number) ^ 0x10;
        t.throws(() => openBatch(changed, 0, diskBytes, sealGcm.key(keyBytes), new Uint8Array(diskBytes), 0), /does not authenticate/, `${sealer}: a changed plaintext CRC is refused`);
      }
    }
    const inPlace = Uint8Array.from(plainBatch);
    const tag = new Uint8Array(16);
    const nonce = randomBytes(NONCE_BYTES);
    const key = sealGcm.key(keyBytes);
    key.seal(nonce, new Uint8Array(0), inPlace, inPlace, tag);
    t.not(Buffer.from(inPlace).toString('hex'), Buffer.from(plainBatch).toString('hex'), `${sealer}: sealed in place`);
    t.equal(key.open(nonce, new Uint8Array(0), inPlace, inPlace, tag), true, `${sealer}: opened in place`);
    t.same(Buffer.from(inPlace), Buffer.from(plainBatch), `${sealer}: in place, back as it was`);
  }
});

t.test('the native addon refuses bad arguments with an error instead of reading or writing out of bounds', async (t) => {
  if (native === null) return t.fail('no native implementation');
  t.throws(() => native.key(new Uint8Array(31)), /32 bytes/, 'a short key');
  const key = native.key(randomBytes(32));
  const nonce = randomBytes(NONCE_BYTES);
  const none = new Uint8Array(0);
  t.throws(() => key.seal(nonce, none, new Uint8Array(10), new Uint8Array(9), new Uint8Array(16)), /as long as input/, 'out shorter than input');
  t.throws(() => key.seal(nonce.subarray(0, 8), none, new Uint8Array(10), new Uint8Array(10), new Uint8Array(16)), /nonce is 12 bytes/, 'a short nonce');
  t.throws(() => key.open(nonce, none, new Uint8Array(10), new Uint8Array(10), new Uint8Array(4)), /tag 16/, 'a short tag');
  const overlapping = new Uint8Array(64);
  t.throws(() => key.seal(nonce, none, overlapping.subarray(0, 32), overlapping.subarray(8, 40), new Uint8Array(16)), /overlap/, 'seal into bytes overlapping its input');
});

t.test('sealCrc seals exactly as seal and returns the envelope\'s CRC, which sealBatch stores', async (t) => {
  const key = native?.key(randomBytes(32));
  t.ok(key?.sealCrc !== undefined, 'the native key has sealCrc');
  if (key?.sealCrc === undefined) return;
  for (const length of [0, 1, 95, 96, 97, 15_359, 15_360, 15_361, 40_000, 65_536 + 3]) {
    const nonce = randomBytes(NONCE_BYTES);
    const aad = randomBytes(70);
    const plain = randomBytes(length);
    const head = 23;
    // over = a header, the ciphertext, then the tag: as an envelope lays them out.
    const envelope = new Uint8Array(head + length + 16);
    envelope.set(randomBytes(head));
    const crc = key.sealCrc(nonce, aad, plain, envelope.subarray(head, head + length), envelope.subarray(head + length), envelope);
    const out = new Uint8Array(length);
    const tag = new Uint8Array(16);
    key.seal(nonce, aad, plain, out, tag);
    t.same(Buffer.from(envelope.subarray(head, head + length)), Buffer.from(out), `${length} bytes: the same ciphertext`);
    t.same(Buffer.from(envelope.subarray(head + length)), Buffer.from(tag), `${length} bytes: the same tag`);
    t.equal(crc, crc32c.calculate(Buffer.from(envelope), 0) >>> 0, `${length} bytes: the CRC of header, ciphertext and tag`);
  }
  const none = new Uint8Array(0);
  const over = new Uint8Array(64);
  t.throws(() => key.sealCrc?.(randomBytes(NONCE_BYTES), none, new Uint8Array(16), over.subarray(40, 56), over.subarray(0, 16), over), /over must hold out, then the tag/, 'a tag before out is refused');
  t.throws(() => key.sealCrc?.(randomBytes(NONCE_BYTES), none, new Uint8Array(16), new Uint8Array(16), over.subarray(0, 16), over), /over must hold out/, 'out outside over is refused');

  // sealBatch stores it: the envelope's CRC field is the CRC of its bytes from attributes on.
  const batch = buildBatch([{ key: null, value: randomBytes(3000) }, { key: null, value: randomBytes(20_000) }], { nowMs: 1_700_000_000_000 });
  const keyId = Buffer.from('k1');
  const sealedSize = batch.byteLength + envelopeOverhead(keyId.byteLength);
  const disk = new Uint8Array(sealedSize);
  t.equal(sealBatch(batch, 0, batch.byteLength, keyId, key, randomBytes(NONCE_BYTES), disk, 0), sealedSize);
  t.equal(new DataView(disk.buffer).getUint32(17), computeBatchCrc(disk, 0, sealedSize), 'the stored CRC is the envelope\'s');
});
