/**
 * The frame of one entry in the local metadata log (local-store.ts has the
 * file format): `u32 entryBytes, u32 crc, u8 schemaVersion, payload`, the
 * CRC-32C covering schema version and payload.
 */
import { crc32c } from '../../protocol/batch/crc32c.js';

export const ENTRY_HEADER_BYTES = 8;

function crcOf(bytes: Uint8Array): number {
  return crc32c(bytes);
}

export function frameEntry({ schemaVersion, bytes: payload }: { schemaVersion: number; bytes: Uint8Array }): Uint8Array {
  const frame = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + 1 + payload.byteLength);
  frame.writeUInt32BE(1 + payload.byteLength, 0);
  frame[ENTRY_HEADER_BYTES] = schemaVersion;
  frame.set(payload, ENTRY_HEADER_BYTES + 1);
  frame.writeUInt32BE(crcOf(frame.subarray(ENTRY_HEADER_BYTES)), 4);
  return frame;
}

export type Frame =
  /** `body` = schema version byte + payload; the next frame starts at `end`. */
  | { kind: 'entry'; body: Uint8Array; end: number }
  /** The header or body runs past the end of the bytes. */
  | { kind: 'torn' }
  /** Complete but fails its CRC (or is too short to hold a schema version and payload). */
  | { kind: 'bad-crc'; end: number };

/** The frame that starts at `position` (< bytes.byteLength). */
export function readFrame(bytes: Buffer, position: number): Frame {
  if (bytes.byteLength - position < ENTRY_HEADER_BYTES) return { kind: 'torn' };
  const entryBytes = bytes.readUInt32BE(position);
  const end = position + ENTRY_HEADER_BYTES + entryBytes;
  if (end > bytes.byteLength) return { kind: 'torn' };
  const body = bytes.subarray(position + ENTRY_HEADER_BYTES, end);
  if (entryBytes < 2 || bytes.readUInt32BE(position + 4) !== crcOf(body)) return { kind: 'bad-crc', end };
  return { kind: 'entry', body, end };
}
