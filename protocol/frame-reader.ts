/**
 * Cuts a byte stream into frames: `u32 length | length bytes`, the framing of
 * every request and response (DESIGN.md "Wire protocol"). It is a pure parser
 * in the manner of nats.js's `Parser`: the socket (or a test) pushes chunks of
 * any size and gets whole frames back through `onFrame`, so it is tested with
 * no network at all.
 *
 * Lengths are never trusted. Each length is checked (0, negative as an i32,
 * above `maxFrameBytes`) the moment its 4 bytes are complete, before a single
 * byte of the body is buffered, and a bad one throws `FrameError`: the caller
 * closes that connection, since the stream has no resynchronisation point.
 *
 * Memory: a frame that sits whole inside one chunk is handed out as a
 * subarray of that chunk (no copy; it stays valid as long as the chunk, and
 * socket chunks are never reused). A frame split across chunks is gathered
 * as references to the chunks' pieces and copied once, into a buffer of
 * exactly its length, when its last byte arrives: every byte is copied once
 * (growing a buffer by doubling copied a large frame about twice, a tenth of
 * the broker's time under produce load), and a peer that declares a large
 * frame and then trickles bytes holds only what it has actually sent. Small
 * pieces (a trickle) are not kept one by one, which would cost an object per
 * byte: they are packed into a staging buffer that doubles, at most twice
 * their bytes.
 *
 * After a `FrameError`, or if `onFrame` throws, the position in the stream is
 * lost; every later `push` throws a `FrameError` that says so.
 */

const LENGTH_PREFIX_BYTES = 4;
/** Pieces at least this big are kept by reference; smaller ones are packed into a staging buffer. */
const REFERENCE_PIECE_BYTES = 4 * 1024;
const INITIAL_STAGING_BYTES = 1024;

/** A frame length that cannot be accepted; the connection must be closed. */
export class FrameError extends Error {
  override name = 'FrameError';
  constructor(
    message: string,
    /** The offending length as the peer sent it, read as an i32 (NaN when the reader had already failed). */
    readonly frameLength: number,
    readonly maxFrameBytes: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface FrameReaderOptions {
  /** The largest frame (bytes after the length prefix) accepted: the broker's max.request.bytes. */
  maxFrameBytes: number;
  /** Called once per whole frame, in stream order, with the bytes after the length prefix. */
  onFrame: (frame: Uint8Array) => void;
}

export class FrameReader {
  private readonly maxFrameBytes: number;
  private readonly onFrame: (frame: Uint8Array) => void;
  /** A length prefix split across chunks. */
  private readonly prefix = new Uint8Array(LENGTH_PREFIX_BYTES);
  private prefixFilled = 0;
  /** The pieces of a frame split across chunks, in order; empty while between frames. */
  private readonly pieces: Uint8Array[] = [];
  /** Length of the frame being gathered; -1 while between frames. */
  private partialLength = -1;
  private partialFilled = 0;
  /** Packs small pieces; when in use it is the last entry of `pieces` (as its filled subarray). */
  private staging: Uint8Array | null = null;
  private stagingFilled = 0;
  private failure: unknown = null;

  constructor(opts: FrameReaderOptions) {
    if (!Number.isInteger(opts.maxFrameBytes) || opts.maxFrameBytes < 1 || opts.maxFrameBytes > 0x7fffffff) {
      throw new RangeError(`maxFrameBytes must be an integer from 1 to 2147483647, got ${opts.maxFrameBytes}`);
    }
    this.maxFrameBytes = opts.maxFrameBytes;
    this.onFrame = opts.onFrame;
  }

  /** Bytes held for a frame that is not complete yet (length prefix included). */
  get bufferedBytes(): number {
    return this.partialLength < 0 ? this.prefixFilled : LENGTH_PREFIX_BYTES + this.partialFilled;
  }

  push(chunk: Uint8Array): void {
    if (this.failure !== null) {
      throw new FrameError('the frame stream is unusable after an earlier error; close the connection', Number.NaN, this.maxFrameBytes, { cause: this.failure });
    }
    const chunkBytes = chunk.byteLength;
    let pos = 0;
    while (pos < chunkBytes) {
      if (this.partialLength < 0) {
        let frameLength: number;
        if (this.prefixFilled === 0 && chunkBytes - pos >= LENGTH_PREFIX_BYTES) {
          frameLength = readI32(chunk, pos);
          pos += LENGTH_PREFIX_BYTES;
        } else {
          const take = Math.min(LENGTH_PREFIX_BYTES - this.prefixFilled, chunkBytes - pos);
          this.prefix.set(chunk.subarray(pos, pos + take), this.prefixFilled);
          this.prefixFilled += take;
          pos += take;
          if (this.prefixFilled < LENGTH_PREFIX_BYTES) return;
          this.prefixFilled = 0;
          frameLength = readI32(this.prefix, 0);
        }
        this.checkLength(frameLength);
        if (chunkBytes - pos >= frameLength) {
          const frame = chunk.subarray(pos, pos + frameLength);
          pos += frameLength;
          this.emit(frame);
          continue;
        }
        this.partialLength = frameLength;
        this.partialFilled = 0;
      }
      const take = Math.min(this.partialLength - this.partialFilled, chunkBytes - pos);
      this.addPiece(chunk.subarray(pos, pos + take));
      pos += take;
      if (this.partialFilled === this.partialLength) this.emit(this.gathered());
    }
  }

  /** Keeps a piece of the frame being gathered: by reference when big, else copied into the staging buffer. */
  private addPiece(piece: Uint8Array): void {
    const bytes = piece.byteLength;
    if (bytes === 0) return;
    this.partialFilled += bytes;
    if (bytes >= REFERENCE_PIECE_BYTES) {
      this.staging = null;
      this.pieces.push(piece);
      return;
    }
    let staging = this.staging;
    if (staging === null || this.stagingFilled + bytes > staging.byteLength) {
      const sealed = staging === null ? 0 : this.stagingFilled;
      // Doubling, never past what the frame still needs: staging holds at most about twice the small bytes.
      const needed = this.partialLength - this.partialFilled + bytes + sealed;
      const grown = Buffer.allocUnsafe(Math.min(needed, Math.max(INITIAL_STAGING_BYTES, 2 * (sealed + bytes))));
      if (staging !== null) {
        grown.set(staging.subarray(0, sealed));
        this.pieces.pop();
      }
      this.pieces.push(grown.subarray(0, sealed));
      this.staging = staging = grown;
      this.stagingFilled = sealed;
    }
    staging.set(piece, this.stagingFilled);
    this.stagingFilled += bytes;
    this.pieces[this.pieces.length - 1] = staging.subarray(0, this.stagingFilled);
  }

  /** The whole gathered frame, in one buffer of exactly its length (each byte copied once); resets for the next frame. */
  private gathered(): Uint8Array {
    const pieces = this.pieces;
    let frame: Uint8Array;
    if (pieces.length === 1) {
      frame = pieces[0]!;
    } else {
      frame = Buffer.allocUnsafe(this.partialLength);
      let at = 0;
      for (const piece of pieces) {
        frame.set(piece, at);
        at += piece.byteLength;
      }
    }
    pieces.length = 0;
    this.staging = null;
    this.stagingFilled = 0;
    this.partialLength = -1;
    this.partialFilled = 0;
    return frame;
  }

  private checkLength(frameLength: number): void {
    let reason: string | null = null;
    if (frameLength === 0) reason = 'frame length 0: a frame must carry at least a header';
    else if (frameLength < 0) reason = `frame length ${frameLength} is negative (0x${(frameLength >>> 0).toString(16)} read as an i32)`;
    else if (frameLength > this.maxFrameBytes) reason = `frame length ${frameLength} exceeds the limit of ${this.maxFrameBytes} bytes`;
    if (reason === null) return;
    const error = new FrameError(reason, frameLength, this.maxFrameBytes);
    this.failure = error;
    throw error;
  }

  private emit(frame: Uint8Array): void {
    try {
      this.onFrame(frame);
    } catch (error) {
      this.failure = error;
      throw error;
    }
  }
}

function readI32(bytes: Uint8Array, pos: number): number {
  return ((bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!) | 0;
}
