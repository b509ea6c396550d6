/**
 * CRC-32C (Castagnoli): the checksum of record batches (Kafka's), and of
 * the broker's own files. One function for all of them, from the
 * project's addon when it is built and the CPU has a CRC-32C instruction
 * (native/crc32c.c: the instruction as three interleaved streams), else
 * fast-crc32c (its SSE4.2 code, or, without it, its JavaScript).
 *
 * Why not fast-crc32c alone: it runs the instruction as one stream, each
 * step waiting out the one before (3 cycles) while the unit could start
 * one per cycle. Measured on the reference machine, 64 KiB in cache: the
 * addon 50 µs per MB, fast-crc32c 120. Every produced batch is checked
 * once by the broker and sealed once by the producer.
 *
 * Both give the same numbers (tests/protocol/crc32c checks every length to
 * past two of the addon's blocks, at every alignment, against fast-crc32c).
 */
import fastCrc32c from 'fast-crc32c';
import { nativeAddon } from '../native-addon.js';

interface CrcAddon {
  hardwareCrc?: boolean;
  crc32c(bytes: Uint8Array, state: number): number;
}

const addon = nativeAddon();
const native = typeof addon !== 'string' && (addon as CrcAddon).hardwareCrc === true ? (addon as CrcAddon) : null;

/** The CRC-32C of `bytes`, continuing from `state` (the CRC of the bytes before them; 0 to start). */
export const crc32c: (bytes: Uint8Array, state?: number) => number =
  native !== null ? (bytes, state = 0) => native.crc32c(bytes, state) : (bytes, state = 0) => fastCrc32c.calculate(bytes as Buffer, state) >>> 0;

/** What computes it: the addon, fast-crc32c's native code, or its JavaScript (about 20x slower, and silent about it). */
export function crc32cSource(): 'addon' | 'fast-crc32c' | 'fast-crc32c (JavaScript)' {
  if (native !== null) return 'addon';
  return String(fastCrc32c.calculate).includes('[native code]') ? 'fast-crc32c' : 'fast-crc32c (JavaScript)';
}
