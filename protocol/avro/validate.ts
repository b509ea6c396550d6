/**
 * A bounded pre-check of Avro binary bytes against the writer's schema,
 * run before avsc decodes them. avsc trusts counts: its array reader does
 * `new Array(count)` and loops `count` times before noticing the buffer has
 * run out, so a 20-byte body that claims 2^31 items would hang or exhaust
 * memory. This walk checks every block count against the bytes that remain
 * (each array item takes at least one byte, asserted when the schema is
 * compiled), every string length, enum index, union branch and boolean, and
 * that the body ends exactly at the end of the frame. Anything wrong is a
 * `ProtocolDecodeError` naming the field and the byte.
 *
 * Integers are read exactly: an `int` must fit an i32 and a `long` must be a
 * safe integer (|n| < 2^53; versioned-codec.ts gives avsc an exact `long`).
 *
 * Strings are not checked for valid UTF-8; invalid sequences decode to U+FFFD.
 */
import { ProtocolDecodeError } from '../decode-error.js';
import type { AvroSchema } from './schema.js';

const EXACT_VARINT_BYTES = 7; // 49 bits: exact in a double, no BigInt needed
const NO_BYTES = new Uint8Array(0);

class Cursor {
  pos = 0;
  end = 0;
  bytes: Uint8Array = NO_BYTES;
  context = '';

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(field: string, problem: string, at: number): never {
    throw new ProtocolDecodeError(`${this.context}: ${field}: ${problem}`, at);
  }

  /** A zigzag varint, decoded exactly; refused unless it is a safe integer. */
  varlong(field: string): number {
    const start = this.pos;
    if (start < this.end && this.bytes[start]! < 0x80) {
      const zigzag = this.bytes[this.pos++]!; // one byte: the common case of small counts and ids
      return (zigzag >>> 1) ^ -(zigzag & 1);
    }
    let zigzag = 0;
    let scale = 1;
    let byte: number;
    do {
      if (this.pos >= this.end) this.fail(field, 'varint runs past the end of the body', start);
      if (this.pos - start >= EXACT_VARINT_BYTES) return this.longVarlong(field, start);
      byte = this.bytes[this.pos++]!;
      zigzag += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    return zigzag % 2 === 1 ? -(zigzag + 1) / 2 : zigzag / 2;
  }

  private longVarlong(field: string, start: number): number {
    this.pos = start;
    let zigzag = 0n;
    let shift = 0n;
    let byte: number;
    do {
      if (this.pos >= this.end) this.fail(field, 'varint runs past the end of the body', start);
      if (shift >= 70n) this.fail(field, 'varint is longer than 10 bytes', start);
      byte = this.bytes[this.pos++]!;
      zigzag |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
    } while (byte & 0x80);
    const value = (zigzag & 1n) === 1n ? -((zigzag + 1n) >> 1n) : zigzag >> 1n;
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      this.fail(field, `long ${value} is outside the safe integer range (|n| < 2^53)`, start);
    }
    return Number(value);
  }
}

type Step = (cursor: Cursor) => void;

/** Smallest possible encoding of a value of this schema, in bytes. */
export function minEncodedBytes(schema: AvroSchema): number {
  if (typeof schema === 'string') return schema === 'null' ? 0 : 1;
  if (Array.isArray(schema)) return 1 + Math.min(...schema.map(minEncodedBytes));
  const complex = schema as Exclude<AvroSchema, string | readonly AvroSchema[]>;
  if (complex.type === 'record') return complex.fields.reduce((sum, field) => sum + minEncodedBytes(field.type), 0);
  return 1; // enum index, or an array's terminating zero count
}

function compile(schema: AvroSchema, field: string): Step {
  if (typeof schema === 'string') {
    switch (schema) {
      case 'null':
        return () => {};
      case 'boolean':
        return (c) => {
          if (c.pos >= c.end) c.fail(field, 'boolean runs past the end of the body', c.pos);
          const byte = c.bytes[c.pos]!;
          if (byte > 1) c.fail(field, `boolean byte is ${byte}, expected 0 or 1`, c.pos);
          c.pos++;
        };
      case 'int':
        return (c) => {
          const start = c.pos;
          const value = c.varlong(field);
          if ((value | 0) !== value) c.fail(field, `int ${value} is outside the i32 range`, start);
        };
      case 'long':
        return (c) => {
          c.varlong(field);
        };
      case 'string':
      case 'bytes':
        return (c) => {
          const start = c.pos;
          const length = c.varlong(field);
          if (length < 0) c.fail(field, `${schema} length ${length} is negative`, start);
          if (length > c.remaining) c.fail(field, `${schema} length ${length} runs past the end (${c.remaining} bytes remain)`, start);
          c.pos += length;
        };
    }
  }
  if (Array.isArray(schema)) {
    const branches = (schema as readonly AvroSchema[]).map((branch) => compile(branch, field));
    return (c) => {
      const start = c.pos;
      const index = c.varlong(field);
      const branch = branches[index];
      if (branch === undefined) return c.fail(field, `union branch ${index} does not exist (0 to ${branches.length - 1})`, start);
      branch(c);
    };
  }
  const complex = schema as Exclude<AvroSchema, string | readonly AvroSchema[]>;
  switch (complex.type) {
    case 'record': {
      const steps = complex.fields.map((f) => compile(f.type, field === '' ? f.name : `${field}.${f.name}`));
      return (c) => {
        for (const step of steps) step(c);
      };
    }
    case 'enum': {
      const symbols = complex.symbols.length;
      return (c) => {
        const start = c.pos;
        const index = c.varlong(field);
        if (index < 0 || index >= symbols) c.fail(field, `enum index ${index} is not one of the ${symbols} symbols of ${complex.name}`, start);
      };
    }
    case 'array': {
      const itemField = `${field}[]`;
      const minItemBytes = minEncodedBytes(complex.items);
      if (minItemBytes < 1) throw new Error(`schema error: items of ${field} may encode to 0 bytes, so their count cannot be bounded`);
      const item = compile(complex.items, itemField);
      return (c) => {
        for (;;) {
          const start = c.pos;
          let count = c.varlong(field);
          if (count === 0) return;
          if (count < 0) {
            count = -count;
            const blockBytes = c.varlong(field);
            if (blockBytes < 0 || blockBytes > c.remaining) c.fail(field, `block size ${blockBytes} is outside the ${c.remaining} bytes that remain`, start);
          }
          if (count * minItemBytes > c.remaining) {
            c.fail(field, `count ${count} needs at least ${count * minItemBytes} bytes, only ${c.remaining} remain`, start);
          }
          for (let i = 0; i < count; i++) item(c);
        }
      };
    }
  }
}

/**
 * Compiles `schema` once into a checker of bodies that occupy
 * `bytes[start, end of bytes)`. `context` prefixes every error, e.g.
 * "Metadata v0 request".
 */
export function compileValidator(schema: AvroSchema, context: string): (bytes: Uint8Array, start: number) => void {
  const root = compile(schema, '');
  const cursor = new Cursor();
  return (bytes, start) => {
    cursor.bytes = bytes;
    cursor.pos = start;
    cursor.end = bytes.byteLength;
    cursor.context = context;
    try {
      root(cursor);
      if (cursor.pos !== cursor.end) cursor.fail('body', `${cursor.end - cursor.pos} unexpected bytes after the end of the body`, cursor.pos);
    } finally {
      cursor.bytes = NO_BYTES; // do not keep the last frame alive
    }
  };
}
