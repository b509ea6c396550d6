/**
 * The AES-256-GCM engines of encryption at rest
 * (storage/encryption/aes-gcm.ts): the native addon is built and loaded,
 * runs its own VAES code on a CPU that has VAES, and that code, OpenSSL's
 * through the addon and node:crypto are the same cipher byte for byte
 * (each opens what the others sealed, at every length around the bulk
 * steps' 128- and 256-byte edges), in place and over shared memory as the
 * read paths use them, refusing what does not authenticate. The seal that
 * also returns a batch envelope's CRC seals the same bytes and returns
 * fast-crc32c's CRC.
 */
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildBatch } from '../../protocol/batch/builder.js';
import { aesGcm, aesGcmFallback, nativeAesGcm, nodeAesGcm, type AesGcm } from '../../broker/storage/encryption/aes-gcm.js';
import crc32c from 'fast-crc32c';
import { computeBatchCrc } from '../../protocol/batch/header.js';
import { NONCE_BYTES, envelopeInfo, envelopeOverhead, openBatch, sealBatch } from '../../broker/storage/encryption/batch-envelope.js';
import { bytes } from '../support/storage-fixtures.js';

const LENGTHS = [0, 1, 15, 16, 17, 255, 4096, 65_536 + 3];

/**
 * Whether this CPU runs native/gcm_vaes.c: VAES, VPCLMULQDQ and AVX2, and no
 * AVX-512 (there OpenSSL keeps it: it has 512-bit VAES code of its own).
 * Linux: /proc/cpuinfo; elsewhere not known, so not asserted.
 */
function cpuHasVaes(): boolean | null {
  let info: string;
  try {
    info = readFileSync('/proc/cpuinfo', 'latin1');
  } catch {
    return null;
  }
  const flags = new Set(/^flags\s*:(.*)$/m.exec(info)?.[1]?.trim().split(/\s+/) ?? []);
  const avx512 = ['avx512f', 'avx512dq', 'avx512bw', 'avx512vl'].every((flag) => flags.has(flag));
  return ['avx2', 'aes', 'pclmulqdq', 'vaes', 'vpclmulqdq'].every((flag) => flags.has(flag)) && !avx512;
}

t.test('the native addon is built and is what encryption at rest uses, on its VAES code where the CPU has VAES', async (t) => {
  t.equal(aesGcmFallback(), null, 'native/build/Release/aes_gcm.node loads (npm install builds it)');
  t.equal(aesGcm().name, 'native');
  const vaes = cpuHasVaes();
  if (vaes !== null) t.equal(aesGcm().engine, vaes ? 'vaes' : 'openssl', vaes ? 'this CPU has VAES, VPCLMULQDQ and AVX2 without AVX-512' : 'this CPU lacks VAES, VPCLMULQDQ or AVX2, or has AVX-512');
  t.equal(nativeAesGcm({ portable: true })?.engine, 'openssl', 'a portable native key runs OpenSSL');
});

const native = nativeAesGcm();
const portable = nativeAesGcm({ portable: true });
// Where the CPU lacks VAES the default native engine is OpenSSL already: compared once.
const natives: AesGcm[] = native === null || portable === null ? [] : native.engine === 'vaes' ? [native, portable] : [native];
const impls: [string, AesGcm][] = [...natives.map((gcm): [string, AesGcm] => [`native ${gcm.engine}`, gcm]), ['node:crypto', nodeAesGcm]];

/** Seals `plain` with every engine, checks they agree with node:crypto's bytes and tag, and that each opens every other's. */
function checkAgreement(t: Test, length: number, aadLength: number): boolean {
  const keyBytes = randomBytes(32);
  const nonce = randomBytes(NONCE_BYTES);
  const aad = randomBytes(aadLength);
  // At odd places in their buffers, apart from each other: the bulk steps' loads and stores must not care.
  const plainAt = 1 + (length % 5);
  const plain = randomBytes(length + 8).subarray(plainAt, plainAt + length);
  const sealed = impls.map(([, gcm]) => {
    const outAt = (length * 7) % 8;
    const out = new Uint8Array(length + 8).subarray(outAt, outAt + length);
    const tag = new Uint8Array(16);
    gcm.key(keyBytes).seal(nonce, aad, plain, out, tag);
    return { out: Buffer.from(out), tag: Buffer.from(tag) };
  });
  const reference = sealed.at(-1) as { out: Buffer; tag: Buffer };
  let agree = true;
  for (const [i, [name, gcm]] of impls.entries()) {
    const mine = sealed[i] as { out: Buffer; tag: Buffer };
    if (!mine.out.equals(reference.out) || !mine.tag.equals(reference.tag)) {
      t.fail(`${name} sealed ${length} bytes (aad ${aadLength}) otherwise than node:crypto`);
      agree = false;
    }
    for (const [j, other] of sealed.entries()) {
      const back = new Uint8Array(length);
      if (!gcm.key(keyBytes).open(nonce, aad, other.out, back, other.tag) || !Buffer.from(back).equals(plain)) {
        t.fail(`${name} did not open what ${impls[j]?.[0]} sealed (${length} bytes, aad ${aadLength})`);
        agree = false;
      }
    }
  }
  if (length > 0 && reference.out.equals(plain)) {
    t.fail(`${length} bytes: not encrypted`);
    agree = false;
  }
  return agree;
}

t.test('every engine seals to the same bytes and opens the others\'', async (t) => {
  t.ok(native !== null, 'the native implementation is there to compare');
  if (cpuHasVaes() === true) t.equal(impls.length, 3, 'VAES, OpenSSL and node:crypto are compared');
  for (const length of LENGTHS) t.ok(checkAgreement(t, length, length % 97), `${length} bytes: the same ciphertext and tag, each opens every other's`);
  // Every length up to past five 256-byte steps (a seal hashes each step during the next one's rounds: one, two and
  // several steps, each with the 128-byte step, the 16-byte tail and the partial last block after them), lengths
  // around a 64 KiB batch, and additional data of every length up to past two blocks.
  let agreed = 0;
  for (let length = 0; length <= 1_300; length++) agreed += checkAgreement(t, length, length % 41) ? 1 : 0;
  for (let length = 65_536 - 130; length <= 65_536 + 130; length += 13) agreed += checkAgreement(t, length, 80) ? 1 : 0;
  for (let aadLength = 0; aadLength <= 40; aadLength++) agreed += checkAgreement(t, 300, aadLength) ? 1 : 0;
  t.equal(agreed, 1_301 + 21 + 41, 'agreement at every length and additional-data length tried');
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

t.test('open writes the plaintext into an out overlapping its input below or above, by any amount', async (t) => {
  for (const [name, gcm] of impls) {
    const key = gcm.key(randomBytes(32));
    for (const length of [100, 4096 + 77]) {
      for (const shift of [-300, -33, -1, 1, 17, 256]) {
        const nonce = randomBytes(NONCE_BYTES);
        const plain = randomBytes(length);
        const tag = new Uint8Array(16);
        const memory = new Uint8Array(length + 600);
        const at = 300;
        key.seal(nonce, new Uint8Array(0), plain, memory.subarray(at, at + length), tag);
        t.equal(key.open(nonce, new Uint8Array(0), memory.subarray(at, at + length), memory.subarray(at + shift, at + shift + length), tag), true, `${name}, ${length} bytes moved ${shift}: authentic`);
        t.ok(Buffer.from(memory.subarray(at + shift, at + shift + length)).equals(plain), `${name}, ${length} bytes moved ${shift}: the plaintext`);
      }
    }
  }
});

t.test('the native addon refuses bad arguments with an error instead of reading or writing out of bounds', async (t) => {
  t.ok(natives.length > 0, 'a native engine to check');
  for (const gcm of natives) await t.test(gcm.engine, async (t) => checkRefusals(t, gcm));
});

function checkRefusals(t: Test, native: AesGcm): void {
  t.throws(() => native.key(new Uint8Array(31)), /32 bytes/, 'a short key');
  const key = native.key(randomBytes(32));
  const nonce = randomBytes(NONCE_BYTES);
  const none = new Uint8Array(0);
  t.throws(() => key.seal(nonce, none, new Uint8Array(10), new Uint8Array(9), new Uint8Array(16)), /as long as input/, 'out shorter than input');
  t.throws(() => key.seal(nonce.subarray(0, 8), none, new Uint8Array(10), new Uint8Array(10), new Uint8Array(16)), /nonce is 12 bytes/, 'a short nonce');
  t.throws(() => key.open(nonce, none, new Uint8Array(10), new Uint8Array(10), new Uint8Array(4)), /tag 16/, 'a short tag');
  const overlapping = new Uint8Array(64);
  t.throws(() => key.seal(nonce, none, overlapping.subarray(0, 32), overlapping.subarray(8, 40), new Uint8Array(16)), /overlap/, 'seal into bytes overlapping its input');
}

t.test('sealCrc seals exactly as seal and returns the envelope\'s CRC, which sealBatch stores', async (t) => {
  t.ok(natives.length > 0, 'a native engine to check');
  for (const gcm of natives) await t.test(gcm.engine, async (t) => checkSealCrc(t, gcm));
});

function checkSealCrc(t: Test, native: AesGcm): void {
  const key = native.key(randomBytes(32));
  const sealCrc = key.sealCrc;
  t.ok(sealCrc !== undefined, 'the native key has sealCrc');
  if (sealCrc === undefined) return;
  for (const length of [0, 1, 95, 96, 97, 255, 256, 257, 511, 512, 513, 1_000, 15_359, 15_360, 15_361, 40_000, 65_536 + 3]) {
    const nonce = randomBytes(NONCE_BYTES);
    const aad = randomBytes(70);
    const plain = randomBytes(length);
    const head = 23;
    // over = a header, the ciphertext, then the tag: as an envelope lays them out.
    const envelope = new Uint8Array(head + length + 16);
    envelope.set(randomBytes(head));
    const crc = sealCrc(nonce, aad, plain, envelope.subarray(head, head + length), envelope.subarray(head + length), envelope);
    const out = new Uint8Array(length);
    const tag = new Uint8Array(16);
    key.seal(nonce, aad, plain, out, tag);
    t.same(Buffer.from(envelope.subarray(head, head + length)), Buffer.from(out), `${length} bytes: the same ciphertext`);
    t.same(Buffer.from(envelope.subarray(head + length)), Buffer.from(tag), `${length} bytes: the same tag`);
    t.equal(crc, crc32c.calculate(Buffer.from(envelope), 0) >>> 0, `${length} bytes: the CRC of header, ciphertext and tag`);
  }
  const none = new Uint8Array(0);
  const over = new Uint8Array(64);
  t.throws(() => sealCrc(randomBytes(NONCE_BYTES), none, new Uint8Array(16), over.subarray(40, 56), over.subarray(0, 16), over), /over must hold out, then the tag/, 'a tag before out is refused');
  t.throws(() => sealCrc(randomBytes(NONCE_BYTES), none, new Uint8Array(16), new Uint8Array(16), over.subarray(0, 16), over), /over must hold out/, 'out outside over is refused');

  // sealBatch stores it: the envelope's CRC field is the CRC of its bytes from attributes on.
  const batch = buildBatch([{ key: null, value: randomBytes(3000) }, { key: null, value: randomBytes(20_000) }], { nowMs: 1_700_000_000_000 });
  const keyId = Buffer.from('k1');
  const sealedSize = batch.byteLength + envelopeOverhead(keyId.byteLength);
  const disk = new Uint8Array(sealedSize);
  t.equal(sealBatch(batch, 0, batch.byteLength, keyId, key, randomBytes(NONCE_BYTES), disk, 0), sealedSize);
  t.equal(new DataView(disk.buffer).getUint32(17), computeBatchCrc(disk, 0, sealedSize), 'the stored CRC is the envelope\'s');
}
