/**
 * The internal topic `__consumer_offsets`, where every group's state and
 * committed offsets live as records (records.ts), and which of its
 * partitions holds a given group: abs(javaStringHashCode(groupId)) %
 * partitions, Kafka's rule, so a group maps to the same partition number a
 * Kafka cluster with the same partition count would pick. The leader of that
 * partition is the group's coordinator.
 */

export const OFFSETS_TOPIC = '__consumer_offsets';

/** Java's String.hashCode over UTF-16 code units: s[0]*31^(n-1) + ... + s[n-1], in 32-bit two's complement. */
export function javaStringHashCode(s: string): number {
  let hash = 0;
  for (let i = 0; i < s.length; i++) hash = (Math.imul(hash, 31) + s.charCodeAt(i)) | 0;
  return hash;
}

/**
 * The `__consumer_offsets` partition of `groupId`. Kafka's Utils.abs maps
 * Integer.MIN_VALUE to 0 (Math.abs would overflow back to itself in Java);
 * the same here keeps the result in range.
 */
export function offsetsPartitionFor(groupId: string, partitions: number): number {
  const hash = javaStringHashCode(groupId);
  const abs = hash === -0x80000000 ? 0 : Math.abs(hash);
  return abs % partitions;
}
