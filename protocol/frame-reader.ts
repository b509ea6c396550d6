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
 * socket chunks are never reused). A frame split across chunks is copied into
 * a buffer that starts at 64 KiB and doubles up to the frame's length, so a
 * peer that declares a large frame and then trickles bytes holds at most about
 * twice what it has actually sent.
 *
 * After a `FrameError`, or if `onFrame` throws, the position in the stream is
 * lost; every later `push` throws a `FrameError` that says so.
 */

const LENGTH_PREFIX_BYTES = 4;
const INITIAL_PARTIAL_FRAME_BYTES = 64 * 1024;

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
  /** A frame split across chunks: null while between frames. */
  private partial: Uint8Array | null = null;
  private partialFilled = 0;
  private partialLength = 0;
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
    return this.partial === null ? this.prefixFilled : LENGTH_PREFIX_BYTES + this.partialFilled;
  }

  push(chunk: Uint8Array): void {
    if (this.failure !== null) {
      throw new FrameError('the frame stream is unusable after an earlier error; close the connection', Number.NaN, this.maxFrameBytes, { cause: this.failure });
    }
    const chunkBytes = chunk.byteLength;
    let pos = 0;
    while (pos < chunkBytes) {
      if (this.partial === null) {
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
        this.partial = Buffer.allocUnsafe(Math.min(frameLength, Math.max(INITIAL_PARTIAL_FRAME_BYTES, chunkBytes - pos)));
        this.partialLength = frameLength;
        this.partialFilled = 0;
      }
      const take = Math.min(this.partialLength - this.partialFilled, chunkBytes - pos);
      const partial = this.reserve(this.partialFilled + take);
      partial.set(chunk.subarray(pos, pos + take), this.partialFilled);
      this.partialFilled += take;
      pos += take;
      if (this.partialFilled === this.partialLength) {
        // reserve() never grows past partialLength, so the buffer is exactly the frame.
        this.partial = null;
        this.partialFilled = 0;
        this.emit(partial);
      }
    }
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

  /** The partial-frame buffer with room for `neededBytes`, grown by doubling but never past the frame's length. */
  private reserve(neededBytes: number): Uint8Array {
    const current = this.partial!;
    if (neededBytes <= current.byteLength) return current;
    const grown = Buffer.allocUnsafe(Math.min(this.partialLength, Math.max(neededBytes, current.byteLength * 2)));
    grown.set(current.subarray(0, this.partialFilled));
    this.partial = grown;
    return grown;
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
