/**
 * The shape every data-plane body shares: an i32-counted array of topics,
 * each a name and an i32-counted array of partitions. Written once here so
 * Produce and Fetch differ only in their partition fields.
 *
 * ```
 * topics      i32 count, then per topic:
 *   name        string
 *   partitions  i32 count, then per partition: <the API's partition fields>
 * ```
 */
import type { WireReader } from '../wire-reader.js';
import { stringBytes, type WireWriter } from '../wire-writer.js';

export interface TopicPartitions<Partition> {
  name: string;
  partitions: Partition[];
}

/** Smallest encoding of one topic entry: an empty name and a zero count. */
const TOPIC_MIN_BYTES = 2 + 4;

/** Encoded size of the topics array, given the size of each partition entry. */
export function topicsBytes<Partition>(topics: readonly TopicPartitions<Partition>[], partitionBytes: number): number {
  let sizeBytes = 4;
  for (const topic of topics) sizeBytes += stringBytes(topic.name) + 4 + topic.partitions.length * partitionBytes;
  return sizeBytes;
}

export function writeTopics<Partition>(w: WireWriter, topics: readonly TopicPartitions<Partition>[], writePartition: (partition: Partition) => void): void {
  w.i32(topics.length, 'topics');
  for (const topic of topics) {
    w.string(topic.name, 'topics[].name');
    w.i32(topic.partitions.length, 'topics[].partitions');
    for (const partition of topic.partitions) writePartition(partition);
  }
}

/** Reads the topics array; counts are bounded by the bytes that remain before any loop. */
export function readTopics<Partition>(r: WireReader, minPartitionBytes: number, readPartition: () => Partition): TopicPartitions<Partition>[] {
  const topicCount = r.count('topics', TOPIC_MIN_BYTES);
  const topics: TopicPartitions<Partition>[] = [];
  for (let t = 0; t < topicCount; t++) {
    const name = r.string('topics[].name');
    const partitionCount = r.count('topics[].partitions', minPartitionBytes);
    const partitions: Partition[] = [];
    for (let p = 0; p < partitionCount; p++) partitions.push(readPartition());
    topics.push({ name, partitions });
  }
  return topics;
}

/**
 * Collects the chunks of a frame whose fixed fields live in one buffer and
 * whose record bytes are the caller's own slices, interleaved without a copy.
 */
export class ChunkList {
  readonly chunks: Uint8Array[] = [];
  private start = 0;

  constructor(private readonly w: WireWriter) {}

  /** Ends the current run of fixed fields and appends a caller-owned slice after it. */
  slice(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    if (this.w.pos > this.start) this.chunks.push(this.w.buf.subarray(this.start, this.w.pos));
    this.chunks.push(bytes);
    this.start = this.w.pos;
  }

  /** All chunks; the first always starts at byte 0 of the writer's buffer (the headroom). */
  finish(): Uint8Array[] {
    this.w.finish();
    if (this.w.pos > this.start || this.chunks.length === 0) this.chunks.push(this.w.buf.subarray(this.start, this.w.pos));
    return this.chunks;
  }
}
