/**
 * Small helpers for storage tests on the simulated disk: deterministic
 * batches, and damage written straight into a file.
 */
import { buildBatch } from '../../protocol/batch/builder.js';
import type { FileSystem } from '../../broker/world/file-system.js';
import type { Rng } from '../../broker/world/rng.js';

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A batch of `records` records of `valueBytes` each, create times `timestampMs`, +1, +2... */
export function makeBatch(records: number, valueBytes: number, timestampMs: number): Uint8Array {
  return buildBatch(
    Array.from({ length: records }, (_, i) => ({ key: bytes(`k${i}`), value: new Uint8Array(valueBytes).fill(i & 0xff), timestamp: timestampMs + i })),
    { nowMs: timestampMs },
  );
}

/** A one-record batch whose value is `valueBytes` random non-zero bytes (so a page of zeros is never mistaken for it). */
export function noisyBatch(rng: Rng, valueBytes: number, timestampMs: number): Uint8Array {
  return buildBatch([{ key: bytes('k'), value: Uint8Array.from({ length: valueBytes }, () => 1 + rng.int(255)), timestamp: timestampMs }], { nowMs: timestampMs });
}

/** Flips one bit of the byte at `position` of `file`. */
export function corruptByte(fs: FileSystem, file: string, position: number): void {
  const handle = fs.open(file, 'r+');
  const one = new Uint8Array(1);
  handle.read(one, 0, 1, position);
  one[0] = (one[0] as number) ^ 0x10;
  handle.write(one, position);
  handle.close();
}
