/**
 * Fetch (key 1), hand-coded around opaque record batches. The broker's
 * response carries each partition's `records` as the slices it read from
 * segment files (`Uint8Array[]`), interleaved with the fixed fields as
 * separate chunks, never concatenated; the client reads each partition's
 * records as one subarray of the response frame.
 *
 * Version history:
 * - v0: the first version.
 * - v1: leader epochs, for replication. The request adds `replicaEpoch` (a
 *   follower's broker epoch) and per partition `currentLeaderEpoch`, which
 *   the broker checks against its own: older is FENCED_LEADER_EPOCH (the
 *   sender missed a leader change), newer is UNKNOWN_LEADER_EPOCH (this
 *   broker has not learnt of it yet). Each partition of the response adds
 *   `leaderEpoch`, the leader's current epoch. Decoding v0 fills the new
 *   fields with -1 ("not sent").
 *
 * v0 request body:
 * ```
 * replicaId   i32   -1 for a consumer; a broker id for a follower
 * maxWaitMs   i32   longest the broker may hold the request waiting for minBytes
 * minBytes    i32   answer as soon as this many record bytes are available
 * maxBytes    i32   upper bound on record bytes in the whole response
 * topics      i32 count, then per topic:
 *   name        string
 *   partitions  i32 count, then per partition:
 *     partition          i32
 *     fetchOffset        i64   first offset wanted
 *     partitionMaxBytes  i32   upper bound on record bytes for this partition
 * ```
 * v0 response body:
 * ```
 * throttleTimeMs  i32
 * errorCode       i16   a whole-request error, else NONE
 * topics      i32 count, then per topic:
 *   name        string
 *   partitions  i32 count, then per partition:
 *     partition       i32
 *     errorCode       i16
 *     highWatermark   i64   consumers may read below this offset
 *     logStartOffset  i64   first offset still in the log
 *     records         i32 byte length, then whole record batches (the first may start
 *                     before fetchOffset; the last may be cut short by maxBytes — clients
 *                     skip records below fetchOffset and drop a trailing partial batch)
 * ```
 * v1 request body:
 * ```
 * replicaId     i32   -1 for a consumer; a broker id (>= 0) for a follower
 * replicaEpoch  i64   the follower's broker epoch; -1 for a consumer
 * maxWaitMs     i32   longest the broker may hold the request waiting for minBytes
 * minBytes      i32   answer as soon as this many record bytes are available
 * maxBytes      i32   upper bound on record bytes in the whole response
 * topics      i32 count, then per topic:
 *   name        string
 *   partitions  i32 count, then per partition:
 *     partition           i32
 *     currentLeaderEpoch  i32   the leader epoch the sender believes current; -1: not checked
 *     fetchOffset         i64   first offset wanted
 *     partitionMaxBytes   i32   upper bound on record bytes for this partition
 * ```
 * v1 response body:
 * ```
 * throttleTimeMs  i32
 * errorCode       i16   a whole-request error, else NONE
 * topics      i32 count, then per topic:
 *   name        string
 *   partitions  i32 count, then per partition:
 *     partition       i32
 *     errorCode       i16   NONE, NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, ...
 *     leaderEpoch     i32   the leader's current epoch of the partition; -1 if unknown
 *     highWatermark   i64   consumers may read below this offset
 *     logStartOffset  i64   first offset still in the log
 *     records         i32 byte length, then whole record batches, as in v0
 * ```
 * Decoded, `records` is `[]` when empty, else one subarray of the frame.
 */
import type { BodyCodec } from '../body-codec.js';
import type { FetchPartitionResult, FetchRequest, FetchRequestPartition, FetchResponse } from '../messages.js';
import { WireReader } from '../wire-reader.js';
import { WireWriter } from '../wire-writer.js';
import { ChunkList, readTopics, topicsBytes, writeTopics } from './topics.js';

/** What a v0 body reads as for the fields v0 does not carry. */
const NOT_SENT = -1;
const I32_MAX = 0x7fffffff;

/** The codec of one version; v1 differs from v0 only by the epoch fields, written where the layouts above put them. */
function fetchCodec(version: 0 | 1): BodyCodec<FetchRequest, FetchResponse> {
  const epochs = version >= 1;
  const REQUEST = `Fetch v${version} request`;
  const RESPONSE = `Fetch v${version} response`;
  const REQUEST_FIXED_BYTES = 16 + (epochs ? 8 : 0);
  const REQUEST_PARTITION_BYTES = 4 + 8 + 4 + (epochs ? 4 : 0);
  /** Fixed fields plus the records length; the records themselves are separate chunks. */
  const RESPONSE_PARTITION_BYTES = 4 + 2 + 8 + 8 + 4 + (epochs ? 4 : 0);

  function encodeRequest(body: FetchRequest, headroomBytes: number): Uint8Array[] {
    const w = new WireWriter(headroomBytes + REQUEST_FIXED_BYTES + topicsBytes(body.topics, REQUEST_PARTITION_BYTES), headroomBytes, REQUEST);
    w.i32(body.replicaId, 'replicaId');
    if (epochs) w.i64(body.replicaEpoch, 'replicaEpoch');
    w.i32(body.maxWaitMs, 'maxWaitMs');
    w.i32(body.minBytes, 'minBytes');
    w.i32(body.maxBytes, 'maxBytes');
    writeTopics<FetchRequestPartition>(w, body.topics, (p) => {
      w.i32(p.partition, 'topics[].partitions[].partition');
      if (epochs) w.i32(p.currentLeaderEpoch, 'topics[].partitions[].currentLeaderEpoch');
      w.i64(p.fetchOffset, 'topics[].partitions[].fetchOffset');
      w.i32(p.partitionMaxBytes, 'topics[].partitions[].partitionMaxBytes');
    });
    return [w.finish()];
  }

  function decodeRequest(frame: Uint8Array, bodyOffset: number): FetchRequest {
    const r = new WireReader(frame, bodyOffset, REQUEST);
    const replicaId = r.i32('replicaId');
    const replicaEpoch = epochs ? r.i64('replicaEpoch') : NOT_SENT;
    const maxWaitMs = r.i32('maxWaitMs');
    const minBytes = r.i32('minBytes');
    const maxBytes = r.i32('maxBytes');
    const topics = readTopics<FetchRequestPartition>(r, REQUEST_PARTITION_BYTES, () => {
      const partition = r.i32('topics[].partitions[].partition');
      const currentLeaderEpoch = epochs ? r.i32('topics[].partitions[].currentLeaderEpoch') : NOT_SENT;
      const fetchOffset = r.i64('topics[].partitions[].fetchOffset');
      const partitionMaxBytes = r.i32('topics[].partitions[].partitionMaxBytes');
      return { partition, currentLeaderEpoch, fetchOffset, partitionMaxBytes };
    });
    r.end();
    return { replicaId, replicaEpoch, maxWaitMs, minBytes, maxBytes, topics };
  }

  function encodeResponse(body: FetchResponse, headroomBytes: number): Uint8Array[] {
    const w = new WireWriter(headroomBytes + 4 + 2 + topicsBytes(body.topics, RESPONSE_PARTITION_BYTES), headroomBytes, RESPONSE);
    const chunks = new ChunkList(w);
    w.i32(body.throttleTimeMs, 'throttleTimeMs');
    w.i16(body.errorCode, 'errorCode');
    writeTopics<FetchPartitionResult>(w, body.topics, (p) => {
      w.i32(p.partition, 'topics[].partitions[].partition');
      w.i16(p.errorCode, 'topics[].partitions[].errorCode');
      if (epochs) w.i32(p.leaderEpoch, 'topics[].partitions[].leaderEpoch');
      w.i64(p.highWatermark, 'topics[].partitions[].highWatermark');
      w.i64(p.logStartOffset, 'topics[].partitions[].logStartOffset');
      let recordBytes = 0;
      for (const slice of p.records) recordBytes += slice.byteLength;
      if (recordBytes > I32_MAX) throw new RangeError(`${RESPONSE}: topics[].partitions[].records: ${recordBytes} bytes exceed the i32 length`);
      w.i32(recordBytes, 'topics[].partitions[].records');
      for (const slice of p.records) chunks.slice(slice);
    });
    return chunks.finish();
  }

  function decodeResponse(frame: Uint8Array, bodyOffset: number): FetchResponse {
    const r = new WireReader(frame, bodyOffset, RESPONSE);
    const throttleTimeMs = r.i32('throttleTimeMs');
    const errorCode = r.i16('errorCode');
    const topics = readTopics<FetchPartitionResult>(r, RESPONSE_PARTITION_BYTES, () => {
      const partition = r.i32('topics[].partitions[].partition');
      const partitionErrorCode = r.i16('topics[].partitions[].errorCode');
      const leaderEpoch = epochs ? r.i32('topics[].partitions[].leaderEpoch') : NOT_SENT;
      const highWatermark = r.i64('topics[].partitions[].highWatermark');
      const logStartOffset = r.i64('topics[].partitions[].logStartOffset');
      const records = r.bytes('topics[].partitions[].records');
      return { partition, errorCode: partitionErrorCode, leaderEpoch, highWatermark, logStartOffset, records: records.byteLength === 0 ? [] : [records] };
    });
    r.end();
    return { throttleTimeMs, errorCode, topics };
  }

  return { encodeRequest, decodeRequest, encodeResponse, decodeResponse };
}

export const fetchV0 = fetchCodec(0);
export const fetchV1 = fetchCodec(1);

/** Index = version. */
export const fetchVersions: readonly BodyCodec<FetchRequest, FetchResponse>[] = [fetchV0, fetchV1];
