/**
 * The request and response bodies of every API, as the code on both sides
 * sees them. The wire encoding lives elsewhere: control-plane bodies are Avro
 * (`protocol/schemas/`), Produce and Fetch are hand-coded around opaque
 * record-batch bytes (`protocol/codecs/`). Offsets and timestamps are JS
 * numbers (safe integers); `records` fields are whole record batches,
 * concatenated, never re-encoded.
 */
import type { ApiName } from './api-keys.js';

/* ApiVersions */
export interface ApiVersionsRequest {
  clientSoftwareName: string;
  clientSoftwareVersion: string;
}
export interface ApiVersionsResponse {
  errorCode: number;
  apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[];
}

/* Metadata */
export interface MetadataRequest {
  /** null asks for every topic. */
  topics: string[] | null;
  allowAutoTopicCreation: boolean;
}
export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}
export interface PartitionMetadata {
  errorCode: number;
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}
export interface TopicMetadata {
  errorCode: number;
  name: string;
  partitions: PartitionMetadata[];
}
export interface MetadataResponse {
  brokers: BrokerInfo[];
  clusterId: string;
  controllerId: number;
  topics: TopicMetadata[];
}

/* CreateTopics */
export interface ConfigEntry {
  name: string;
  value: string;
}
export interface CreateTopicsRequest {
  topics: { name: string; partitions: number; replicationFactor: number; configs: ConfigEntry[] }[];
  timeoutMs: number;
  validateOnly: boolean;
}
export interface TopicResult {
  name: string;
  errorCode: number;
  errorMessage: string | null;
}
export interface CreateTopicsResponse {
  topics: (TopicResult & { partitions: number; replicationFactor: number })[];
}

/* DeleteTopics */
export interface DeleteTopicsRequest {
  topics: string[];
  timeoutMs: number;
}
export interface DeleteTopicsResponse {
  topics: TopicResult[];
}

/* CreatePartitions */
export interface CreatePartitionsRequest {
  /** `count`: the new total number of partitions of the topic. */
  topics: { name: string; count: number }[];
  timeoutMs: number;
  validateOnly: boolean;
}
export interface CreatePartitionsResponse {
  results: TopicResult[];
}

/* DescribeConfigs / AlterConfigs */
export type ResourceType = 'topic' | 'broker';
export interface DescribeConfigsRequest {
  resources: { type: ResourceType; name: string; /** null: every setting */ configNames: string[] | null }[];
}
export type ConfigSource = 'default' | 'broker' | 'topic';
export interface DescribedConfig {
  name: string;
  value: string | null;
  source: ConfigSource;
  readOnly: boolean;
  sensitive: boolean;
}
export interface DescribeConfigsResponse {
  results: { type: ResourceType; name: string; errorCode: number; errorMessage: string | null; configs: DescribedConfig[] }[];
}
export interface AlterConfigsRequest {
  /** Incremental: each entry sets one setting, or with value null resets it to the default. */
  resources: { type: ResourceType; name: string; configs: { name: string; value: string | null }[] }[];
  validateOnly: boolean;
}
export interface AlterConfigsResponse {
  results: { type: ResourceType; name: string; errorCode: number; errorMessage: string | null }[];
}

/* Produce */
/**
 * A Produce request as the broker decodes it: each partition's `records` is
 * one subarray of the frame. A sender may give `records` as several buffers
 * instead (`ProduceRequest<RecordChunks>`, what encoders take): a producer's
 * separately built batches go out back to back, without being concatenated.
 */
export interface ProduceRequest<Records extends RecordChunks = Uint8Array> {
  /** 0: no response; 1: the leader has it; -1: every in-sync replica has it. */
  acks: number;
  timeoutMs: number;
  topics: { name: string; partitions: { partition: number; records: Records }[] }[];
}
/** Whole record batches as one buffer, or as several written one after another. */
export type RecordChunks = Uint8Array | readonly Uint8Array[];
export interface ProducePartitionResult {
  partition: number;
  errorCode: number;
  errorMessage: string | null;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
}
export interface ProduceResponse {
  throttleTimeMs: number;
  topics: { name: string; partitions: ProducePartitionResult[] }[];
}

/* Fetch */
export interface FetchRequest {
  /** -1 for a consumer; a broker id for a follower. */
  replicaId: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  topics: { name: string; partitions: { partition: number; fetchOffset: number; partitionMaxBytes: number }[] }[];
}
export interface FetchPartitionResult {
  partition: number;
  errorCode: number;
  highWatermark: number;
  logStartOffset: number;
  /** Whole batches; may be several slices of segment files, sent without a copy. */
  records: Uint8Array[];
}
export interface FetchResponse {
  throttleTimeMs: number;
  errorCode: number;
  topics: { name: string; partitions: FetchPartitionResult[] }[];
}

/* ListOffsets */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
export interface ListOffsetsRequest {
  replicaId: number;
  /** timestamp: -1 latest, -2 earliest, else the first offset whose timestamp is at or after it. */
  topics: { name: string; partitions: { partition: number; timestamp: number }[] }[];
}
export interface ListOffsetsResponse {
  topics: {
    name: string;
    /** offset -1 when no record has a timestamp at or after the one asked for. */
    partitions: { partition: number; errorCode: number; timestamp: number; offset: number; leaderEpoch: number }[];
  }[];
}

export interface RequestBodies {
  ApiVersions: ApiVersionsRequest;
  Metadata: MetadataRequest;
  CreateTopics: CreateTopicsRequest;
  DeleteTopics: DeleteTopicsRequest;
  DescribeConfigs: DescribeConfigsRequest;
  AlterConfigs: AlterConfigsRequest;
  Produce: ProduceRequest;
  Fetch: FetchRequest;
  ListOffsets: ListOffsetsRequest;
  CreatePartitions: CreatePartitionsRequest;
}
export interface ResponseBodies {
  ApiVersions: ApiVersionsResponse;
  Metadata: MetadataResponse;
  CreateTopics: CreateTopicsResponse;
  DeleteTopics: DeleteTopicsResponse;
  DescribeConfigs: DescribeConfigsResponse;
  AlterConfigs: AlterConfigsResponse;
  Produce: ProduceResponse;
  Fetch: FetchResponse;
  ListOffsets: ListOffsetsResponse;
  CreatePartitions: CreatePartitionsResponse;
}

/** What encoders take: the decoded bodies, except that Produce records may come in several buffers. */
export interface OutgoingRequestBodies extends Omit<RequestBodies, 'Produce'> {
  Produce: ProduceRequest<RecordChunks>;
}

// Compile-time check that every API has both bodies.
type _Every<T extends Record<ApiName, unknown>> = T;
export type _CheckRequests = _Every<RequestBodies>;
export type _CheckOutgoingRequests = _Every<OutgoingRequestBodies>;
export type _CheckResponses = _Every<ResponseBodies>;
