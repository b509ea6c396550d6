/**
 * The one entry point both sides use to put requests and responses on the
 * wire and take them off it. Frames, fixed by DESIGN.md:
 * ```
 * request:  u32 length | i16 apiKey | i16 apiVersion | i32 correlationId | string clientId | body
 * response: u32 length | i32 correlationId | body
 * ```
 * `length` counts the bytes after itself. Bodies come from a table, API →
 * version → `BodyCodec`: Avro schemas for the control plane
 * (`schemas/<api>/v<N>.ts`), hand-coded Produce and Fetch (`codecs/`).
 * `SUPPORTED_VERSIONS` is derived from that table, so adding a version file
 * is all it takes to speak it.
 *
 * Encoders return the whole frame as chunks (for `socket.cork()` and
 * `writev`): fixed fields in buffers of their own and record batches as the
 * caller's slices, never concatenated. Decoders take a frame as FrameReader
 * yields it (without the length prefix) and throw `ProtocolDecodeError` for
 * bad bytes, or `ProtocolError` UNSUPPORTED_VERSION for a version this build
 * does not speak.
 */
import { ApiKey, type ApiName, type VersionRange } from './api-keys.js';
import { avroBodyCodecs } from './avro/versioned-codec.js';
import type { BodyCodec } from './body-codec.js';
import { fetchVersions } from './codecs/fetch.js';
import { produceVersions } from './codecs/produce.js';
import { ProtocolError } from './errors.js';
import type { OutgoingRequestBodies, RequestBodies, ResponseBodies } from './messages.js';
import { requestHeaderBytes, writeRequestHeader } from './request-header.js';
import { avroSchemaVersions, type AvroApiName } from './schemas/index.js';
import { WireReader } from './wire-reader.js';
import { WireWriter } from './wire-writer.js';

export { decodeRequestHeader, type RequestHeader } from './request-header.js';
export { negotiateVersion } from './versions.js';

const LENGTH_PREFIX_BYTES = 4;
const RESPONSE_HEADER_BYTES = 4;
const FRAME_BYTES_MAX = 0x7fffffff;

type CodecTable = { readonly [K in ApiName]: readonly BodyCodec<RequestBodies[K], ResponseBodies[K], OutgoingRequestBodies[K]>[] };

function avro<K extends AvroApiName>(api: K): readonly BodyCodec<RequestBodies[K], ResponseBodies[K]>[] {
  return avroBodyCodecs<RequestBodies[K], ResponseBodies[K]>(api, avroSchemaVersions[api]);
}

const bodyCodecs: CodecTable = {
  ApiVersions: avro('ApiVersions'),
  Metadata: avro('Metadata'),
  CreateTopics: avro('CreateTopics'),
  DeleteTopics: avro('DeleteTopics'),
  DescribeConfigs: avro('DescribeConfigs'),
  AlterConfigs: avro('AlterConfigs'),
  ListOffsets: avro('ListOffsets'),
  CreatePartitions: avro('CreatePartitions'),
  OffsetForLeaderEpoch: avro('OffsetForLeaderEpoch'),
  BrokerRegistration: avro('BrokerRegistration'),
  BrokerHeartbeat: avro('BrokerHeartbeat'),
  AlterPartition: avro('AlterPartition'),
  MetadataChanges: avro('MetadataChanges'),
  ElectLeaders: avro('ElectLeaders'),
  AlterPartitionReassignments: avro('AlterPartitionReassignments'),
  ListPartitionReassignments: avro('ListPartitionReassignments'),
  FindCoordinator: avro('FindCoordinator'),
  ConsumerGroupHeartbeat: avro('ConsumerGroupHeartbeat'),
  ConsumerGroupDescribe: avro('ConsumerGroupDescribe'),
  OffsetCommit: avro('OffsetCommit'),
  OffsetFetch: avro('OffsetFetch'),
  ListGroups: avro('ListGroups'),
  DeleteGroups: avro('DeleteGroups'),
  InitProducerId: avro('InitProducerId'),
  ShareGroupHeartbeat: avro('ShareGroupHeartbeat'),
  ShareGroupDescribe: avro('ShareGroupDescribe'),
  ShareFetch: avro('ShareFetch'),
  ShareAcknowledge: avro('ShareAcknowledge'),
  DeleteRecords: avro('DeleteRecords'),
  AllocateProducerIds: avro('AllocateProducerIds'),
  SaslHandshake: avro('SaslHandshake'),
  SaslAuthenticate: avro('SaslAuthenticate'),
  DescribeUserScramCredentials: avro('DescribeUserScramCredentials'),
  AlterUserScramCredentials: avro('AlterUserScramCredentials'),
  DescribeAcls: avro('DescribeAcls'),
  CreateAcls: avro('CreateAcls'),
  DeleteAcls: avro('DeleteAcls'),
  DescribeClientQuotas: avro('DescribeClientQuotas'),
  AlterClientQuotas: avro('AlterClientQuotas'),
  Produce: produceVersions,
  Fetch: fetchVersions,
};

/** The versions of every API this build speaks (index 0 up to the newest codec). */
export const SUPPORTED_VERSIONS: Record<ApiName, VersionRange> = Object.freeze(
  Object.fromEntries(
    Object.entries(bodyCodecs).map(([api, codecs]) => [api, Object.freeze({ min: 0, max: codecs.length - 1 })]),
  ) as Record<ApiName, VersionRange>,
);

export function isSupportedVersion(api: ApiName, version: number): boolean {
  const range = SUPPORTED_VERSIONS[api];
  return Number.isInteger(version) && version >= range.min && version <= range.max;
}

/** The ApiVersions response table of this build: every API with its version range, by key. */
export function apiVersionsTable(): { apiKey: number; minVersion: number; maxVersion: number }[] {
  return (Object.keys(SUPPORTED_VERSIONS) as ApiName[])
    .map((api) => ({ apiKey: ApiKey[api], minVersion: SUPPORTED_VERSIONS[api].min, maxVersion: SUPPORTED_VERSIONS[api].max }))
    .sort((a, b) => a.apiKey - b.apiKey);
}

function codecFor<K extends ApiName>(api: K, version: number): BodyCodec<RequestBodies[K], ResponseBodies[K], OutgoingRequestBodies[K]> {
  const codec = isSupportedVersion(api, version) ? bodyCodecs[api][version] : undefined;
  if (codec === undefined) {
    const range = SUPPORTED_VERSIONS[api];
    throw new ProtocolError('UNSUPPORTED_VERSION', `${api} v${version} is not supported; this build speaks v${range.min} to v${range.max}`);
  }
  return codec as BodyCodec<RequestBodies[K], ResponseBodies[K], OutgoingRequestBodies[K]>;
}

/** Starts a writer at the front of the first chunk, after writing the u32 frame length there. */
function frameHead(chunks: Uint8Array[], context: string): WireWriter {
  let totalBytes = 0;
  for (const chunk of chunks) totalBytes += chunk.byteLength;
  const frameBytes = totalBytes - LENGTH_PREFIX_BYTES;
  if (frameBytes > FRAME_BYTES_MAX) throw new RangeError(`${context}: a frame of ${frameBytes} bytes exceeds the ${FRAME_BYTES_MAX}-byte limit of the length prefix`);
  const w = new WireWriter(chunks[0]!, 0, context);
  w.i32(frameBytes, 'length');
  return w;
}

/** A whole request frame, length prefix included, as chunks. */
export function encodeRequest<K extends ApiName>(
  api: K,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: OutgoingRequestBodies[K],
): Uint8Array[] {
  const chunks = codecFor(api, version).encodeRequest(body, LENGTH_PREFIX_BYTES + requestHeaderBytes(clientId));
  const w = frameHead(chunks, `${api} v${version} request header`);
  writeRequestHeader(w, { apiKey: ApiKey[api], apiVersion: version, correlationId, clientId });
  return chunks;
}

/** The body of a request frame whose header `decodeRequestHeader` has read. */
export function decodeRequestBody<K extends ApiName>(api: K, version: number, frame: Uint8Array, bodyOffset: number): RequestBodies[K] {
  return codecFor(api, version).decodeRequest(frame, bodyOffset);
}

/** A whole response frame, length prefix included, as chunks. */
export function encodeResponse<K extends ApiName>(api: K, version: number, correlationId: number, body: ResponseBodies[K]): Uint8Array[] {
  const chunks = codecFor(api, version).encodeResponse(body, LENGTH_PREFIX_BYTES + RESPONSE_HEADER_BYTES);
  frameHead(chunks, `${api} v${version} response header`).i32(correlationId, 'correlationId');
  return chunks;
}

/** Reads the header of a response frame (the bytes after the length prefix). Throws ProtocolDecodeError. */
export function decodeResponseHeader(frame: Uint8Array): { correlationId: number; bodyOffset: number } {
  const r = new WireReader(frame, 0, 'response header');
  const correlationId = r.i32('correlationId');
  return { correlationId, bodyOffset: r.pos };
}

/** The body of a response frame, decoded at the version its request was sent with. */
export function decodeResponseBody<K extends ApiName>(api: K, version: number, frame: Uint8Array, bodyOffset: number): ResponseBodies[K] {
  return codecFor(api, version).decodeResponse(frame, bodyOffset);
}
