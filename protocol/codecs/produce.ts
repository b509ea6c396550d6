/**
 * Produce (key 0), hand-coded around opaque record batches: the broker reads
 * `records` as a subarray of the request frame and appends it as is, and the
 * client writes its batches as their own chunks after the fixed fields (one
 * chunk per buffer it gives), so record bytes are never copied by this codec
 * on either side.
 *
 * Version history:
 * - v0: the first version.
 *
 * v0 request body:
 * ```
 * acks        i16   0: no response is sent; 1: the leader has it; -1: every in-sync replica has it
 * timeoutMs   i32   how long the broker may wait for acks
 * topics      i32 count, then per topic:
 *   name        string
 *   partitions  i32 count, then per partition:
 *     partition   i32
 *     records     i32 byte length, then that many bytes: whole record batches, concatenated
 * ```
 * v0 response body:
 * ```
 * throttleTimeMs  i32   how long the client should wait before its next request (quotas)
 * topics      i32 count, then per topic:
 *   name        string
 *   partitions  i32 count, then per partition:
 *     partition        i32
 *     errorCode        i16   see the error table
 *     errorMessage     string (nullable)   detail for a person; null when NONE
 *     baseOffset       i64   offset given to the first record, -1 on error
 *     logAppendTimeMs  i64   broker time of the append when the topic uses LogAppendTime, else -1
 *     logStartOffset   i64   the partition's first offset, -1 on error
 * ```
 */
import type { BodyCodec } from '../body-codec.js';
import type { ProducePartitionResult, ProduceRequest, ProduceResponse, RecordChunks } from '../messages.js';
import { WireReader } from '../wire-reader.js';
import { WireWriter } from '../wire-writer.js';
import { ChunkList, readTopics, topicsBytes, writeTopics } from './topics.js';

type RequestPartition = ProduceRequest['topics'][number]['partitions'][number];
type OutgoingPartition = ProduceRequest<RecordChunks>['topics'][number]['partitions'][number];

const REQUEST = 'Produce v0 request';
const RESPONSE = 'Produce v0 response';
/** partition + records length; the records themselves are separate chunks. */
const REQUEST_PARTITION_BYTES = 4 + 4;
const RESPONSE_PARTITION_MIN_BYTES = 4 + 2 + 2 + 8 + 8 + 8;

function encodeRequest(body: ProduceRequest<RecordChunks>, headroomBytes: number): Uint8Array[] {
  const w = new WireWriter(headroomBytes + 2 + 4 + topicsBytes(body.topics, REQUEST_PARTITION_BYTES), headroomBytes, REQUEST);
  const chunks = new ChunkList(w);
  w.i16(body.acks, 'acks');
  w.i32(body.timeoutMs, 'timeoutMs');
  writeTopics<OutgoingPartition>(w, body.topics, (p) => {
    w.i32(p.partition, 'topics[].partitions[].partition');
    const records = p.records;
    if (records instanceof Uint8Array) {
      w.i32(records.byteLength, 'topics[].partitions[].records');
      chunks.slice(records);
      return;
    }
    let recordBytes = 0;
    for (const part of records) recordBytes += part.byteLength;
    w.i32(recordBytes, 'topics[].partitions[].records');
    for (const part of records) chunks.slice(part);
  });
  return chunks.finish();
}

function decodeRequest(frame: Uint8Array, bodyOffset: number): ProduceRequest {
  const r = new WireReader(frame, bodyOffset, REQUEST);
  const acks = r.i16('acks');
  const timeoutMs = r.i32('timeoutMs');
  const topics = readTopics<RequestPartition>(r, REQUEST_PARTITION_BYTES, () => ({
    partition: r.i32('topics[].partitions[].partition'),
    records: r.bytes('topics[].partitions[].records'),
  }));
  r.end();
  return { acks, timeoutMs, topics };
}

function responseBytes(body: ProduceResponse): number {
  let sizeBytes = 4 + topicsBytes(body.topics, RESPONSE_PARTITION_MIN_BYTES);
  for (const topic of body.topics) {
    for (const p of topic.partitions) if (p.errorMessage !== null) sizeBytes += Buffer.byteLength(p.errorMessage, 'utf8');
  }
  return sizeBytes;
}

function encodeResponse(body: ProduceResponse, headroomBytes: number): Uint8Array[] {
  const w = new WireWriter(headroomBytes + responseBytes(body), headroomBytes, RESPONSE);
  w.i32(body.throttleTimeMs, 'throttleTimeMs');
  writeTopics<ProducePartitionResult>(w, body.topics, (p) => {
    w.i32(p.partition, 'topics[].partitions[].partition');
    w.i16(p.errorCode, 'topics[].partitions[].errorCode');
    w.nullableString(p.errorMessage, 'topics[].partitions[].errorMessage');
    w.i64(p.baseOffset, 'topics[].partitions[].baseOffset');
    w.i64(p.logAppendTimeMs, 'topics[].partitions[].logAppendTimeMs');
    w.i64(p.logStartOffset, 'topics[].partitions[].logStartOffset');
  });
  return [w.finish()];
}

function decodeResponse(frame: Uint8Array, bodyOffset: number): ProduceResponse {
  const r = new WireReader(frame, bodyOffset, RESPONSE);
  const throttleTimeMs = r.i32('throttleTimeMs');
  const topics = readTopics<ProducePartitionResult>(r, RESPONSE_PARTITION_MIN_BYTES, () => ({
    partition: r.i32('topics[].partitions[].partition'),
    errorCode: r.i16('topics[].partitions[].errorCode'),
    errorMessage: r.nullableString('topics[].partitions[].errorMessage'),
    baseOffset: r.i64('topics[].partitions[].baseOffset'),
    logAppendTimeMs: r.i64('topics[].partitions[].logAppendTimeMs'),
    logStartOffset: r.i64('topics[].partitions[].logStartOffset'),
  }));
  r.end();
  return { throttleTimeMs, topics };
}

export const produceV0: BodyCodec<ProduceRequest, ProduceResponse, ProduceRequest<RecordChunks>> = { encodeRequest, decodeRequest, encodeResponse, decodeResponse };

/** Index = version. */
export const produceVersions: readonly BodyCodec<ProduceRequest, ProduceResponse, ProduceRequest<RecordChunks>>[] = [produceV0];
