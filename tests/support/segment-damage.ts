/**
 * Damage written straight into a real broker's segment files (node:fs), for
 * tests that corrupt a partition under or between broker processes: where
 * each batch of a `.log` file is, and one byte flipped.
 */
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';

/** Byte positions and sizes of the batches in a .log file (by their length fields). */
export function batchesIn(file: string): { position: number; sizeBytes: number }[] {
  const bytes = readFileSync(file);
  const out: { position: number; sizeBytes: number }[] = [];
  for (let position = 0; position + 61 <= bytes.length; position += 12 + bytes.readInt32BE(position + 8)) {
    out.push({ position, sizeBytes: 12 + bytes.readInt32BE(position + 8) });
  }
  return out;
}

/** Flips one bit of the byte at `position` of `file`. */
export function flipByte(file: string, position: number): void {
  const fd = openSync(file, 'r+');
  const one = Buffer.alloc(1);
  readSync(fd, one, 0, 1, position);
  one[0] = one[0]! ^ 0x40;
  writeSync(fd, one, 0, 1, position);
  closeSync(fd);
}
