/**
 * The cleaner's key -> latest offset map (Kafka's "dedupe buffer"), built
 * over the dirty part of a log and then consulted for every record: a record
 * survives compaction unless the map holds a later offset for its key.
 *
 * Unlike Kafka's SkimpyOffsetMap, which keeps only an MD5 of each key and so
 * may (very rarely) drop a record whose key merely collides, this map stores
 * the keys themselves and compares them byte for byte: compaction never
 * loses the latest value of a key to a hash collision.
 *
 * Layout, all in SharedArrayBuffers so a worker thread can build it and
 * several can read it without copies (`OffsetMapState` crosses threads):
 * - `slots`: open addressing with linear probing, 3 u32 a slot:
 *   key hash | key position in the arena | key length + 1 (0 = empty slot);
 * - `offsets`: one f64 per slot, the latest offset seen for that key;
 * - `arena`: the key bytes, back to back.
 * The table is kept at most half full. It grows by doubling until its three
 * buffers would pass `maxBytes`; then `put` answers false ("full") and the
 * cleaner stops its pass at the segment before (as Kafka does when its
 * buffer fills). Not thread-safe: one writer at a time, readers only while
 * nobody writes.
 */

export interface OffsetMapState {
  slots: SharedArrayBuffer;
  offsets: SharedArrayBuffer;
  arena: SharedArrayBuffer;
  /** Keys held. */
  count: number;
  /** Arena bytes used. */
  arenaBytes: number;
  maxBytes: number;
}

const SLOT_WORDS = 3;
const INITIAL_SLOTS = 1024;
const INITIAL_ARENA_BYTES = 64 * 1024;

/** FNV-1a over the key bytes, then murmur3's finalizer so the low bits (the slot) mix well. */
function hashKey(buf: Uint8Array, start: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = start, end = start + length; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class OffsetMap {
  #state: OffsetMapState;
  #slots: Uint32Array;
  #offsets: Float64Array;
  #arena: Uint8Array;
  #mask: number;

  private constructor(state: OffsetMapState) {
    this.#state = state;
    this.#slots = new Uint32Array(state.slots);
    this.#offsets = new Float64Array(state.offsets);
    this.#arena = new Uint8Array(state.arena);
    this.#mask = this.#offsets.length - 1;
  }

  /** An empty map that may grow to `maxBytes` (at least its initial ~100 KiB). */
  static create(maxBytes: number): OffsetMap {
    return new OffsetMap({
      slots: new SharedArrayBuffer(INITIAL_SLOTS * SLOT_WORDS * 4),
      offsets: new SharedArrayBuffer(INITIAL_SLOTS * 8),
      arena: new SharedArrayBuffer(INITIAL_ARENA_BYTES),
      count: 0,
      arenaBytes: 0,
      maxBytes,
    });
  }

  /** A view of a map built elsewhere (another thread); writes through it are seen by every view. */
  static attach(state: OffsetMapState): OffsetMap {
    return new OffsetMap(state);
  }

  /** The state to hand to another thread (the buffers are shared, not copied). */
  get state(): OffsetMapState {
    return this.#state;
  }

  get size(): number {
    return this.#state.count;
  }

  /** Bytes of the buffers now. */
  get sizeBytes(): number {
    return this.#state.slots.byteLength + this.#state.offsets.byteLength + this.#state.arena.byteLength;
  }

  /** Slot of the key, or of the empty slot where it would go. */
  #find(buf: Uint8Array, start: number, length: number, hash: number): number {
    const slots = this.#slots;
    const arena = this.#arena;
    for (let slot = hash & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const at = slot * SLOT_WORDS;
      const lengthPlusOne = slots[at + 2] as number;
      if (lengthPlusOne === 0) return slot;
      if (slots[at] !== hash || lengthPlusOne !== length + 1) continue;
      const keyAt = slots[at + 1] as number;
      let same = true;
      for (let i = 0; i < length; i++) {
        if (arena[keyAt + i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return slot;
    }
  }

  /** The latest offset recorded for the key, or -1. */
  get(buf: Uint8Array, start: number, length: number): number {
    const slot = this.#find(buf, start, length, hashKey(buf, start, length));
    return this.#slots[slot * SLOT_WORDS + 2] === 0 ? -1 : (this.#offsets[slot] as number);
  }

  /** Records `offset` for the key (the larger offset wins). False when the map is full: nothing was changed. */
  put(buf: Uint8Array, start: number, length: number, offset: number): boolean {
    const hash = hashKey(buf, start, length);
    let slot = this.#find(buf, start, length, hash);
    const at = slot * SLOT_WORDS;
    if (this.#slots[at + 2] !== 0) {
      if (offset > (this.#offsets[slot] as number)) this.#offsets[slot] = offset;
      return true;
    }
    const state = this.#state;
    if ((state.count + 1) * 2 > this.#offsets.length || state.arenaBytes + length > this.#arena.byteLength) {
      if (!this.#grow(length)) return false;
      slot = this.#find(buf, start, length, hash);
    }
    const slotAt = slot * SLOT_WORDS;
    this.#arena.set(buf.subarray(start, start + length), state.arenaBytes);
    this.#slots[slotAt] = hash;
    this.#slots[slotAt + 1] = state.arenaBytes;
    this.#slots[slotAt + 2] = length + 1;
    this.#offsets[slot] = offset;
    state.arenaBytes += length;
    state.count += 1;
    return true;
  }

  /** Makes room for one more key of `keyLength` bytes, within maxBytes; false if it cannot. */
  #grow(keyLength: number): boolean {
    const state = this.#state;
    let slotCount = this.#offsets.length;
    while ((state.count + 1) * 2 > slotCount) slotCount *= 2;
    let arenaBytes = this.#arena.byteLength;
    while (state.arenaBytes + keyLength > arenaBytes) arenaBytes *= 2;
    if (slotCount * (SLOT_WORDS * 4 + 8) + arenaBytes > state.maxBytes) return false;
    if (arenaBytes !== this.#arena.byteLength) {
      const arena = new SharedArrayBuffer(arenaBytes);
      new Uint8Array(arena).set(this.#arena.subarray(0, state.arenaBytes));
      state.arena = arena;
      this.#arena = new Uint8Array(arena);
    }
    if (slotCount !== this.#offsets.length) {
      const oldSlots = this.#slots;
      const oldOffsets = this.#offsets;
      state.slots = new SharedArrayBuffer(slotCount * SLOT_WORDS * 4);
      state.offsets = new SharedArrayBuffer(slotCount * 8);
      this.#slots = new Uint32Array(state.slots);
      this.#offsets = new Float64Array(state.offsets);
      this.#mask = slotCount - 1;
      for (let old = 0; old < oldOffsets.length; old++) {
        const at = old * SLOT_WORDS;
        if (oldSlots[at + 2] === 0) continue;
        let slot = (oldSlots[at] as number) & this.#mask;
        while (this.#slots[slot * SLOT_WORDS + 2] !== 0) slot = (slot + 1) & this.#mask;
        this.#slots.set(oldSlots.subarray(at, at + SLOT_WORDS), slot * SLOT_WORDS);
        this.#offsets[slot] = oldOffsets[old] as number;
      }
    }
    return true;
  }
}
