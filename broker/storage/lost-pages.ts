/**
 * Telling writes a power loss dropped from damage, in the last segment.
 *
 * A file's unsynced pages reach the disk in no particular order: after a
 * power loss a page the kernel never wrote back reads as zeros (ext4 and
 * xfs allocate it as unwritten, or not at all), while a later page that was
 * written back is intact. The page that held the last fdatasync'd byte
 * reads as it was then: its bytes up to that point, zeros after. So the
 * last segment can hold "a bad batch with valid batches after it" without
 * any damage: nothing at or after the first lost page was acknowledged as
 * durable (with fsync=always an fdatasync covering a later batch would have
 * covered the hole too; with fsync=interval unsynced data is outside the
 * promise).
 *
 * `lostPagesExplain` decides whether the bytes from a bad batch to the next
 * valid batch are exactly that, reading the file page by page:
 * - the bad batch runs into a lost page: its own page is zeros from the
 *   batch to the page's end, or its header runs into a page of zeros, or
 *   its header is intact (magic 2, a sane length) and a 4 KiB-aligned page
 *   of zeros lies inside its claimed length;
 * - from there to the next valid batch there are only whole aligned pages
 *   of zeros and, after each of them, the tail of a batch whose header the
 *   page took (at most `maxBatchBytes`; twice that where the head of the
 *   batch another lost page cut follows).
 * Anything else (non-zero garbage, a batch whole in intact pages that is
 * still bad, a bad batch that no lost page touches) is damage. Recovery
 * asks only for the last segment above the recovery point; it then cuts at
 * the bad batch and sets the rest aside (set-aside.ts), never deletes it.
 */
import { BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD, BATCH_MAGIC, BATCH_OFFSET_LENGTH, BATCH_OFFSET_MAGIC } from '../../protocol/batch/header.js';
import type { FileHandle } from '../world/file-system.js';

export const PAGE_BYTES = 4096;

const pageStart = (position: number): number => position - (position % PAGE_BYTES);

/** True when `file[from, to)` is all zeros (read in pages). */
function zeros(file: FileHandle, from: number, to: number, page: Uint8Array): boolean {
  for (let at = from; at < to;) {
    const n = file.read(page, 0, Math.min(page.byteLength, to - at), at);
    if (n === 0) return false;
    for (let i = 0; i < n; i++) if (page[i] !== 0) return false;
    at += n;
  }
  return true;
}

/**
 * Whether the bytes of `file` from a bad batch at `badPosition` to the next
 * valid batch at `nextPosition` are lost unsynced pages (see the file comment).
 */
export function lostPagesExplain(file: FileHandle, badPosition: number, nextPosition: number, maxBatchBytes: number): boolean {
  const page = new Uint8Array(PAGE_BYTES);
  /** A whole aligned page of zeros at `at`, before the next valid batch. */
  const lostPageAt = (at: number): boolean => at % PAGE_BYTES === 0 && at + PAGE_BYTES <= nextPosition && zeros(file, at, at + PAGE_BYTES, page);

  const ownPageEnd = pageStart(badPosition) + PAGE_BYTES;
  let x: number;
  let holes = 0;
  if (ownPageEnd <= nextPosition && zeros(file, badPosition, ownPageEnd, page)) {
    // its own page lost: zeros from the batch (the last synced byte, or the page start) to the page end
    x = ownPageEnd;
    holes = 1;
  } else if (badPosition + BATCH_HEADER_BYTES > ownPageEnd && lostPageAt(ownPageEnd)) {
    x = ownPageEnd;
  } else {
    const header = new Uint8Array(BATCH_HEADER_BYTES);
    if (file.read(header, 0, BATCH_HEADER_BYTES, badPosition) < BATCH_HEADER_BYTES || header[BATCH_OFFSET_MAGIC] !== BATCH_MAGIC) return false;
    const claimedEnd = badPosition + BATCH_LOG_OVERHEAD + new DataView(header.buffer).getInt32(BATCH_OFFSET_LENGTH);
    if (claimedEnd < badPosition + BATCH_HEADER_BYTES) return false;
    let hole = -1;
    for (let at = ownPageEnd; at < Math.min(claimedEnd, nextPosition) && hole < 0; at += PAGE_BYTES) if (lostPageAt(at)) hole = at;
    if (hole < 0) return false;
    x = hole;
  }
  while (x < nextPosition) {
    if (lostPageAt(x)) {
      x += PAGE_BYTES;
      holes += 1;
      continue;
    }
    // The tail of a batch a lost page cut, and maybe the head of one the next lost page cuts: nothing whole between.
    let next = pageStart(x) + PAGE_BYTES;
    while (next < nextPosition && !lostPageAt(next)) next += PAGE_BYTES;
    next = Math.min(next, nextPosition);
    if (next - x > (next === nextPosition ? maxBatchBytes : 2 * maxBatchBytes)) return false;
    x = next;
  }
  return holes > 0;
}
