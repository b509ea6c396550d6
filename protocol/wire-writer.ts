/**
 * The writing twin of `WireReader`: big-endian primitives into a buffer sized
 * up front by the caller (`stringBytes` and friends compute the sizes), so an
 * encoder allocates once. Values are checked as they are written: an encoder
 * given a body that does not fit the wire types (a fractional partition, an
 * offset beyond 2^53, a 40 KB client id) throws a `RangeError` naming the
 * field, instead of silently sending something else.
 */

const I16_MAX_STRING_BYTES = 0x7fff;

/** Encoded size of a `string` (i16 length + UTF-8). */
export function stringBytes(value: string | null): number {
  return value === null ? 2 : 2 + Buffer.byteLength(value, 'utf8');
}

export class WireWriter {
  pos: number;
  readonly buf: Buffer;
  private readonly view: DataView;

  /**
   * A writer over a new buffer of `size` bytes, or over an existing buffer
   * (to fill in headroom another encoder left), starting at `pos`.
   */
  constructor(
    size: number | Uint8Array,
    /** Where writing starts: bytes before it are left free for the caller (the frame's length and header). */
    pos: number,
    /** Prefix of every error message, e.g. "Produce v0 request". */
    private readonly context: string,
  ) {
    if (typeof size === 'number') this.buf = Buffer.allocUnsafe(size);
    else this.buf = Buffer.isBuffer(size) ? size : Buffer.from(size.buffer, size.byteOffset, size.byteLength);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.pos = pos;
  }

  private invalid(field: string, value: unknown, expected: string): never {
    throw new RangeError(`${this.context}: ${field}: ${String(value)} is not ${expected}`);
  }

  i8(value: number, field: string): void {
    if (!Number.isInteger(value) || value < -0x80 || value > 0x7f) this.invalid(field, value, 'an i8');
    this.view.setInt8(this.pos++, value);
  }

  i16(value: number, field: string): void {
    if (!Number.isInteger(value) || value < -0x8000 || value > 0x7fff) this.invalid(field, value, 'an i16');
    this.view.setInt16(this.pos, value);
    this.pos += 2;
  }

  i32(value: number, field: string): void {
    if ((value | 0) !== value) this.invalid(field, value, 'an i32');
    this.view.setInt32(this.pos, value);
    this.pos += 4;
  }

  i64(value: number, field: string): void {
    if (!Number.isSafeInteger(value)) this.invalid(field, value, 'a safe integer (|n| < 2^53)');
    const high = Math.floor(value / 4294967296);
    this.view.setInt32(this.pos, high);
    this.view.setUint32(this.pos + 4, value - high * 4294967296);
    this.pos += 8;
  }

  nullableString(value: string | null, field: string): void {
    if (value === null) {
      this.view.setInt16(this.pos, -1);
      this.pos += 2;
      return;
    }
    if (typeof value !== 'string') this.invalid(field, value, 'a string');
    const written = this.buf.write(value, this.pos + 2, 'utf8');
    if (written > I16_MAX_STRING_BYTES) this.invalid(field, `a ${written}-byte string`, `at most ${I16_MAX_STRING_BYTES} bytes`);
    this.view.setInt16(this.pos, written);
    this.pos += 2 + written;
  }

  string(value: string, field: string): void {
    if (value === null) this.invalid(field, value, 'a string (null is not allowed here)');
    this.nullableString(value, field);
  }

  /** The whole buffer, after checking the size computed up front was exact. */
  finish(): Buffer {
    if (this.pos !== this.buf.byteLength) {
      throw new Error(`${this.context}: encoder size mismatch: wrote ${this.pos} of ${this.buf.byteLength} bytes`);
    }
    return this.buf;
  }
}
