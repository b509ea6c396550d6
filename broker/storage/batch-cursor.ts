/**
 * Walks the batch headers of a region of a .log file without reading the
 * records: the forward scan behind offset lookups, timestamp lookups,
 * truncation and finding the end of a cleanly closed segment.
 *
 * It reads the file in blocks and decodes only the header fields those
 * callers need, with no allocation per batch. The bytes it walks were
 * validated when they were appended or recovered, so it checks only that
 * each header is whole and its length sane; anything else means the file
 * changed under us, reported as CorruptLogError with file and position.
 */
import {
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  BATCH_OFFSET_BASE_OFFSET,
  BATCH_OFFSET_FIRST_TIMESTAMP,
  BATCH_OFFSET_LAST_OFFSET_DELTA,
  BATCH_OFFSET_LEADER_EPOCH,
  BATCH_OFFSET_LENGTH,
  BATCH_OFFSET_MAGIC,
  BATCH_OFFSET_MAX_TIMESTAMP,
  BATCH_OFFSET_RECORD_COUNT,
  BATCH_MAGIC,
  readI64,
} from '../../protocol/batch/header.js';
import type { FileHandle } from '../world/file-system.js';
import { CorruptLogError } from './errors.js';

const BLOCK_BYTES = 16 * 1024;

export class BatchCursor {
  /** Byte position of the current batch in the file. */
  position = -1;
  sizeBytes = 0;
  baseOffset = -1;
  lastOffset = -1;
  leaderEpoch = -1;
  firstTimestamp = -1;
  maxTimestamp = -1;
  recordCount = 0;

  #block = new Uint8Array(BLOCK_BYTES);
  #view = new DataView(this.#block.buffer);
  #blockStart = 0;
  #blockBytes = 0;
  #next: number;

  constructor(
    private readonly file: FileHandle,
    startPosition: number,
    private readonly endPosition: number,
  ) {
    this.#next = startPosition;
  }

  /** Moves to the next batch; false at the end of the region. */
  next(): boolean {
    const pos = this.#next;
    if (pos >= this.endPosition) return false;
    if (this.endPosition - pos < BATCH_HEADER_BYTES) throw this.#corrupt(pos, `only ${this.endPosition - pos} bytes left, a batch header needs ${BATCH_HEADER_BYTES}`);
    if (pos < this.#blockStart || pos + BATCH_HEADER_BYTES > this.#blockStart + this.#blockBytes) {
      this.#blockStart = pos;
      this.#blockBytes = this.file.read(this.#block, 0, Math.min(BLOCK_BYTES, this.endPosition - pos), pos);
      if (this.#blockBytes < BATCH_HEADER_BYTES) throw this.#corrupt(pos, 'file is shorter than expected');
    }
    const view = this.#view;
    const at = pos - this.#blockStart;
    const sizeBytes = BATCH_LOG_OVERHEAD + view.getInt32(at + BATCH_OFFSET_LENGTH);
    if (sizeBytes < BATCH_HEADER_BYTES || pos + sizeBytes > this.endPosition || view.getInt8(at + BATCH_OFFSET_MAGIC) !== BATCH_MAGIC) {
      throw this.#corrupt(pos, `bad batch header (size ${sizeBytes}, magic ${view.getInt8(at + BATCH_OFFSET_MAGIC)})`);
    }
    this.position = pos;
    this.sizeBytes = sizeBytes;
    this.baseOffset = readI64(this.#block, at + BATCH_OFFSET_BASE_OFFSET);
    this.lastOffset = this.baseOffset + view.getInt32(at + BATCH_OFFSET_LAST_OFFSET_DELTA);
    this.leaderEpoch = view.getInt32(at + BATCH_OFFSET_LEADER_EPOCH);
    this.firstTimestamp = readI64(this.#block, at + BATCH_OFFSET_FIRST_TIMESTAMP);
    this.maxTimestamp = readI64(this.#block, at + BATCH_OFFSET_MAX_TIMESTAMP);
    this.recordCount = view.getInt32(at + BATCH_OFFSET_RECORD_COUNT);
    this.#next = pos + sizeBytes;
    return true;
  }

  #corrupt(position: number, reason: string): CorruptLogError {
    return new CorruptLogError(this.file.path, position, reason);
  }
}
