/**
 * The one table of errors that cross the wire. Codes are stable forever
 * (Kafka's numbering where Kafka has the same error, so tools that know
 * Kafka read them right); names and messages may improve. Internal typed
 * errors are mapped to this table once, at the handler edge; anything
 * unexpected becomes UNKNOWN_SERVER_ERROR.
 */
export interface ErrorSpec {
  readonly code: number;
  readonly retriable: boolean;
  /** What happened and what to do about it, for a person. */
  readonly message: string;
  /**
   * What to do, for an error whose broker message says only what happened
   * (which file, which byte): clients add it after that message, so neither
   * is lost and nothing is said twice.
   */
  readonly advice?: string;
}

export const Errors = {
  UNKNOWN_SERVER_ERROR: { code: -1, retriable: false, message: 'The broker hit an unexpected error; its log has the details. Retrying may help if it was transient.' },
  NONE: { code: 0, retriable: false, message: 'No error.' },
  OFFSET_OUT_OF_RANGE: { code: 1, retriable: false, message: 'The requested offset is outside the partition\'s range; list offsets and seek to earliest or latest.' },
  CORRUPT_MESSAGE: { code: 2, retriable: false, message: 'A record batch failed its checks (length, magic or CRC); the producer sent damaged bytes.' },
  UNKNOWN_TOPIC_OR_PARTITION: { code: 3, retriable: true, message: 'This topic or partition does not exist on this broker; create it first, or enable auto.create.topics.' },
  INVALID_FETCH_SIZE: { code: 4, retriable: false, message: 'The fetch size is invalid; maxBytes must be positive.' },
  LEADER_NOT_AVAILABLE: { code: 5, retriable: true, message: 'The partition has no leader right now (an election is in progress); retry shortly.' },
  NOT_LEADER_OR_FOLLOWER: { code: 6, retriable: true, message: 'This broker does not lead that partition; refresh metadata and send to the leader.' },
  REQUEST_TIMED_OUT: { code: 7, retriable: true, message: 'The request timed out on the broker; retry, or raise the timeout.' },
  BROKER_NOT_AVAILABLE: { code: 8, retriable: true, message: 'That broker is not available: it is not registered, or is fenced (it missed heartbeats or is still catching up on metadata); refresh metadata and retry.' },
  REPLICA_NOT_AVAILABLE: { code: 9, retriable: true, message: 'A replica of the partition is not available on the broker that should hold it (it is still being created or is offline); retry shortly.' },
  MESSAGE_TOO_LARGE: { code: 10, retriable: false, message: 'A record batch is larger than the topic\'s max.message.bytes; send smaller batches or raise the limit.' },
  OFFSET_METADATA_TOO_LARGE: { code: 12, retriable: false, message: 'The metadata committed with an offset is longer than offset.metadata.max.bytes; commit a shorter string.' },
  COORDINATOR_NOT_AVAILABLE: { code: 15, retriable: true, message: 'The group coordinator is not available (the group\'s __consumer_offsets partition has no leader yet, or is being created); retry shortly.' },
  NOT_COORDINATOR: { code: 16, retriable: true, message: 'This broker is not the coordinator of the group (it moved); find the coordinator again and retry there.' },
  NETWORK_EXCEPTION: { code: 13, retriable: true, message: 'The connection to the broker failed; the client will reconnect.' },
  CORRUPT_SEGMENT: { code: 14, retriable: false, message: 'The partition\'s log on disk is damaged and was taken offline, with nothing deleted; the broker log gives the file and byte position.', advice: 'Stop the broker and run `runnel recover <data.dir>/<topic>-<partition>` to cut the log at the last good batch (what follows is set aside, not deleted).' },
  INVALID_TOPIC_EXCEPTION: { code: 17, retriable: false, message: 'The topic name is invalid: use 1 to 249 characters from [a-zA-Z0-9._-], and not "." or "..".' },
  RECORD_LIST_TOO_LARGE: { code: 18, retriable: false, message: 'The produce request is larger than the broker accepts; send fewer or smaller batches per request.' },
  NOT_ENOUGH_REPLICAS: { code: 19, retriable: true, message: 'Fewer in-sync replicas than min.insync.replicas; the write was not accepted.' },
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: { code: 20, retriable: true, message: 'The leader wrote the records, but the in-sync replicas fell below min.insync.replicas before enough of them had them, so the write is not acknowledged; a retry may store the records twice.' },
  INVALID_REQUIRED_ACKS: { code: 21, retriable: false, message: 'acks must be 0, 1 or -1 (all).' },
  ILLEGAL_GENERATION: { code: 22, retriable: false, message: 'The group generation is stale; rejoin the group.' },
  INVALID_GROUP_ID: { code: 24, retriable: false, message: 'The group id is invalid: it must be a non-empty string.' },
  UNKNOWN_MEMBER_ID: { code: 25, retriable: false, message: 'The group has no member with this id (it left, or was removed after its session timed out); rejoin the group with epoch 0.' },
  INVALID_SESSION_TIMEOUT: { code: 26, retriable: false, message: 'The session or rebalance timeout is outside the range the broker allows (group.consumer.min/max.session.timeout.ms).' },
  INVALID_REQUEST: { code: 42, retriable: false, message: 'The request is malformed or not valid for this API version.' },
  OUT_OF_ORDER_SEQUENCE_NUMBER: { code: 45, retriable: false, message: 'The batch\'s sequence number is not the next one the partition expects from this producer: a batch before it was lost; the producer must reset its id (records may be missing between them).' },
  DUPLICATE_SEQUENCE_NUMBER: { code: 46, retriable: false, message: 'The batch is a duplicate of one the partition already has, too old to answer with its original offsets.' },
  INVALID_PRODUCER_EPOCH: { code: 47, retriable: false, message: 'The producer epoch is older than the partition has seen from this producer id: another producer with the same id took over (this one is fenced).' },
  UNKNOWN_PRODUCER_ID: { code: 59, retriable: true, message: 'The partition has no state for this producer id (its records were deleted by retention); the producer resets its sequence numbers and retries.' },
  NON_EMPTY_GROUP: { code: 68, retriable: false, message: 'The group still has members; stop its consumers first (or wait for their sessions to time out).' },
  GROUP_ID_NOT_FOUND: { code: 69, retriable: false, message: 'No such group.' },
  GROUP_MAX_SIZE_REACHED: { code: 81, retriable: false, message: 'The group has as many members as group.consumer.max.size allows.' },
  FENCED_INSTANCE_ID: { code: 82, retriable: false, message: 'Another consumer with the same static instance id (groupInstanceId) replaced this one in the group.' },
  UNSTABLE_OFFSET_COMMIT: { code: 88, retriable: true, message: 'A commit of this partition\'s offset is still being replicated; retry shortly.' },
  FENCED_MEMBER_EPOCH: { code: 110, retriable: false, message: 'The member epoch is not the member\'s current one (the member was fenced, for example after missing heartbeats); rejoin the group with epoch 0, giving up its partitions.' },
  UNRELEASED_INSTANCE_ID: { code: 111, retriable: false, message: 'Another member still holds this static instance id; it is released when that member leaves or its session times out.' },
  UNSUPPORTED_ASSIGNOR: { code: 112, retriable: false, message: 'The broker has no assignor of that name; use "uniform" or "range".' },
  STALE_MEMBER_EPOCH: { code: 113, retriable: true, message: 'The member epoch in the commit is older than the member\'s current one; commit again with the epoch of its latest heartbeat.' },
  INCONSISTENT_GROUP_PROTOCOL: { code: 23, retriable: false, message: 'The group id belongs to a group of another type (a consumer group and a share group cannot share an id).' },
  INVALID_RECORD_STATE: { code: 121, retriable: false, message: 'The record is not in a state that allows this: it is no longer held by this member (its acquisition lock expired and it may have been handed to another), or it was already settled.' },
  INVALID_REGULAR_EXPRESSION: { code: 128, retriable: false, message: 'The subscription\'s topic pattern is not a valid regular expression.' },
  UNSUPPORTED_VERSION: { code: 35, retriable: false, message: 'The broker does not support this API version; upgrade the client or broker so their ApiVersions overlap.' },
  TOPIC_ALREADY_EXISTS: { code: 36, retriable: false, message: 'A topic with this name already exists.' },
  INVALID_PARTITIONS: { code: 37, retriable: false, message: 'The number of partitions is invalid; it must be between 1 and the broker\'s limit.' },
  INVALID_REPLICATION_FACTOR: { code: 38, retriable: false, message: 'The replication factor is invalid: it must be at least 1 and at most the number of brokers.' },
  INVALID_REPLICA_ASSIGNMENT: { code: 39, retriable: false, message: 'The replica assignment is invalid: it must name registered brokers, each once, at least one.' },
  INVALID_CONFIG: { code: 40, retriable: false, message: 'A configuration value is invalid; the error names the setting and why.' },
  NOT_CONTROLLER: { code: 41, retriable: true, message: 'This node is not the controller; send the request to the controller named in metadata (controllerId).' },
  POLICY_VIOLATION: { code: 44, retriable: false, message: 'The request violates a broker policy.' },
  KAFKA_STORAGE_ERROR: { code: 56, retriable: true, message: 'The partition\'s disk failed (for example a failed fsync) and the log is offline; see the broker log.' },
  FENCED_LEADER_EPOCH: { code: 74, retriable: true, message: 'The request names an older leader epoch than this broker has for the partition: the sender\'s metadata is stale; refresh it and retry.' },
  UNKNOWN_LEADER_EPOCH: { code: 76, retriable: true, message: 'The request names a newer leader epoch than this broker knows for the partition: this broker has not caught up with the leader change yet; retry shortly.' },
  STALE_BROKER_EPOCH: { code: 77, retriable: false, message: 'The broker epoch in the request is not the broker\'s current registration (it restarted or was fenced and registered again); the broker must use its new epoch.' },
  PREFERRED_LEADER_NOT_AVAILABLE: { code: 80, retriable: true, message: 'The preferred leader (the first replica) is not live or not in the ISR, so it cannot lead now; retry once it has caught up.' },
  ELIGIBLE_LEADERS_NOT_AVAILABLE: { code: 83, retriable: true, message: 'No replica may lead the partition now (none is live); retry once one is back.' },
  ELECTION_NOT_NEEDED: { code: 84, retriable: false, message: 'The partition already has the leader the election would choose.' },
  NO_REASSIGNMENT_IN_PROGRESS: { code: 85, retriable: false, message: 'The partition has no reassignment in progress to cancel.' },
  INVALID_RECORD: { code: 87, retriable: false, message: 'A record was refused by the topic\'s rules (for example a record without a key on a compacted topic); fix the record, it will not succeed on retry.' },
  INVALID_UPDATE_VERSION: { code: 95, retriable: false, message: 'The partition epoch in the request is not the partition\'s current one: its leader or ISR changed since the sender read it; rebuild the request from fresh metadata.' },
  DUPLICATE_BROKER_REGISTRATION: { code: 101, retriable: true, message: 'Another broker with this node id is registered and its session is still live: after a restart this clears once the old session times out (broker.session.timeout.ms); if it persists, two brokers share one node id.' },
  INCONSISTENT_CLUSTER_ID: { code: 104, retriable: false, message: 'The cluster id in the request is not this cluster\'s: the broker\'s data directory belongs to another cluster, or it points at the wrong controller.' },
  INELIGIBLE_REPLICA: { code: 107, retriable: false, message: 'The proposed ISR names a replica that may not join it (the broker is fenced or not registered); propose an ISR without it.' },
  // Authentication (SASL/SCRAM, broker/security/): Kafka's codes.
  UNSUPPORTED_SASL_MECHANISM: { code: 33, retriable: false, message: 'The broker does not enable this SASL mechanism on this listener; use one it lists (SCRAM-SHA-256 or SCRAM-SHA-512).' },
  ILLEGAL_SASL_STATE: { code: 34, retriable: false, message: 'A SASL request came out of order (or on a listener without SASL); reconnect and start with SaslHandshake.' },
  SASL_AUTHENTICATION_FAILED: { code: 58, retriable: false, message: 'Authentication failed: the user name or password is wrong, or the user has no credential for this mechanism.' },
  RESOURCE_NOT_FOUND: { code: 91, retriable: false, message: 'The named resource (a user) does not exist.' },
  DUPLICATE_RESOURCE: { code: 92, retriable: false, message: 'The request names the same resource (user and mechanism) twice.' },
  UNACCEPTABLE_CREDENTIAL: { code: 93, retriable: false, message: 'The credential is not acceptable (an empty user name or salt, or fewer than 4096 iterations).' },
  // Authorization (ACLs, broker/acl/): Kafka's codes.
  TOPIC_AUTHORIZATION_FAILED: { code: 29, retriable: false, message: 'The principal is not authorized for this operation on the topic; an operator grants it with `runnel acl add`.' },
  GROUP_AUTHORIZATION_FAILED: { code: 30, retriable: false, message: 'The principal is not authorized for this operation on the group; an operator grants it with `runnel acl add`.' },
  CLUSTER_AUTHORIZATION_FAILED: { code: 31, retriable: false, message: 'The principal is not authorized for this operation on the cluster; an operator grants it with `runnel acl add --cluster`.' },
  UNKNOWN_API: { code: 200, retriable: false, message: 'The broker does not know this API key; check ApiVersions.' },
  // Kafka's code for this is 14, which Runnel gave CORRUPT_SEGMENT before it had groups; codes never change, so this one is Runnel's own.
  COORDINATOR_LOAD_IN_PROGRESS: { code: 202, retriable: true, message: 'The group coordinator is still loading the group\'s state from its log (it became coordinator moments ago); retry shortly.' },
  THROTTLED: { code: 201, retriable: true, message: 'The client exceeded its quota; wait for the throttle time and retry.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorName = keyof typeof Errors;
export type ErrorCode = (typeof Errors)[ErrorName]['code'];

const byCode = new Map<number, ErrorName>();
for (const [name, spec] of Object.entries(Errors) as [ErrorName, ErrorSpec][]) {
  if (byCode.has(spec.code)) throw new Error(`error code ${spec.code} used twice (${byCode.get(spec.code)} and ${name})`);
  byCode.set(spec.code, name);
}

/** The name for a code; unknown codes (from a newer broker) read as UNKNOWN_SERVER_ERROR. */
export function errorNameOf(code: number): ErrorName {
  return byCode.get(code) ?? 'UNKNOWN_SERVER_ERROR';
}

/**
 * An error that carries a wire code. The broker throws it where the cause is
 * known; the client raises it (as `RunnelError`) from an error response.
 */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  readonly code: number;
  readonly errorName: ErrorName;
  readonly retriable: boolean;
  /** What went wrong, without the error's name: what goes on the wire as the error message. */
  readonly detail: string;
  constructor(errorName: ErrorName, detail?: string, options?: { cause?: unknown }) {
    const spec: ErrorSpec = Errors[errorName];
    super(detail === undefined ? `${errorName}: ${spec.message}` : `${errorName}: ${detail}`, options);
    this.detail = detail ?? spec.message;
    this.errorName = errorName;
    this.code = spec.code;
    this.retriable = spec.retriable;
  }
}
