/**
 * xxHash32, the plain reference algorithm: the LZ4 frame format's header
 * checksum byte (HC = second byte of xxh32 of the frame descriptor), which
 * Kafka's reader verifies, and the key hash a share group's ordering="key"
 * goes by (broker/share/batch-records.ts, per record taken in).
 */

const PRIME1 = 2654435761;
const PRIME2 = 2246822519;
const PRIME3 = 3266489917;
const PRIME4 = 668265263;
const PRIME5 = 374761393;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function u32le(data: Uint8Array, pos: number): number {
  return (data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16) | (data[pos + 3]! << 24)) >>> 0;
}

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, PRIME2)) | 0, 13), PRIME1);
}

/** The hash of `data[start, end)` (all of it by default: a range spares a caller a view per hash). */
export function xxhash32(data: Uint8Array, seed = 0, start = 0, end = data.length): number {
  const length = end - start;
  let pos = start;
  let h: number;
  if (length >= 16) {
    let v1 = (seed + PRIME1 + PRIME2) | 0;
    let v2 = (seed + PRIME2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - PRIME1) | 0;
    for (; pos + 16 <= end; pos += 16) {
      v1 = round(v1, u32le(data, pos));
      v2 = round(v2, u32le(data, pos + 4));
      v3 = round(v3, u32le(data, pos + 8));
      v4 = round(v4, u32le(data, pos + 12));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + PRIME5) | 0;
  }
  h = (h + length) | 0;
  for (; pos + 4 <= end; pos += 4) {
    h = Math.imul(rotl((h + Math.imul(u32le(data, pos), PRIME3)) | 0, 17), PRIME4);
  }
  for (; pos < end; pos++) {
    h = Math.imul(rotl((h + Math.imul(data[pos]!, PRIME5)) | 0, 11), PRIME1);
  }
  h ^= h >>> 15;
  h = Math.imul(h, PRIME2);
  h ^= h >>> 13;
  h = Math.imul(h, PRIME3);
  h ^= h >>> 16;
  return h >>> 0;
}
