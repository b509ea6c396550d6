/**
 * A bounded big-endian cursor over one frame, for the hand-coded parts of the
 * protocol (request header, Produce, Fetch). Every read checks that its bytes
 * are there, and `count` checks an array count against what remains before
 * the caller loops or allocates, so a count of 2^31 in a 20-byte body fails at
 * once. Every failure is a `ProtocolDecodeError` naming the field and the byte.
 *
 * Primitive types follow DESIGN.md: i8/i16/i32/i64 big-endian; `string` is an
 * i16 byte length (-1 for null) and UTF-8; `bytes` an i32 length and raw
 * bytes. i64 values outside JS's safe integers are refused rather than
 * rounded (offsets must be exact).
 */
import { ProtocolDecodeError } from './decode-error.js';

export class WireReader {
  pos: number;
  private readonly buf: Buffer;
  private readonly view: DataView;

  constructor(
    bytes: Uint8Array,
    pos: number,
    /** Prefix of every error message, e.g. "Produce v0 request". */
    private readonly context: string,
  ) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (!Number.isInteger(pos) || pos < 0 || pos > bytes.byteLength) this.fail('body', `starts at ${pos}, outside the ${bytes.byteLength}-byte frame`, 0);
    this.pos = pos;
  }

  get remaining(): number {
    return this.buf.byteLength - this.pos;
  }

  fail(field: string, problem: string, at = this.pos): never {
    throw new ProtocolDecodeError(`${this.context}: ${field}: ${problem}`, at);
  }

  private need(bytes: number, field: string): void {
    if (this.buf.byteLength - this.pos < bytes) {
      this.fail(field, `needs ${bytes} bytes, only ${this.buf.byteLength - this.pos} remain`);
    }
  }

  i8(field: string): number {
    this.need(1, field);
    return this.view.getInt8(this.pos++);
  }

  i16(field: string): number {
    this.need(2, field);
    const value = this.view.getInt16(this.pos);
    this.pos += 2;
    return value;
  }

  i32(field: string): number {
    this.need(4, field);
    const value = this.view.getInt32(this.pos);
    this.pos += 4;
    return value;
  }

  i64(field: string): number {
    this.need(8, field);
    const value = this.view.getInt32(this.pos) * 4294967296 + this.view.getUint32(this.pos + 4);
    if (!Number.isSafeInteger(value)) this.fail(field, 'i64 is outside the safe integer range (|n| < 2^53)');
    this.pos += 8;
    return value;
  }

  nullableString(field: string): string | null {
    const start = this.pos;
    const length = this.i16(field);
    if (length === -1) return null;
    if (length < 0) this.fail(field, `string length ${length} is negative`, start);
    if (length > this.remaining) this.fail(field, `string length ${length} runs past the end (${this.remaining} bytes remain)`, start);
    const value = this.buf.toString('utf8', this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  string(field: string): string {
    const start = this.pos;
    const value = this.nullableString(field);
    if (value === null) this.fail(field, 'is null but may not be', start);
    return value;
  }

  /** i32 length and that many bytes, as a subarray of the frame (no copy). Null is refused. */
  bytes(field: string): Uint8Array {
    const start = this.pos;
    const length = this.i32(field);
    if (length < 0) this.fail(field, `byte length ${length} is negative`, start);
    if (length > this.remaining) this.fail(field, `byte length ${length} runs past the end (${this.remaining} bytes remain)`, start);
    const value = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  /** An i32 array count, refused unless `count * minItemBytes` bytes remain. */
  count(field: string, minItemBytes: number): number {
    const start = this.pos;
    const count = this.i32(field);
    if (count < 0) this.fail(field, `count ${count} is negative`, start);
    if (count * minItemBytes > this.remaining) {
      this.fail(field, `count ${count} needs at least ${count * minItemBytes} bytes, only ${this.remaining} remain`, start);
    }
    return count;
  }

  /** The body must end exactly at the end of the frame. */
  end(): void {
    if (this.pos !== this.buf.byteLength) this.fail('body', `${this.buf.byteLength - this.pos} unexpected bytes after the end of the body`);
  }
}
