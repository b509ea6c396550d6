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
    this.#string(groupId);
    this.#string(topic);
    this.#long(partition);
    this.#long(last);
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

  #entry(e: ShareEntryValue): void {
    this.#long(e.offset);
    this.#long(e.state);
    this.#long(e.deliveryCount);
    if (e.holder === null) this.#long(0);
    else {
      this.#long(1);
      this.#string(e.holder);
    }
    this.#long(e.lockUntilMs);
    this.#long(e.dueMs);
    if (e.keyHash === null) this.#long(0);
    else {
      this.#long(1);
      this.#long(e.keyHash);
    }
    this.#long(e.timestampMs);
    if (e.error === null) this.#long(0);
    else {
      this.#long(1);
      this.#string(e.error);
    }
  }

  #room(bytes: number): void {
    if (this.#pos + bytes <= this.#buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + bytes));
    this.#buf.copy(grown, 0, 0, this.#pos);
    this.#buf = grown;
  }

  /** A zigzag varint of a safe integer (int and long encode alike). */
  #long(n: number): void {
    this.#room(10);
    const buf = this.#buf;
    if (n >= 0 && n < 64 && (n | 0) === n) {
      // Most fields: a state, a count, a union branch, a zero.
      buf[this.#pos++] = n << 1;
      return;
    }
    if (!Number.isInteger(n) || n > MAX_LONG || n < -MAX_LONG) throw new TypeError(`a share entry field must be a safe integer within +-${MAX_LONG} (avsc's long), got ${n}`);
    if (n >= -0x40000000 && n < 0x40000000) {
      // 31-bit: zigzag and shifts in int32 arithmetic.
      let z = (n << 1) ^ (n >> 31);
      while (z > 0x7f || z < 0) {
        buf[this.#pos++] = (z & 0x7f) | 0x80;
        z >>>= 7;
      }
      buf[this.#pos++] = z;
      return;
    }
    // Beyond 31 bits (timestamps, deadlines): the zigzag value 2q + sign (q = n, or -n - 1 for a negative n)
    // can pass 2^53, where doubles lose odd numbers, so it is built in two 32-bit halves (int32 arithmetic only).
    const sign = n < 0 ? 1 : 0;
    const q = n < 0 ? -n - 1 : n;
    const lo = q >>> 0;
    let zhi = ((Math.floor(q / 0x1_0000_0000) << 1) | (lo >>> 31)) >>> 0;
    let zlo = ((lo << 1) | sign) >>> 0;
    while (zhi !== 0) {
      buf[this.#pos++] = (zlo & 0x7f) | 0x80;
      zlo = ((zlo >>> 7) | (zhi << 25)) >>> 0;
      zhi >>>= 7;
    }
    while (zlo > 0x7f) {
      buf[this.#pos++] = (zlo & 0x7f) | 0x80;
      zlo >>>= 7;
    }
    buf[this.#pos++] = zlo;
  }

  #string(s: string): void {
    // Member ids, group and topic names are ASCII nearly always: copied char by char, with no call into C++.
    const length = s.length;
    if (length < 128) {
      this.#room(1 + length);
      const buf = this.#buf;
      const lengthAt = this.#pos;
      let at = lengthAt + 1;
      let i = 0;
      for (; i < length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at++] = c;
      }
      if (i === length) {
        buf[lengthAt] = length << 1; // the zigzag length, one byte below 64
        if (length < 64) {
          this.#pos = at;
          return;
        }
      }
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.#long(bytes);
    this.#room(bytes);
    this.#pos += this.#buf.write(s, this.#pos, 'utf8');
  }
}
