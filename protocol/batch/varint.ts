/**
 * Zig-zag varints, as Kafka's records use them (protobuf's `sint32` and
 * `sint64`): 7 bits a byte, least significant group first, high bit set on
 * every byte but the last. A varint holds an int32 in at most 5 bytes; a
 * varlong holds an int64 in at most 10. Varlongs are JS numbers here, so only
 * safe integers (|v| < 2^53) are written or accepted on read.
 *
 * Writers take a position and return the position after what they wrote, so
 * the builder encodes straight into its one growing buffer. Readers go through
 * `ByteCursor`, whose every read is checked against the end it was given and
 * throws `BatchFormatError` (never a RangeError, never a silent wrap).
 * No BigInt anywhere: varlongs beyond 32 bits are handled as two 32-bit halves.
 */
import { BatchFormatError } from './header.js';

export const VARINT_MAX_BYTES = 5;
export const VARLONG_MAX_BYTES = 10;

const TWO_POW_32 = 4294967296;

/** Bytes a zig-zag varint of the int32 `value` takes. */
export function sizeOfVarint(value: number): number {
  const u = ((value << 1) ^ (value >> 31)) >>> 0;
  return u < 0x80 ? 1 : u < 0x4000 ? 2 : u < 0x200000 ? 3 : u < 0x10000000 ? 4 : 5;
}

/** Bytes a zig-zag varlong of the safe integer `value` takes. */
export function sizeOfVarlong(value: number): number {
  return (value | 0) === value ? sizeOfVarint(value) : sizeOfWideVarlong(value);
}

/** Writes the int32 `value` as a zig-zag varint at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let u = ((value << 1) ^ (value >> 31)) >>> 0;
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

/** Writes the safe integer `value` as a zig-zag varlong at `pos`; returns the position after it. */
export function writeVarlong(buf: Uint8Array, pos: number, value: number): number {
  return (value | 0) === value ? writeVarint(buf, pos, value) : writeWideVarlong(buf, pos, value);
}

/*
 * The wide (beyond int32) paths live in functions of their own: a variable
 * captured by a closure makes V8 allocate its context on every call of the
 * enclosing function, taken branch or not, and these are called once per
 * record (the timestamp delta): ~80 bytes of garbage a record otherwise.
 */
function sizeOfWideVarlong(value: number): number {
  let size = 1;
  forEachVarlongGroup(value, () => size++);
  return size;
}

function writeWideVarlong(buf: Uint8Array, pos: number, value: number): number {
  const last = forEachVarlongGroup(value, (group) => {
    buf[pos++] = group | 0x80;
  });
  buf[pos++] = last;
  return pos;
}

/**
 * Calls `emit` with each 7-bit group but the last (which it returns) of the
 * zig-zag encoding of `value`, computed as two 32-bit halves: (v << 1) ^ (v >> 63).
 * Only for values outside int32, which are rare (timestamp deltas of weeks).
 */
function forEachVarlongGroup(value: number, emit: (group: number) => void): number {
  const high = Math.floor(value / TWO_POW_32);
  const low = value - high * TWO_POW_32;
  const sign = high >> 31;
  let zzLow = ((low << 1) ^ sign) >>> 0;
  let zzHigh = (((high << 1) | (low >>> 31)) ^ sign) >>> 0;
  while (zzHigh !== 0 || zzLow >= 0x80) {
    emit(zzLow & 0x7f);
    zzLow = ((zzLow >>> 7) | (zzHigh << 25)) >>> 0;
    zzHigh >>>= 7;
  }
  return zzLow;
}

/**
 * A read position over `[pos, end)` of a buffer. Every read checks the bytes
 * that remain first. `end` may be narrowed (to one record) and widened again
 * by the caller. Errors name the batch (`batchAt`, its byte position) and
 * point at the byte of `buf` where reading failed, except for `inflated`
 * bytes (the records of a compressed batch), which exist only in memory:
 * then the error points at the batch and says the offset inside the records.
 */
export class ByteCursor {
  constructor(
    readonly buf: Uint8Array,
    public pos: number,
    public end: number,
    readonly batchAt = -1,
    readonly inflated = false,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(message: string, at = this.pos): never {
    const batch = this.batchAt >= 0 ? `batch at byte ${this.batchAt}` : 'batch';
    if (this.inflated) throw new BatchFormatError(`${batch}, decompressed records offset ${at}: ${message}`, this.batchAt);
    throw new BatchFormatError(`${batch}: ${message}`, at);
  }

  readInt8(): number {
    if (this.pos >= this.end) this.fail('1 byte needed, none remain');
    return (this.buf[this.pos++]! << 24) >> 24;
  }

  readVarint(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    if (pos >= end) this.fail('varint needed, no bytes remain');
    let b = buf[pos++]!;
    if (b < 0x80) {
      this.pos = pos;
      return (b >>> 1) ^ -(b & 1);
    }
    let u = b & 0x7f;
    for (let shift = 7; ; shift += 7) {
      if (pos >= end) this.fail('varint runs past the end', this.pos);
      b = buf[pos++]!;
      if (shift === 28) {
        if (b > 0x0f) this.fail('varint does not fit in 32 bits', this.pos);
        u = (u | (b << 28)) >>> 0;
        break;
      }
      u |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    this.pos = pos;
    return (u >>> 1) ^ -(u & 1);
  }

  readVarlong(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    // Fast path: up to 4 bytes (28 bits) fit plain int arithmetic.
    let low = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) this.fail('varlong runs past the end', this.pos);
      const b = buf[pos++]!;
      low |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return (low >>> 1) ^ -(low & 1);
      }
    }
    // Slow path: the rest as a 64-bit number in two unsigned 32-bit halves.
    let high = 0;
    if (pos >= end) this.fail('varlong runs past the end', this.pos);
    let b = buf[pos++]!;
    low = (low | ((b & 0x7f) << 28)) >>> 0;
    high = (b & 0x7f) >>> 4;
    // Byte k (k >= 5) carries bits 7k.. of the 64, i.e. bits 7k-32.. of `high`;
    // the tenth byte may hold only bit 63.
    for (let shift = 3; b >= 0x80; shift += 7) {
      if (pos >= end) this.fail('varlong runs past the end', this.pos);
      b = buf[pos++]!;
      if (shift === 31 && b > 0x01) this.fail('varlong does not fit in 64 bits', this.pos);
      high = (high | ((b & 0x7f) << shift)) >>> 0;
    }
    // Undo zig-zag: v = (zz >>> 1) ^ -(zz & 1), on the halves.
    const negate = -(low & 1);
    const valueLow = (((low >>> 1) | (high << 31)) ^ negate) >>> 0;
    const valueHigh = (high >>> 1) ^ negate;
    const value = valueHigh * TWO_POW_32 + valueLow;
    if (!Number.isSafeInteger(value)) this.fail('varlong is outside the safe integer range (|v| < 2^53)', this.pos);
    this.pos = pos;
    return value;
  }

  /** A zero-copy view of the next `length` bytes. */
  readBytes(length: number): Uint8Array {
    if (length > this.end - this.pos) this.fail(`${length} bytes needed, only ${this.end - this.pos} remain`);
    const start = this.pos;
    this.pos = start + length;
    return this.buf.subarray(start, this.pos);
  }
}
