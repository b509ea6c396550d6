/**
 * The request and response bodies of every API, as the code on both sides
 * sees them. The wire encoding lives elsewhere: control-plane bodies are Avro
 * (`protocol/schemas/`), Produce and Fetch are hand-coded around opaque
 * record-batch bytes (`protocol/codecs/`). Offsets and timestamps are JS
 * numbers (safe integers); `records` fields are whole record batches,
 * concatenated, never re-encoded.
 *
 * One type per API, whatever the version on the wire: each type has the
 * fields of the API's newest version. Encoding at an older version drops the
 * fields that version lacks; decoding an older version fills them with the
 * default their comment gives ("v1; v0 reads as -1"), so the same code
 * handles every version and reads "not sent" as the documented default.
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
  /** v1; v0 reads as false. Internal topics (names starting `__`) are listed only if true or named in `topics`. */
  includeInternal: boolean;
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
  /** v1; v0 reads as []. Replicas whose broker is fenced or not registered, or whose log is offline. */
  offlineReplicas: number[];
}
export interface TopicMetadata {
  errorCode: number;
  name: string;
  /** v1; v0 reads as false. */
  isInternal: boolean;
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
  /** v1; v0 reads as -1. A follower's broker epoch (its registration), -1 for a consumer. */
  replicaEpoch: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  topics: { name: string; partitions: FetchRequestPartition[] }[];
}
export interface FetchRequestPartition {
  partition: number;
  /** v1; v0 reads as -1. The leader epoch the sender believes current; -1: not checked. */
  currentLeaderEpoch: number;
  fetchOffset: number;
  partitionMaxBytes: number;
}
export interface FetchPartitionResult {
  partition: number;
  errorCode: number;
  /** v1; v0 reads as -1. The leader's current epoch for the partition (-1 when unknown, as with an error). */
  leaderEpoch: number;
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
  /**
   * timestamp: -1 latest, -2 earliest, else the first offset whose timestamp is at or after it.
   * currentLeaderEpoch: v1; v0 reads as -1. The leader epoch the sender believes current; -1: not checked.
   */
  topics: { name: string; partitions: { partition: number; currentLeaderEpoch: number; timestamp: number }[] }[];
}
export interface ListOffsetsResponse {
  topics: {
    name: string;
    /** offset -1 when no record has a timestamp at or after the one asked for. */
    partitions: { partition: number; errorCode: number; timestamp: number; offset: number; leaderEpoch: number }[];
  }[];
}

/* OffsetForLeaderEpoch */
export interface OffsetForLeaderEpochRequest {
  /** The follower's broker id; -1 for a consumer or a tool. */
  replicaId: number;
  topics: { name: string; partitions: { partition: number; currentLeaderEpoch: number; leaderEpoch: number }[] }[];
}
export interface OffsetForLeaderEpochResponse {
  topics: {
    name: string;
    /**
     * leaderEpoch: the largest epoch in the leader's log that is <= the one asked for; endOffset: the first
     * offset of the epoch after it, or the log end offset when it is the latest epoch. -1/-1 when unknown.
     */
    partitions: { partition: number; errorCode: number; errorMessage: string | null; leaderEpoch: number; endOffset: number }[];
  }[];
}

/* BrokerRegistration */
export interface BrokerRegistrationRequest {
  brokerId: number;
  clusterId: string;
  /** New at every start of the broker process: tells a restart from a second broker with the same id. */
  incarnationId: string;
  host: string;
  port: number;
  rack: string | null;
  /** v1: every listener (name, security protocol, advertised endpoint); absent or empty: host/port is the one. */
  listeners?: { name: string; securityProtocol: string; host: string; port: number }[];
}
export interface BrokerRegistrationResponse {
  errorCode: number;
  errorMessage: string | null;
  /** The metadata version of this registration; -1 with an error. */
  brokerEpoch: number;
}

/* BrokerHeartbeat */
export interface BrokerHeartbeatRequest {
  brokerId: number;
  brokerEpoch: number;
  /** The newest metadata version the broker has applied. */
  metadataVersion: number;
  /** v1: the broker is stopping; the controller moves its leaderships and fences it (controlled shutdown). */
  wantShutDown: boolean;
}
export interface BrokerHeartbeatResponse {
  errorCode: number;
  errorMessage: string | null;
  fenced: boolean;
  /** v1: answering wantShutDown: the broker leads nothing and knows it; it may stop. */
  shouldShutDown: boolean;
}

/* AlterPartition */
export interface AlterPartitionRequest {
  brokerId: number;
  brokerEpoch: number;
  topics: { name: string; topicId: string; partitions: { partition: number; leaderEpoch: number; partitionEpoch: number; newIsr: number[] }[] }[];
}
export interface AlterPartitionResult {
  partition: number;
  errorCode: number;
  errorMessage: string | null;
  /** The partition's state after the request (as committed, or as it is when refused); -1 and [] when unknown. */
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
  isr: number[];
}
export interface AlterPartitionResponse {
  /** A whole-request error (NOT_CONTROLLER, STALE_BROKER_EPOCH), else NONE. */
  errorCode: number;
  errorMessage: string | null;
  topics: { name: string; partitions: AlterPartitionResult[] }[];
}

/* MetadataChanges */
export interface MetadataChangesRequest {
  brokerId: number;
  brokerEpoch: number;
  afterVersion: number;
  maxWaitMs: number;
  maxEntries: number;
}
export interface MetadataChangesEntry {
  /** The change schema version the bytes were written with. */
  schemaVersion: number;
  /** One metadata log entry as broker/metadata/changes.ts's `encodeEntry` writes it (decoded: a copy, not a view of the frame). */
  bytes: Buffer;
}
export interface MetadataChangesResponse {
  errorCode: number;
  errorMessage: string | null;
  clusterId: string;
  /** The newest committed version when the response was built. */
  latestVersion: number;
  entries: MetadataChangesEntry[];
}

/* AlterPartitionReassignments (45), ListPartitionReassignments (46), ElectLeaders (43) */
export interface AlterPartitionReassignmentsRequest {
  timeoutMs: number;
  /** Cluster-wide copy rate limit for replicas being added: -1 leaves it, 0 removes it. */
  throttleBytesPerSecond: number;
  /** `replicas` null: cancel the reassignment in progress. */
  topics: { name: string; partitions: { partitionIndex: number; replicas: number[] | null }[] }[];
}
export interface AlterPartitionReassignmentsResponse {
  errorCode: number;
  errorMessage: string | null;
  responses: { name: string; partitions: { partitionIndex: number; errorCode: number; errorMessage: string | null }[] }[];
}
export interface ListPartitionReassignmentsRequest {
  timeoutMs: number;
  /** null: every reassignment in progress. */
  topics: { name: string; partitionIndexes: number[] }[] | null;
}
export interface OngoingPartitionReassignment {
  partitionIndex: number;
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
  isr: number[];
  leader: number;
}
export interface ListPartitionReassignmentsResponse {
  errorCode: number;
  errorMessage: string | null;
  /** 0: no limit. */
  throttleBytesPerSecond: number;
  topics: { name: string; partitions: OngoingPartitionReassignment[] }[];
}
/** 0: preferred, 1: unclean (Kafka's numbers). */
export type ElectionType = 0 | 1;
export interface ElectLeadersRequest {
  electionType: number;
  /** null: every partition. */
  topicPartitions: { topic: string; partitions: number[] }[] | null;
  timeoutMs: number;
}
export interface ElectLeadersResponse {
  errorCode: number;
  errorMessage: string | null;
  replicaElectionResults: { topic: string; partitionResult: { partitionId: number; errorCode: number; errorMessage: string | null }[] }[];
}

/* Consumer groups: FindCoordinator (10), ConsumerGroupHeartbeat (68), ConsumerGroupDescribe (69), OffsetCommit (8), OffsetFetch (9), ListGroups (16), DeleteGroups (42) */
/** FindCoordinator keyType: a consumer group. */
export const COORDINATOR_KEY_GROUP = 0;
export interface FindCoordinatorRequest {
  keyType: number;
  keys: string[];
}
export interface FindCoordinatorResponse {
  throttleTimeMs: number;
  coordinators: { key: string; nodeId: number; host: string; port: number; errorCode: number; errorMessage: string | null }[];
}
/** Partitions of one topic, as group APIs name them. */
export interface TopicPartitions {
  topic: string;
  partitions: number[];
}
/** ConsumerGroupHeartbeat memberEpoch values with a meaning of their own. */
export const MemberEpoch = { JOIN: 0, LEAVE: -1, STATIC_LEAVE: -2 } as const;
export interface ConsumerGroupHeartbeatRequest {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  topicPartitions: TopicPartitions[] | null;
}
export interface ConsumerGroupHeartbeatResponse {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicPartitions: TopicPartitions[] } | null;
}
export type GroupState = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable' | 'Dead';
export interface ConsumerGroupDescribeRequest {
  groupIds: string[];
}
export interface DescribedMember {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  memberEpoch: number;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  assignment: TopicPartitions[];
  targetAssignment: TopicPartitions[];
}
export interface DescribedGroup {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: DescribedMember[];
}
export interface ConsumerGroupDescribeResponse {
  throttleTimeMs: number;
  groups: DescribedGroup[];
}
export interface OffsetCommitRequest {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  groupInstanceId: string | null;
  topics: {
    name: string;
    partitions: { partition: number; committedOffset: number; committedLeaderEpoch: number; committedMetadata: string | null }[];
  }[];
}
export interface OffsetCommitResponse {
  throttleTimeMs: number;
  topics: { name: string; partitions: { partition: number; errorCode: number; errorMessage: string | null }[] }[];
}
export interface OffsetFetchRequest {
  groupId: string;
  memberId: string | null;
  memberEpoch: number;
  /** null: every partition the group has an offset for. */
  topics: { name: string; partitions: number[] }[] | null;
  requireStable: boolean;
}
export interface OffsetFetchPartition {
  partition: number;
  /** -1: no committed offset. */
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string | null;
  commitTimestampMs: number;
  errorCode: number;
}
export interface OffsetFetchResponse {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  topics: { name: string; partitions: OffsetFetchPartition[] }[];
}
export interface ListGroupsRequest {
  statesFilter: string[];
  typesFilter: string[];
}
export interface ListGroupsResponse {
  throttleTimeMs: number;
  errorCode: number;
  groups: { groupId: string; groupState: string; groupType: string }[];
}
export interface DeleteGroupsRequest {
  groupsNames: string[];
}
export interface DeleteGroupsResponse {
  throttleTimeMs: number;
  results: { groupId: string; errorCode: number; errorMessage: string | null }[];
}

/* InitProducerId (22) */
export interface InitProducerIdRequest {
  transactionalId: string | null;
  transactionTimeoutMs: number;
  /** -1 for a new id. */
  producerId: number;
  producerEpoch: number;
}
export interface InitProducerIdResponse {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  producerId: number;
  producerEpoch: number;
}

/* AllocateProducerIds (67): controller API */
export interface AllocateProducerIdsRequest {
  brokerId: number;
  brokerEpoch: number;
}
export interface AllocateProducerIdsResponse {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  producerIdStart: number;
  producerIdLen: number;
}

/* Share groups (queues, KIP-932's shape): ShareGroupHeartbeat (76), ShareGroupDescribe (77), ShareFetch (78), ShareAcknowledge (79) */
/** ShareFetch/ShareAcknowledge acknowledgement types. */
export const AcknowledgeType = { ACCEPT: 1, RELEASE: 2, REJECT: 3, RENEW: 4 } as const;
export type AcknowledgeTypeValue = (typeof AcknowledgeType)[keyof typeof AcknowledgeType];
/** A share group's configuration as a joining member states it: -1 / null fields take the broker's defaults, or accept the group's. */
export interface ShareGroupConfig {
  visibilityTimeoutMs: number;
  maxDeliveryAttempts: number;
  /** null: the default (none); "": explicitly none. */
  deadLetterTopic: string | null;
  /** "none" | "key"; null: "none". */
  ordering: string | null;
}
/** A share group's configuration as the coordinator applies it. */
export interface ShareGroupConfigResolved {
  visibilityTimeoutMs: number;
  maxDeliveryAttempts: number;
  /** "": none. */
  deadLetterTopic: string;
  ordering: string;
}
export interface ShareGroupHeartbeatRequest {
  groupId: string;
  memberId: string;
  /** 0 join, -1 leave, else the current epoch. */
  memberEpoch: number;
  subscribedTopicNames: string[] | null;
  config: ShareGroupConfig | null;
}
export interface ShareGroupHeartbeatResponse {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: TopicPartitions[] | null;
  config: ShareGroupConfigResolved | null;
}
export interface ShareAcknowledgement {
  firstOffset: number;
  /** Inclusive. */
  lastOffset: number;
  type: number;
  /** Release: delay before redelivery. */
  delayMs: number;
  /** Renew: new lock from now; -1 the group's visibility timeout. */
  lockMs: number;
  reason: string | null;
}
export interface ShareFailedAcknowledgement {
  firstOffset: number;
  lastOffset: number;
  errorCode: number;
}
export interface ShareFetchRequest {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  maxWaitMs: number;
  maxRecords: number;
  maxBytes: number;
  topics: { topic: string; partitions: { partition: number; acknowledgements: ShareAcknowledgement[] }[] }[];
}
export interface ShareAcquiredRecords {
  firstOffset: number;
  lastOffset: number;
  deliveryCount: number;
}
export interface ShareFetchPartitionResult {
  partition: number;
  errorCode: number;
  errorMessage: string | null;
  failedAcknowledgements: ShareFailedAcknowledgement[];
  /** Whole batches; may hold records not acquired (keep only offsets in acquiredRecords). A Buffer: Avro "bytes". */
  records: Buffer;
  acquiredRecords: ShareAcquiredRecords[];
}
export interface ShareFetchResponse {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  acquisitionLockTimeoutMs: number;
  topics: { topic: string; partitions: ShareFetchPartitionResult[] }[];
}
export interface ShareAcknowledgeRequest {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  topics: { topic: string; partitions: { partition: number; acknowledgements: ShareAcknowledgement[] }[] }[];
}
export interface ShareAcknowledgeResponse {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  topics: { topic: string; partitions: { partition: number; errorCode: number; errorMessage: string | null; failedAcknowledgements: ShareFailedAcknowledgement[] }[] }[];
}
export interface ShareGroupDescribeRequest {
  groupIds: string[];
}
export interface DescribedShareMember {
  memberId: string;
  memberEpoch: number;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  acquiredRecords: number;
}
export interface DescribedSharePartition {
  topic: string;
  partition: number;
  startOffset: number;
  endOffset: number;
  highWatermark: number;
  inFlight: number;
  acquired: number;
  available: number;
  delayed: number;
  accepted: number;
  rejected: number;
  deadLettered: number;
  oldestUnsettledTimestampMs: number;
}
export interface DescribedShareGroup {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  config: ShareGroupConfigResolved;
  members: DescribedShareMember[];
  partitions: DescribedSharePartition[];
}
export interface ShareGroupDescribeResponse {
  throttleTimeMs: number;
  groups: DescribedShareGroup[];
}

/* DeleteRecords (21): moves partitions' log start offset forward (the records below can no longer be read) */
export interface DeleteRecordsRequest {
  timeoutMs: number;
  /** offset -1: the high watermark (delete everything). */
  topics: { name: string; partitions: { partition: number; offset: number }[] }[];
}
export interface DeleteRecordsResponse {
  throttleTimeMs: number;
  topics: { name: string; partitions: { partition: number; lowWatermark: number; errorCode: number; errorMessage: string | null }[] }[];
}

/* SASL (17, 36) and SCRAM users (50, 51): broker/security/ */
export interface SaslHandshakeRequest {
  mechanism: string;
}
export interface SaslHandshakeResponse {
  errorCode: number;
  mechanisms: string[];
}
export interface SaslAuthenticateRequest {
  authBytes: Uint8Array;
}
export interface SaslAuthenticateResponse {
  errorCode: number;
  errorMessage: string | null;
  authBytes: Uint8Array;
  /** 0: the session lasts as long as the connection. */
  sessionLifetimeMs: number;
}
/** Kafka's numbering of SCRAM mechanisms on the wire: 1 SCRAM-SHA-256, 2 SCRAM-SHA-512. */
export type ScramMechanismCode = number;
export interface DescribeUserScramCredentialsRequest {
  /** null: every user with a credential. */
  users: string[] | null;
}
export interface DescribeUserScramCredentialsResponse {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  results: { user: string; errorCode: number; errorMessage: string | null; credentialInfos: { mechanism: ScramMechanismCode; iterations: number }[] }[];
}
export interface ScramCredentialUpsertion {
  name: string;
  mechanism: ScramMechanismCode;
  iterations: number;
  salt: Uint8Array;
  saltedPassword: Uint8Array;
}
export interface AlterUserScramCredentialsRequest {
  deletions: { name: string; mechanism: ScramMechanismCode }[];
  upsertions: ScramCredentialUpsertion[];
}
export interface AlterUserScramCredentialsResponse {
  throttleTimeMs: number;
  results: { user: string; errorCode: number; errorMessage: string | null }[];
}
/** ACLs in Kafka's codes (protocol/acl-codes.ts): the filter DescribeAcls and DeleteAcls take. */
export interface AclFilterWire {
  resourceTypeFilter: number;
  resourceNameFilter: string | null;
  patternTypeFilter: number;
  principalFilter: string | null;
  hostFilter: string | null;
  operation: number;
  permissionType: number;
}
export type DescribeAclsRequest = AclFilterWire;
export interface AclDescriptionWire {
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}
export interface DescribeAclsResponse {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  resources: { resourceType: number; resourceName: string; patternType: number; acls: AclDescriptionWire[] }[];
}
export interface AclCreationWire {
  resourceType: number;
  resourceName: string;
  resourcePatternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}
export interface CreateAclsRequest {
  creations: AclCreationWire[];
}
export interface CreateAclsResponse {
  throttleTimeMs: number;
  results: { errorCode: number; errorMessage: string | null }[];
}
export interface DeleteAclsRequest {
  filters: AclFilterWire[];
}
export interface DeleteAclsMatchingAcl {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}
export interface DeleteAclsResponse {
  throttleTimeMs: number;
  filterResults: { errorCode: number; errorMessage: string | null; matchingAcls: DeleteAclsMatchingAcl[] }[];
}

/* Client quotas (48, 49): broker/quota/ */
/** A user or client-id part of a quota entity; `entityName` null: the default. */
export interface ClientQuotaEntityComponent {
  entityType: string;
  entityName: string | null;
}
export interface DescribeClientQuotasRequest {
  /** matchType 0: `match` exactly; 1: the default; 2: any value of the type. */
  components: { entityType: string; matchType: number; match: string | null }[];
  strict: boolean;
}
export interface DescribeClientQuotasResponse {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  entries: { entity: ClientQuotaEntityComponent[]; values: { key: string; value: number }[] }[] | null;
}
export interface AlterClientQuotasRequest {
  entries: { entity: ClientQuotaEntityComponent[]; ops: { key: string; value: number; remove: boolean }[] }[];
  validateOnly: boolean;
}
export interface AlterClientQuotasResponse {
  throttleTimeMs: number;
  entries: { errorCode: number; errorMessage: string | null; entity: ClientQuotaEntityComponent[] }[];
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
  OffsetForLeaderEpoch: OffsetForLeaderEpochRequest;
  BrokerRegistration: BrokerRegistrationRequest;
  BrokerHeartbeat: BrokerHeartbeatRequest;
  AlterPartition: AlterPartitionRequest;
  MetadataChanges: MetadataChangesRequest;
  ElectLeaders: ElectLeadersRequest;
  AlterPartitionReassignments: AlterPartitionReassignmentsRequest;
  ListPartitionReassignments: ListPartitionReassignmentsRequest;
  FindCoordinator: FindCoordinatorRequest;
  ConsumerGroupHeartbeat: ConsumerGroupHeartbeatRequest;
  ConsumerGroupDescribe: ConsumerGroupDescribeRequest;
  OffsetCommit: OffsetCommitRequest;
  OffsetFetch: OffsetFetchRequest;
  ListGroups: ListGroupsRequest;
  DeleteGroups: DeleteGroupsRequest;
  InitProducerId: InitProducerIdRequest;
  AllocateProducerIds: AllocateProducerIdsRequest;
  ShareGroupHeartbeat: ShareGroupHeartbeatRequest;
  ShareGroupDescribe: ShareGroupDescribeRequest;
  ShareFetch: ShareFetchRequest;
  ShareAcknowledge: ShareAcknowledgeRequest;
  DeleteRecords: DeleteRecordsRequest;
  SaslHandshake: SaslHandshakeRequest;
  SaslAuthenticate: SaslAuthenticateRequest;
  DescribeUserScramCredentials: DescribeUserScramCredentialsRequest;
  AlterUserScramCredentials: AlterUserScramCredentialsRequest;
  DescribeAcls: DescribeAclsRequest;
  CreateAcls: CreateAclsRequest;
  DeleteAcls: DeleteAclsRequest;
  DescribeClientQuotas: DescribeClientQuotasRequest;
  AlterClientQuotas: AlterClientQuotasRequest;
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
  OffsetForLeaderEpoch: OffsetForLeaderEpochResponse;
  BrokerRegistration: BrokerRegistrationResponse;
  BrokerHeartbeat: BrokerHeartbeatResponse;
  AlterPartition: AlterPartitionResponse;
  MetadataChanges: MetadataChangesResponse;
  ElectLeaders: ElectLeadersResponse;
  AlterPartitionReassignments: AlterPartitionReassignmentsResponse;
  ListPartitionReassignments: ListPartitionReassignmentsResponse;
  FindCoordinator: FindCoordinatorResponse;
  ConsumerGroupHeartbeat: ConsumerGroupHeartbeatResponse;
  ConsumerGroupDescribe: ConsumerGroupDescribeResponse;
  OffsetCommit: OffsetCommitResponse;
  OffsetFetch: OffsetFetchResponse;
  ListGroups: ListGroupsResponse;
  DeleteGroups: DeleteGroupsResponse;
  InitProducerId: InitProducerIdResponse;
  AllocateProducerIds: AllocateProducerIdsResponse;
  ShareGroupHeartbeat: ShareGroupHeartbeatResponse;
  ShareGroupDescribe: ShareGroupDescribeResponse;
  ShareFetch: ShareFetchResponse;
  ShareAcknowledge: ShareAcknowledgeResponse;
  DeleteRecords: DeleteRecordsResponse;
  SaslHandshake: SaslHandshakeResponse;
  SaslAuthenticate: SaslAuthenticateResponse;
  DescribeUserScramCredentials: DescribeUserScramCredentialsResponse;
  AlterUserScramCredentials: AlterUserScramCredentialsResponse;
  DescribeAcls: DescribeAclsResponse;
  CreateAcls: CreateAclsResponse;
  DeleteAcls: DeleteAclsResponse;
  DescribeClientQuotas: DescribeClientQuotasResponse;
  AlterClientQuotas: AlterClientQuotasResponse;
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
