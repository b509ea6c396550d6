/**
 * Which partition a record goes to.
 *
 * Keyed records: `(murmur2(keyBytes) & 0x7fffffff) % partitionCount`, exactly
 * the Java client's default partitioner (`Utils.murmur2` with seed
 * 0x9747b28c, then `Utils.toPositive`), so a key lands on the partition Kafka
 * would put it on, and the mapping never changes while the partition count
 * stays the same. String keys are hashed as their UTF-8 bytes.
 *
 * Records without a key stick to one partition until the batch they are
 * filling is sealed or sent, then move to another (KIP-480's sticky
 * partitioner): full batches instead of one tiny batch per partition.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (32-bit, signed result, as Java returns it). */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const length4 = length & ~3;
  for (let i = 0; i < length4; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  switch (length & 3) {
    case 3:
      h ^= data[length4 + 2]! << 16;
    // falls through
    case 2:
      h ^= data[length4 + 1]! << 8;
    // falls through
    case 1:
      h ^= data[length4]!;
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The documented key -> partition mapping (the same as Kafka's Java client):
 * `(murmur2(utf8(key)) & 0x7fffffff) % partitionCount`.
 */
export function partitionForKey(key: string | Uint8Array, partitionCount: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) throw new RangeError(`partitionCount must be a positive integer, got ${partitionCount}`);
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return (murmur2(bytes) & 0x7fffffff) % partitionCount;
}

export type Partitioner = (key: Buffer | null, partitionCount: number) => number;

/**
 * Per-topic sticky choice for records without a key. The accumulator calls
 * `batchClosed` when the batch the sticky partition was filling is sealed, and
 * the next keyless record picks a new partition. Only partitions that have a
 * leader are picked while any has one (as Kafka's producer does): keyless
 * records need no particular partition, so they never wait for an election.
 */
export class StickyPartitions {
  readonly #current = new Map<string, number>();
  readonly #random: () => number;

  /** `random`: floats in [0, 1), the client world's. */
  constructor(random: () => number) {
    this.#random = random;
  }

  /** `hasLeader(p)`: whether partition p has a leader now. */
  partition(topic: string, partitionCount: number, hasLeader: (partition: number) => boolean): number {
    const current = this.#current.get(topic);
    if (current !== undefined && current < partitionCount && hasLeader(current)) return current;
    const next = this.#pick(partitionCount, hasLeader, -1);
    this.#current.set(topic, next);
    return next;
  }

  /** The batch for `partition` of `topic` was sealed: move on if we were sticking to it. */
  batchClosed(topic: string, partition: number, partitionCount: number, hasLeader: (partition: number) => boolean): void {
    if (this.#current.get(topic) !== partition) return;
    if (partitionCount <= 1) return;
    this.#current.set(topic, this.#pick(partitionCount, hasLeader, partition));
  }

  /** Uniformly among the partitions with a leader other than `not`, else among all others. */
  #pick(partitionCount: number, hasLeader: (partition: number) => boolean, not: number): number {
    const led: number[] = [];
    for (let p = 0; p < partitionCount; p++) if (p !== not && hasLeader(p)) led.push(p);
    if (led.length > 0) return led[Math.floor(this.#random() * led.length)]!;
    if (not < 0) return Math.floor(this.#random() * partitionCount);
    return (not + 1 + Math.floor(this.#random() * (partitionCount - 1))) % partitionCount;
  }
}
