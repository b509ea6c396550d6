/**
 * The hand-written writer of share-window records (broker/share/entry-writer.ts)
 * writes exactly the bytes avsc writes for the same schema: on many seeded
 * random chunks and parked entries, with the edge values of every varint
 * length, both signs, the 31-bit fast path's limits, avsc's long limit,
 * non-ASCII and long strings, and nulls; and what it writes decodes back
 * (decodeRecord) to the record written. (Negatives below -2^52 are left
 * out: avsc rounds them, as doubles lose odd numbers past 2^53; nothing
 * in a window is negative but a key hash, an int.)
 */
import t from 'tap';
import { decodeRecord, encodeRecord, type CoordinatorRecord } from '../../../broker/coordinator/records.js';
import { shareKeyTypes, shareValueTypes, type ShareEntryValue } from '../../../broker/share/records.js';
import { seededRng, type Rng } from '../../../broker/world/rng.js';

const EDGES = [0, 1, -1, 63, 64, -64, -65, 127, 128, 8191, 8192, 2 ** 30 - 1, 2 ** 30, -(2 ** 30), -(2 ** 30) - 1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 35 + 3, 1_764_770_000_123, 2 ** 52 + 1, 9007199254740990, -(2 ** 52)];
const INT_EDGES = EDGES.filter((n) => n >= -(2 ** 31) && n < 2 ** 31);
const STRINGS = ['', 'a', 'xK3v9QmR2tYpLw8sNz4bJA', 'ü', 'naïve ☃ 😀', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(127), 'w'.repeat(128), 'é'.repeat(40), 'v'.repeat(300)];

function pick<T>(rng: Rng, values: readonly T[]): T {
  return values[rng.int(values.length)]!;
}

function long(rng: Rng): number {
  if (rng.int(3) === 0) return pick(rng, EDGES);
  // Negatives stay within 2^52: below that avsc's own zigzag (2|n| - 1 in doubles) rounds, and its bytes are not the value.
  const negative = rng.int(4) === 0;
  const magnitude = Math.floor(rng.next() * 2 ** (negative ? 1 + rng.int(51) : 1 + rng.int(52)));
  return negative ? 0 - magnitude : magnitude; // 0 - 0 is +0: avsc and JSON know no -0
}

function int(rng: Rng): number {
  return rng.int(3) === 0 ? pick(rng, INT_EDGES) : (rng.int(2 ** 31) - (rng.int(2) === 0 ? 0 : 2 ** 31)) | 0;
}

function string(rng: Rng): string {
  if (rng.int(2) === 0) return pick(rng, STRINGS);
  return Array.from({ length: rng.int(80) }, () => String.fromCharCode(rng.int(10) === 0 ? 0x80 + rng.int(0x700) : 0x20 + rng.int(0x5f))).join('');
}

function entry(rng: Rng): ShareEntryValue {
  return {
    offset: long(rng),
    state: int(rng),
    deliveryCount: int(rng),
    holder: rng.int(3) === 0 ? null : string(rng),
    lockUntilMs: long(rng),
    dueMs: long(rng),
    keyHash: rng.int(3) === 0 ? null : int(rng),
    timestampMs: long(rng),
    error: rng.int(2) === 0 ? null : string(rng),
  };
}

/** The bytes avsc writes: the one-byte prefix, then its encoding. */
function viaAvsc(prefix: number, bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from([prefix]), bytes]);
}

t.test('chunks and parked entries: byte for byte what avsc writes, and decoded back to themselves', async (t) => {
  const rng = seededRng(20261203);
  let mismatches = 0;
  let checked = 0;
  let undecoded = 0;
  for (let i = 0; i < 3000; i++) {
    const groupId = string(rng);
    const topic = string(rng);
    const partition = int(rng);
    const chunked = rng.int(2) === 0;
    const record: CoordinatorRecord = chunked
      ? { kind: 'shareChunk', groupId, topic, partition, chunk: long(rng), value: rng.int(8) === 0 ? null : { entries: Array.from({ length: rng.int(34) }, () => entry(rng)) } }
      : { kind: 'shareDelayed', groupId, topic, partition, offset: long(rng), value: rng.int(8) === 0 ? null : entry(rng) };
    const { key, value } = encodeRecord(record);
    const { kind: _kind, value: expectedValue, ...keyFields } = record;
    const expectedKey = record.kind === 'shareChunk' ? viaAvsc(6, shareKeyTypes.shareChunk.toBuffer(keyFields)) : viaAvsc(7, shareKeyTypes.shareDelayed.toBuffer(keyFields));
    const expectedValueBytes = expectedValue === null ? null : viaAvsc(0, record.kind === 'shareChunk' ? shareValueTypes.shareChunk.toBuffer(expectedValue) : shareValueTypes.shareDelayed.toBuffer(expectedValue));
    const same = Buffer.from(key).equals(expectedKey) && (value === null ? expectedValueBytes === null : expectedValueBytes !== null && Buffer.from(value).equals(expectedValueBytes));
    if (!same) {
      mismatches++;
      if (mismatches <= 3) t.fail(`record ${i} encodes differently from avsc: ${JSON.stringify(record)}`);
      continue;
    }
    if (JSON.stringify(decodeRecord(key, value)) !== JSON.stringify(record)) {
      undecoded++;
      if (undecoded <= 3) t.fail(`record ${i} does not decode back: ${JSON.stringify(record)}`);
    }
    checked++;
  }
  t.equal(mismatches, 0, 'no record encodes differently from avsc');
  t.equal(undecoded, 0, 'every record decodes back to itself');
  t.equal(checked, 3000);
});

t.test("a field outside avsc's long range or not an integer is refused, as avsc refuses it", async (t) => {
  const bad: ShareEntryValue = { offset: Number.MAX_SAFE_INTEGER, state: 1, deliveryCount: 1, holder: null, lockUntilMs: 0, dueMs: 0, keyHash: null, timestampMs: 0, error: null };
  t.throws(() => encodeRecord({ kind: 'shareDelayed', groupId: 'g', topic: 't', partition: 0, offset: 1, value: bad }), /safe integer/);
  t.throws(() => encodeRecord({ kind: 'shareChunk', groupId: 'g', topic: 't', partition: 0, chunk: 1, value: { entries: [{ ...bad, offset: 1.5 }] } }), /safe integer/);
  t.throws(() => encodeRecord({ kind: 'shareDelayed', groupId: 'g', topic: 't', partition: 0, offset: 1, value: { ...bad, offset: 1, timestampMs: Number.MIN_SAFE_INTEGER } }), /safe integer/);
  t.throws(() => shareValueTypes.shareDelayed.toBuffer({ ...bad, offset: 1, timestampMs: Number.MIN_SAFE_INTEGER }), /invalid/, 'avsc refuses it too');
});
