/**
 * The Avro binary encoding of share-window entries (records.ts's
 * `ShareEntry`, in a `ShareChunkValue` or as a `ShareDelayedValue`),
 * written by hand, byte for byte what avsc's `toBuffer` writes for the same
 * schema, so nothing about the stored format changes and avsc still reads
 * it back (on load, where speed does not matter). (Except below -2^52,
 * where avsc's zigzag in doubles rounds and this writer stays exact; no
 * field of a window entry is ever that negative.)
 *
 * Why by hand: a coordinator writes one entry per record acquired and again
 * per record settled. avsc's generic writers cost about 2.5 us an entry on
 * this machine (its `long` writer checks every value, and a nullable field
 * is an unwrapped union whose branch is found by trying each type), a large
 * share of a share group's per-record CPU; this writer costs a small
 * fraction of that. tests/broker/share/entry-writer.test.ts checks it
 * against avsc on random entries, edge values included.
 *
 * Avro binary, as used here: int and long are zigzag varints; a string is
 * its UTF-8 length (a long) then the bytes; a union is the branch index (a
 * long) then the value; an array is blocks of (count, items) ended by a
 * zero count (avsc writes one block); a record is its fields in order.
 */
import type { ShareEntryValue } from './records.js';

const INITIAL_BYTES = 2048;
/** avsc's `long` takes |n| <= 2^53 - 2 and refuses the rest: so does this writer. */
const MAX_LONG = 9007199254740990;

export class EntryWriter {
  #buf = Buffer.allocUnsafe(INITIAL_BYTES);
  #pos = 0;

  /** `prefix` (a one-byte schema version) then one `ShareChunkValue` ({ entries }) as avsc encodes it; a copy the caller owns. */
  chunkValue(prefix: number, entries: readonly ShareEntryValue[]): Buffer {
    this.#start(prefix);
    if (entries.length > 0) {
      this.#long(entries.length);
      for (const e of entries) this.#entry(e);
    }
    this.#long(0);
    return this.#take();
  }

  /** `prefix` (a one-byte kind) then a `ShareChunkKey` or `ShareDelayedKey` (they differ only in the last field's name: `chunk`, `offset`). */
  windowKey(prefix: number, groupId: string, topic: string, partition: number, last: number): Buffer {
    this.#start(prefix);
    this.#room(2 * LONG_BYTES + stringRoom(groupId) + stringRoom(topic));
    let pos = writeString(this.#buf, this.#pos, groupId);
    pos = writeString(this.#buf, pos, topic);
    pos = writeLong(this.#buf, pos, partition);
    this.#pos = writeLong(this.#buf, pos, last);
    return this.#take();
  }

  /** `prefix` (a one-byte schema version) then one `ShareDelayedValue` (an entry) as avsc encodes it; a copy the caller owns. */
  entryValue(prefix: number, entry: ShareEntryValue): Buffer {
    this.#start(prefix);
    this.#entry(entry);
    return this.#take();
  }

  #start(prefix: number): void {
    this.#buf[0] = prefix;
    this.#pos = 1;
  }

  #take(): Buffer {
    const out = Buffer.allocUnsafe(this.#pos);
    this.#buf.copy(out, 0, 0, this.#pos);
    return out;
  }

  /** One entry: room for all of it is made once, then every field is written with no further check (this runs per record, twice). */
  #entry(e: ShareEntryValue): void {
    this.#room(ENTRY_LONGS * LONG_BYTES + (e.holder === null ? 0 : stringRoom(e.holder)) + (e.error === null ? 0 : stringRoom(e.error)));
    const buf = this.#buf;
    let pos = writeLong(buf, this.#pos, e.offset);
    pos = writeLong(buf, pos, e.state);
    pos = writeLong(buf, pos, e.deliveryCount);
    if (e.holder === null) buf[pos++] = 0;
    else {
      buf[pos++] = 2; // union branch 1, zigzag
      pos = writeString(buf, pos, e.holder);
    }
    pos = writeLong(buf, pos, e.lockUntilMs);
    pos = writeLong(buf, pos, e.dueMs);
    if (e.keyHash === null) buf[pos++] = 0;
    else {
      buf[pos++] = 2;
      pos = writeLong(buf, pos, e.keyHash);
    }
    pos = writeLong(buf, pos, e.timestampMs);
    if (e.error === null) buf[pos++] = 0;
    else {
      buf[pos++] = 2;
      pos = writeString(buf, pos, e.error);
    }
    this.#pos = pos;
  }

  #long(n: number): void {
    this.#room(LONG_BYTES);
    this.#pos = writeLong(this.#buf, this.#pos, n);
  }

  #room(bytes: number): void {
    if (this.#pos + bytes <= this.#buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + bytes));
    this.#buf.copy(grown, 0, 0, this.#pos);
    this.#buf = grown;
  }
}

/** The most bytes a zigzag varint long takes. */
const LONG_BYTES = 10;
/** An entry's longs and union branches (strings' bytes are counted apart). */
const ENTRY_LONGS = 12;

/** The most bytes a string takes: its length (a long) and up to 3 UTF-8 bytes per UTF-16 unit. */
function stringRoom(s: string): number {
  return LONG_BYTES + 3 * s.length;
}

/** Writes a zigzag varint of a safe integer (int and long encode alike) at `pos` (room made by the caller); returns the position after it. */
function writeLong(buf: Buffer, pos: number, n: number): number {
  if (n >= 0 && n < 64 && (n | 0) === n) {
    // Most fields: a state, a count, a union branch, a zero.
    buf[pos++] = n << 1;
    return pos;
  }
  if (!Number.isInteger(n) || n > MAX_LONG || n < -MAX_LONG) throw new TypeError(`a share entry field must be a safe integer within +-${MAX_LONG} (avsc's long), got ${n}`);
  if (n >= -0x40000000 && n < 0x40000000) {
    // 31-bit: zigzag and shifts in int32 arithmetic.
    let z = (n << 1) ^ (n >> 31);
    while (z > 0x7f || z < 0) {
      buf[pos++] = (z & 0x7f) | 0x80;
      z >>>= 7;
    }
    buf[pos++] = z;
    return pos;
  }
  if (n > 0 && n < 0x8_0000_0000_0000) {
    // Timestamps and deadlines, below 2^51: the zigzag value 2n is exact in a double; its low 28 bits
    // go out as four 7-bit groups, the rest (under 2^24) in int32 arithmetic.
    const z = n * 2;
    const lo = z % 0x1000_0000;
    let hi = (z - lo) / 0x1000_0000;
    buf[pos++] = (lo & 0x7f) | 0x80;
    buf[pos++] = ((lo >>> 7) & 0x7f) | 0x80;
    buf[pos++] = ((lo >>> 14) & 0x7f) | 0x80;
    buf[pos++] = ((lo >>> 21) & 0x7f) | 0x80;
    while (hi > 0x7f) {
      buf[pos++] = (hi & 0x7f) | 0x80;
      hi >>>= 7;
    }
    buf[pos++] = hi;
    return pos;
  }
  // Beyond that (and negatives past 31 bits): the zigzag value 2q + sign (q = n, or -n - 1 for a negative n)
  // can pass 2^53, where doubles lose odd numbers, so it is built in two 32-bit halves (int32 arithmetic only).
  const sign = n < 0 ? 1 : 0;
  const q = n < 0 ? -n - 1 : n;
  const lo = q >>> 0;
  let zhi = ((Math.floor(q / 0x1_0000_0000) << 1) | (lo >>> 31)) >>> 0;
  let zlo = ((lo << 1) | sign) >>> 0;
  while (zhi !== 0) {
    buf[pos++] = (zlo & 0x7f) | 0x80;
    zlo = ((zlo >>> 7) | (zhi << 25)) >>> 0;
    zhi >>>= 7;
  }
  while (zlo > 0x7f) {
    buf[pos++] = (zlo & 0x7f) | 0x80;
    zlo >>>= 7;
  }
  buf[pos++] = zlo;
  return pos;
}

/** Writes a string (its UTF-8 length, then the bytes) at `pos`, room for stringRoom(s) made by the caller; returns the position after it. */
function writeString(buf: Buffer, pos: number, s: string): number {
  // Member ids, group and topic names are ASCII nearly always: copied char by char, with no call into C++.
  const length = s.length;
  if (length < 64) {
    let at = pos + 1;
    let i = 0;
    for (; i < length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at++] = c;
    }
    if (i === length) {
      buf[pos] = length << 1; // the zigzag length, one byte below 64
      return at;
    }
  }
  const bytes = Buffer.byteLength(s, 'utf8');
  pos = writeLong(buf, pos, bytes);
  return pos + buf.write(s, pos, 'utf8');
}
