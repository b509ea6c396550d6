/**
 * The public shapes of the SDK (see /docs/CLIENT.md). Kept apart from the
 * classes so the CLI and apps can import types without pulling in code, and
 * so the contract is readable in one place.
 */
import type { ClientQuotaAlteration, ClientQuotaDescription, ClientQuotaEntity } from './admin/client-quotas.js';
import type { RunnelError } from './errors.js';
import type { DeadLetterTopicUse } from './admin/dead-letters.js';
import type { ShareGroupDescription } from './admin/share-groups.js';
import type { CommittedOffset, GroupDescription, GroupListing, GroupOutcome, GroupPartitionLag, OffsetResetResult, OffsetResetSpec, PartitionLag } from './admin/group-types.js';
import type { SaslOption, TlsOption } from './security/secure-transport.js';

export type Acks = 0 | 1 | 'all' | -1;

/** An operation an ACL allows or denies (Kafka's, lower-case); `all` is every one. */
export type AclOperation = 'all' | 'read' | 'write' | 'create' | 'delete' | 'alter' | 'describe' | 'cluster_action' | 'describe_configs' | 'alter_configs' | 'idempotent_write';

/**
 * An ACL binding: `principal` connecting from `host` is allowed or denied
 * `operation` on the resources the pattern names. `literal` names one
 * resource (or every one of its type when the name is `*`); `prefixed`
 * every resource whose name starts with it. The cluster resource is
 * `runnel-cluster`.
 */
export interface AclBinding {
  resourceType: 'topic' | 'group' | 'cluster';
  resourceName: string;
  /** Default `literal`. */
  patternType?: 'literal' | 'prefixed';
  /** `User:<name>`, or `User:*` for everyone. */
  principal: string;
  /** An address, or `*` (default) for any. */
  host?: string;
  operation: AclOperation;
  permission: 'allow' | 'deny';
}

/**
 * Which bindings: each field absent (or `any`) matches every value. A
 * `match` pattern type asks for every binding that applies to the named
 * resource (its literal, `*`, and every prefix of its name). With a
 * `resourceName` and no `patternType`, `literal`.
 */
export interface AclBindingFilter {
  resourceType?: AclBinding['resourceType'] | 'any';
  resourceName?: string;
  patternType?: 'literal' | 'prefixed' | 'any' | 'match';
  principal?: string;
  host?: string;
  operation?: AclOperation | 'any';
  permission?: AclBinding['permission'] | 'any';
}
export type CompressionName = 'none' | 'gzip' | 'lz4';

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RunnelOptions {
  /** `host:port` of one or more brokers; any one is enough to find the rest. */
  bootstrap: string[];
  clientId?: string;
  /** How long a request may wait for its response (default 30000). */
  requestTimeoutMs?: number;
  /** How long a TCP connect plus version handshake may take (default 10000). */
  connectTimeoutMs?: number;
  /** Backoff for reconnects and for retrying retriable errors. */
  retry?: { retries?: number; initialBackoffMs?: number; maxBackoffMs?: number };
  /** Anything with pino's method shape; silent by default. */
  logger?: Logger;
  /** Connect over TLS: true checks the broker's certificate against the system's CAs; or PEM contents { ca, cert, key } (cert/key: mutual TLS). */
  tls?: TlsOption;
  /** Authenticate with SCRAM on a SASL listener (SASL_PLAINTEXT, or SASL_SSL with `tls`). */
  sasl?: SaslOption;
  /** Per-broker circuit breakers and request bulkheads (docs/CLIENT.md "Failure isolation"). */
  resilience?: ResilienceOptions;
}

/** How the client isolates one failing broker from the rest (docs/CLIENT.md "Failure isolation"). */
export interface ResilienceOptions {
  /**
   * A circuit breaker per broker: after `failureThreshold` failures in a row
   * (default 5) requests to it fail fast with the retriable
   * BROKER_CIRCUIT_OPEN for `openMs` (default 1000), then one probe goes
   * through; each failed probe doubles the cool-down, up to `maxOpenMs`
   * (default 30000). `false` turns breakers off.
   */
  breaker?: false | { failureThreshold?: number; openMs?: number; maxOpenMs?: number };
  /** Requests that may wait for an in-flight slot to one broker before more fail fast with BROKER_BULKHEAD_FULL (default 1000). */
  maxQueuedRequestsPerBroker?: number;
}

export interface ProducerOptions {
  /** 0: fire and forget; 1: the leader has it; 'all' / -1: every in-sync replica has it (default). */
  acks?: Acks;
  /**
   * Idempotence (KIP-98, default true, with acks 'all'): the producer takes
   * an id from the cluster and numbers its batches per partition, so a retry
   * after a lost answer or a leader change is never written twice nor out of
   * order. `true` with acks 0 or 1 is refused (an id is only safe when every
   * in-sync replica has each batch); acks 0 or 1 without `idempotent` turn it
   * off, as in Kafka.
   */
  idempotent?: boolean;
  /** How long a batch may wait for more records before it is sent (default 5). */
  lingerMs?: number;
  /** Target size of one record batch, in bytes (default 64 KiB). */
  batchBytes?: number;
  compression?: CompressionName;
  /** Produce requests in flight per broker connection (default 5). */
  maxInFlightRequests?: number;
  /** Bytes of records buffered in the producer before `send` waits (default 32 MiB). */
  bufferMemoryBytes?: number;
  /**
   * Bytes of `bufferMemoryBytes` that records for one broker (the leader of
   * their partition when they were buffered) may hold (default half of
   * `bufferMemoryBytes`). Records for a broker at its share wait without
   * holding up sends to the others; keyless records go to partitions of
   * brokers with room. Not applied while the cluster has a single broker.
   */
  maxBufferedBytesPerBroker?: number;
  /**
   * Upper bound on the time from `send()` to its promise settling (default
   * 120000): waiting for metadata, for buffer memory, linger, requests in
   * flight and retries all count. At least `lingerMs + requestTimeoutMs`.
   */
  deliveryTimeoutMs?: number;
  /** Retries of a retriable error per batch, and failed lookups in a row of a topic's metadata (default: unlimited within `deliveryTimeoutMs`). */
  retries?: number;
  requestTimeoutMs?: number;
  /**
   * How old a topic's cached metadata may get before the producer refreshes
   * it (default 300000, Kafka's metadata.max.age.ms): partitions added to the
   * topic are used from then on. A record sent to a partition the cache does
   * not know yet refreshes it at once.
   */
  metadataMaxAgeMs?: number;
  /** Custom key -> partition mapping; by default `partitionForKey` (keyed) and sticky (keyless). */
  partitioner?: (key: Buffer | null, partitionCount: number) => number;
}

/**
 * A record's headers: an object (one value per key), or a list of
 * `[key, value]` pairs in which a key may repeat and a value may be null,
 * as Kafka allows. Either way they are sent in the order given.
 */
export type ProducerHeaders = Record<string, string | Buffer> | readonly (readonly [string, string | Buffer | null])[];

/**
 * Delayed delivery: a message that must not be delivered before a time
 * carries it in its `runnel.deliver.at` header. Share-group members never
 * see it earlier; group consumers only when they opt in
 * (`delayedDelivery: 'wait'`); plain log readers see it at once. At most
 * one of the two, and not together with a `runnel.deliver.at` header of
 * the message's own.
 */
export interface DeliveryTimeOptions {
  /** Not delivered before this instant: a Date, or milliseconds since the epoch. */
  deliverAt?: Date | number;
  /** Not delivered before this many milliseconds after `send()` was called (the producer's clock). */
  deliverAfterMs?: number;
}

export interface ProducerMessage extends DeliveryTimeOptions {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: ProducerHeaders;
  /** Sends to this partition, bypassing the partitioner. */
  partition?: number;
  /** Milliseconds since the epoch; default: when `send` was called. */
  timestamp?: number;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 with acks=0, where the broker does not say. */
  offset: number;
  timestamp: number;
}

/**
 * A broker this client cannot reach: the first sign of an outage (a failed
 * connect, a request timed out, or a broker that answers nothing, not even
 * a probe), once per outage however many connections notice it.
 */
export interface BrokerUnreachableEvent {
  /** `host:port` */
  broker: string;
  /** Short: an errno code (`ECONNREFUSED`) or what got no answer (`connected, but it answers nothing`). */
  reason: string;
  error: RunnelError;
  /** When the outage began (ms since the epoch): the broker last heard from, the connection lost, or the first failed connect. */
  sinceMs: number;
}

/** A broker's circuit breaker opened: requests to it fail fast (BROKER_CIRCUIT_OPEN) for `cooldownMs`. */
export interface BreakerOpenEvent {
  /** `host:port` */
  broker: string;
  /** The broker's id, or null for a bootstrap address. */
  nodeId: number | null;
  /** Failures in a row that tripped it. */
  failures: number;
  cooldownMs: number;
  /** The last failure. */
  error: Error;
  /** A probe failed (rather than the failures reaching the threshold while closed). */
  reopened: boolean;
}

/** A broker's cool-down ended: the next request to it is the probe. */
export interface BreakerHalfOpenEvent {
  broker: string;
  nodeId: number | null;
}

/** A broker answered its probe (or a late answer came): requests flow again. */
export interface BreakerClosedEvent {
  broker: string;
  nodeId: number | null;
  /** How long the breaker was open or half-open. */
  openForMs: number;
}

/**
 * A broker's bulkhead is full: `'bytes'` when the producer's records for it
 * reached `maxBufferedBytesPerBroker` (sends for it wait; once per filling),
 * `'requests'` when a request was refused with BROKER_BULKHEAD_FULL.
 */
export interface BulkheadFullEvent {
  broker: string;
  nodeId: number | null;
  kind: 'bytes' | 'requests';
  /** Bytes held or requests outstanding for the broker. */
  current: number;
  limit: number;
}

/** One broker as this producer, consumer or admin sees it: `brokerStats()`. */
export interface BrokerStats {
  broker: string;
  nodeId: number | null;
  breaker: 'closed' | 'open' | 'half-open' | 'off';
  consecutiveFailures: number;
  /** Times the breaker opened. */
  breakerOpens: number;
  /** Requests failed fast with BROKER_CIRCUIT_OPEN. */
  breakerRejected: number;
  /** Requests in flight or waiting for a slot. */
  outstandingRequests: number;
  /** Requests refused with BROKER_BULKHEAD_FULL. */
  bulkheadRejected: number;
  /** A producer's buffered record bytes held for this broker (0 elsewhere). */
  bufferedBytes: number;
  /** Times those bytes reached `maxBufferedBytesPerBroker`. */
  bufferedBytesFull: number;
  /** Responses that carried a throttle time (the broker's client quotas), and those times in ms added up. */
  throttledResponses: number;
  throttleTimeMs: number;
}

/**
 * A broker answered with a throttle time: this client is over one of its
 * quotas there, and sends nothing more to that broker for `throttleTimeMs`
 * (the broker would not read it sooner).
 */
export interface ThrottledEvent {
  broker: string;
  nodeId: number | null;
  /** The API whose response carried it. */
  api: string;
  throttleTimeMs: number;
}

/** A broker that was unreachable completed a connect, or answered, again. */
export interface BrokerReachableEvent {
  broker: string;
  /** How long it was unreachable. */
  unreachableMs: number;
}

/**
 * A consumer's position moved back because the records it had been given
 * are no longer in the partition: a new leader's log ends before them (an
 * unclean leader election, or acks=1 records the new leader never had).
 * Fetching goes on from `toOffset`; records written there since may differ
 * from those consumed before.
 */
export interface OffsetResetEvent {
  topic: string;
  partition: number;
  /** The position the app had reached (the next offset it would have been given). */
  fromOffset: number;
  /** Where the partition's log now ends for the records consumed: the new position. */
  toOffset: number;
  reason: string;
}

/** Partitions a group member was given, or gave up after committing what the app finished on them. */
export interface PartitionsEvent {
  partitions: { topic: string; partition: number }[];
}

/**
 * Partitions a group member lost without committing: the coordinator fenced
 * it (or no heartbeat got through for a session timeout), so another member
 * may own them already. What the app finished on them since the last commit
 * will be processed again by their new owner.
 */
export interface PartitionsLostEvent extends PartitionsEvent {
  reason: string;
}

/** The events producers and consumers emit: `on(name, listener)`. ('offset-reset' and 'partitions-*' are a consumer's only.) */
export interface ClientEvents {
  'broker-unreachable': BrokerUnreachableEvent;
  'broker-reachable': BrokerReachableEvent;
  'breaker-open': BreakerOpenEvent;
  'breaker-half-open': BreakerHalfOpenEvent;
  'breaker-closed': BreakerClosedEvent;
  'bulkhead-full': BulkheadFullEvent;
  throttled: ThrottledEvent;
  'offset-reset': OffsetResetEvent;
  'partitions-assigned': PartitionsEvent;
  'partitions-revoked': PartitionsEvent;
  'partitions-lost': PartitionsLostEvent;
}

export type ClientEventName = keyof ClientEvents;

/** Typed listeners; a listener that throws is logged and does not disturb the client. */
export interface ClientEventSource {
  on<E extends ClientEventName>(event: E, listener: (event: ClientEvents[E]) => void): this;
  off<E extends ClientEventName>(event: E, listener: (event: ClientEvents[E]) => void): this;
  /** Every broker this client has a connection to, with its breaker's and bulkheads' state and counters. */
  brokerStats(): BrokerStats[];
}

export interface Producer extends ClientEventSource {
  /**
   * Resolves when every message is acknowledged: one RecordMetadata per
   * message, in order. Settles within `deliveryTimeoutMs` whatever happens
   * (rejecting with DELIVERY_TIMEOUT when that passes).
   */
  send(req: { topic: string; messages: ProducerMessage[] }): Promise<RecordMetadata[]>;
  /**
   * The partitions of `topic` as this producer sees them (Kafka's
   * `partitionsFor`): its cached metadata, looked up first if there is none,
   * which makes the topic where the broker auto-creates topics, as a send
   * would. Rejects UNKNOWN_TOPIC_OR_PARTITION when the topic does not exist
   * and will not be made.
   */
  partitionsFor(topic: string): Promise<PartitionDescription[]>;
  /** Sends everything buffered now and waits for it (to be acknowledged or to fail). */
  flush(): Promise<void>;
  /**
   * Flushes, then releases connections. Later sends reject with
   * CLIENT_CLOSED. With `timeoutMs`, sends still pending after that long are
   * failed (CLIENT_CLOSED) instead of waited for; 0 fails them at once.
   */
  close(opts?: { timeoutMs?: number }): Promise<void>;
}

export interface ConsumerOptions {
  /** How long the broker holds a fetch open waiting for `minBytes` (default 500). */
  maxWaitMs?: number;
  minBytes?: number;
  /** Bytes per fetch response (default 50 MiB). */
  maxBytes?: number;
  /** Bytes per partition per fetch (default 1 MiB). */
  partitionMaxBytes?: number;
  /** Keep the next fetch in flight while the app works on the current batch (default true). */
  prefetch?: boolean;
  requestTimeoutMs?: number;
  /**
   * Join this consumer group: `subscribe()` then gets the partitions the
   * group's coordinator assigns this member, starting each at the group's
   * committed offset. Without it, `subscribe()` reads every partition.
   */
  groupId?: string;
  /** Static membership: an id stable across restarts of this consumer; a restart within the session timeout gets the same partitions back. */
  groupInstanceId?: string;
  /**
   * How long this member may go without a heartbeat getting through before
   * it treats its partitions as lost (default 45000, the coordinator's
   * default group.consumer.session.timeout.ms; the coordinator's own
   * setting is what removes a silent member).
   */
  sessionTimeoutMs?: number;
  /** How long the app may take to give up a revoked partition before the coordinator removes this member (default 300000). */
  rebalanceTimeoutMs?: number;
  /** The group's assignor: 'uniform' (the broker's default) or 'range'. */
  assignor?: string;
  /** Commit finished messages by itself (default true): every `autoCommitIntervalMs`, before giving up a partition, and on close. */
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  /**
   * Records with a `runnel.deliver.at` time (the producer's `deliverAt` /
   * `deliverAfterMs`): 'ignore' (the default) hands them out at once, as a
   * log reader sees every record; 'wait' holds a partition at such a record
   * until its time (this consumer's clock), so it is delivered no earlier.
   * The records after it in the same partition wait too (offsets stay in
   * order, commits never pass it); other partitions go on. No polling: the
   * partition is fetched again when the record is due.
   */
  delayedDelivery?: 'ignore' | 'wait';
  /**
   * How often a consumer without a group looks for partitions and matching
   * topics added to its subscription (default 300000, Kafka's metadata.max.age.ms).
   */
  metadataMaxAgeMs?: number;
}

/** What `subscribe` asks for. */
export interface SubscribeOptions {
  /** Topic names and patterns (a pattern matches whole names; internal `__` topics never match one). */
  topics: (string | RegExp)[];
  /**
   * Where a partition starts when the group has no committed offset for it
   * (without a group: each partition there at subscribe time): the first
   * record if true, the next new one if false (the default, Kafka's
   * auto.offset.reset=latest). Partitions and topics that appear later are
   * read from their first record either way: nothing written to them is missed.
   */
  fromBeginning?: boolean;
}

/** `consumer.run()`: one of the two handlers. A handler that throws stops run(), which rejects with its error; that message (or batch) is not committed. */
export interface RunOptions {
  eachMessage?: (message: Message) => Promise<void> | void;
  eachBatch?: (batch: MessageBatch) => Promise<void> | void;
}

/**
 * One partition's lag as a consumer sees it: the admin's figure
 * (client/lag.ts, as `runnel groups describe` shows it) counted from the
 * group's committed offset, or without a group from the consumer's
 * position, and that position.
 */
export interface ConsumerPartitionLag extends PartitionLag {
  /** The next offset the app will be given (null: not known yet). */
  position: number | null;
}

export type StartOffset = 'earliest' | 'latest' | number | { timestamp: number };

export interface Message {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  /** The last value of each header key (what most apps want). */
  headers: Record<string, Buffer | null>;
  /** Every header in record order, repeated keys included. */
  headerList: readonly (readonly [string, Buffer | null])[];
}

export interface MessageBatch {
  topic: string;
  partition: number;
  highWatermark: number;
  messages: Message[];
}

export interface Consumer extends AsyncIterable<Message>, ClientEventSource {
  /** Replaces the assignment. `offset` defaults to 'latest'. Not with a groupId, nor after subscribe(). */
  assign(assignments: { topic: string; partition: number; offset?: StartOffset }[]): void;
  /**
   * Consumes topics by name or pattern. With a groupId: joins the group (and
   * later calls change the subscription); without: every partition of every
   * matching topic, following partitions and topics added later.
   */
  subscribe(opts: SubscribeOptions): void;
  /** Consumes with a handler until close() (then resolves) or until the handler throws (then rejects). */
  run(opts: RunOptions): Promise<void>;
  /**
   * Commits to the group: without arguments, every finished message not yet
   * committed; with offsets, exactly those (each the next offset to
   * process). Rejects if the group refuses (this member was fenced, ...).
   */
  commit(offsets?: { topic: string; partition: number; offset: number; metadata?: string | null }[]): Promise<void>;
  /** Stops fetching these partitions (what was fetched for them and not handed out is dropped) until resume(). */
  pause(partitions: { topic: string; partition: number }[]): void;
  resume(partitions: { topic: string; partition: number }[]): void;
  /** The partitions this consumer reads now (a group member: those it owns). */
  assignment(): { topic: string; partition: number }[];
  /** Per partition read: committed offset, position, log start and end (asked of the leaders now), lag in records and seconds. */
  lag(): Promise<ConsumerPartitionLag[]>;
  seek(topic: string, partition: number, offset: StartOffset): void;
  batches(): AsyncIterable<MessageBatch>;
  /** The next offset it will return, once known. */
  position(topic: string, partition: number): number | undefined;
  close(): Promise<void>;
}

/** One partition of a topic: its leader, replicas and in-sync replicas, as broker ids. */
export interface PartitionDescription {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/** A partition as `Admin.describeTopic` gives it: also the epoch of its current leader (bumped at every leader change). */
export interface DescribedPartition extends PartitionDescription {
  leaderEpoch: number;
  /** Replicas whose broker is fenced or not registered, or whose log is offline ([] from a broker older than Metadata v1). */
  offlineReplicas: number[];
}

export interface TopicDescription {
  name: string;
  partitions: DescribedPartition[];
  configs: Record<string, string>;
}

export interface DescribedConfig {
  name: string;
  value: string | null;
  source: string;
  readOnly: boolean;
}

export interface Admin {
  /**
   * TOPIC_ALREADY_EXISTS when it exists; if an earlier attempt of this call
   * got no answer, the error says this call may have created it itself.
   */
  createTopic(t: { name: string; partitions?: number; replicationFactor?: number; config?: Record<string, string> }): Promise<void>;
  deleteTopic(name: string): Promise<void>;
  /**
   * Grows a topic to `count` partitions in all (more than it has; partitions
   * are never removed). Keyed records map to other partitions afterwards.
   */
  createPartitions(t: { topic: string; count: number }): Promise<void>;
  /** Topic names, sorted. Internal topics (names starting `__`) only with `includeInternal`. */
  listTopics(opts?: { includeInternal?: boolean }): Promise<string[]>;
  describeTopic(name: string): Promise<TopicDescription>;
  describeConfigs(topic: string): Promise<DescribedConfig[]>;
  /** Incremental: each entry sets one setting; `null` resets it to the default. */
  alterConfigs(topic: string, config: Record<string, string | null>): Promise<void>;
  listOffsets(topic: string): Promise<{ partition: number; earliest: number; latest: number }[]>;
  /**
   * Deletes the records below `offset` in each partition (Kafka's
   * deleteRecords): the log start moves there (-1: to the high watermark,
   * deleting every record), durably, and is answered once the in-sync
   * replicas moved theirs too. Reads below it fail OFFSET_OUT_OF_RANGE;
   * whole segments below it are deleted at once. An offset at or below the
   * start changes nothing; past the high watermark is OFFSET_OUT_OF_RANGE;
   * internal topics are refused (POLICY_VIOLATION). Per partition, in the
   * order asked: its log start (`lowWatermark`) now.
   */
  deleteRecords(topic: string, partitions: readonly { partition: number; offset: number }[]): Promise<{ partition: number; lowWatermark: number }[]>;
  /** The dead-letter topics share groups are configured with, one entry per group, sorted by topic: which group, and how many records it has dead-lettered there. */
  listDeadLetterTopics(): Promise<DeadLetterTopicUse[]>;
  /** The first offset whose timestamp is at or after `timestampMs`, or null if none is. */
  offsetForTimestamp(topic: string, partition: number, timestampMs: number): Promise<number | null>;
  /**
   * Moves partitions' replicas (Kafka's alterPartitionReassignments): each
   * target is recorded by the controller, the new replicas copy the log and
   * join the ISR, then the replicas not in the target leave. `replicas: null`
   * cancels the move in progress. `throttleBytesPerSecond`: the cluster-wide
   * copy rate for replicas being added (0 removes it; left as is when absent);
   * it is removed by itself once no move is left. One result per move,
   * grouped by topic in first-seen order (in request order for one topic).
   */
  alterPartitionReassignments(moves: readonly PartitionMove[], opts?: { throttleBytesPerSecond?: number }): Promise<PartitionOutcome[]>;
  /**
   * The moves in progress (all, or of `partitions`), and the throttle in
   * force (0: none). With `progress`, each move also says how far each
   * replica's log has come (asked of each broker; null where one did not answer).
   */
  listPartitionReassignments(opts?: { partitions?: readonly { topic: string; partition: number }[]; progress?: boolean }): Promise<{ throttleBytesPerSecond: number; reassignments: OngoingReassignment[] }>;
  /** The live brokers (registered, not fenced) with their racks, and the controller's id. */
  describeCluster(): Promise<{ controllerId: number; brokers: { id: number; host: string; port: number; rack: string | null }[] }>;
  /**
   * Leader elections (Kafka's electLeaders): `preferred` (default) makes the
   * first replica lead where it is live and in the ISR; `unclean` elects any
   * live replica for partitions without a leader (records may be lost).
   * Without `partitions`, every partition, reporting only those elected.
   */
  electLeaders(opts?: { type?: 'preferred' | 'unclean'; partitions?: readonly { topic: string; partition: number }[] }): Promise<PartitionOutcome[]>;
  /** Creates or replaces a SCRAM user (the password is salted and hashed here, never sent). Default: SCRAM-SHA-256 and -512. */
  upsertScramUser(name: string, password: string, opts?: { mechanisms?: readonly string[]; iterations?: number }): Promise<void>;
  /** Deletes a SCRAM user's credentials (every mechanism it has unless `mechanisms`). */
  deleteScramUser(name: string, opts?: { mechanisms?: readonly string[] }): Promise<void>;
  /** SCRAM users and their mechanisms and iteration counts (never salts or keys); every user when `names` is absent. */
  describeScramUsers(names?: readonly string[]): Promise<{ name: string; credentials: { mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; iterations: number }[] }[]>;
  /** Adds ACL bindings (one already there is kept once); a refused one throws, naming it. Needs ALTER on the cluster. */
  createAcls(bindings: readonly AclBinding[]): Promise<void>;
  /** The bindings a filter matches (every binding without one). Needs DESCRIBE on the cluster. */
  describeAcls(filter?: AclBindingFilter): Promise<AclBinding[]>;
  /** Removes every binding the filters match and returns them (with `patternType` and `host` filled in). Needs ALTER on the cluster. */
  deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclBinding[]>;
  /**
   * Sets or removes client quotas (rates per second of producer bytes,
   * consumer bytes and requests) on entities of a user and/or client id
   * (null: the default). Each broker enforces them on its own traffic.
   * `validateOnly`: checked, nothing changed.
   */
  alterClientQuotas(alterations: readonly ClientQuotaAlteration[], opts?: { validateOnly?: boolean }): Promise<void>;
  /** Client quotas of the entities matching `filter` (a part given: that name, null: the default; left out: any). */
  describeClientQuotas(filter?: ClientQuotaEntity & { strict?: boolean }): Promise<ClientQuotaDescription[]>;
  /**
   * Every consumer group of the cluster: each live broker is asked for the
   * groups it coordinates and the answers are merged, sorted by group id.
   * `states` keeps only groups in those states.
   */
  listGroups(opts?: { states?: readonly string[] }): Promise<GroupListing[]>;
  /** State, members and their assignments, in the order asked; GROUP_ID_NOT_FOUND for a group that does not exist. */
  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]>;
  /**
   * Share groups (queues): configuration, members and, per partition, where
   * the records stand (in flight, acquired, available, delayed, accepted,
   * rejected, the oldest unsettled); GROUP_ID_NOT_FOUND for a group that
   * does not exist, INCONSISTENT_GROUP_PROTOCOL for a consumer group's id.
   */
  describeShareGroups(groupIds: readonly string[]): Promise<ShareGroupDescription[]>;
  /** The group's committed offsets (of every partition, or of `topics`), sorted. */
  listGroupOffsets(groupId: string, opts?: { topics?: readonly string[] }): Promise<CommittedOffset[]>;
  /** The lag (records and seconds) of each partition from a position (null: none; counted from the log start). */
  lag(positions: readonly { topic: string; partition: number; position: number | null }[]): Promise<PartitionLag[]>;
  /**
   * A group with the lag of every partition it has an offset for or assigns
   * (from its committed offsets), and the member owning each.
   */
  groupLag(groupId: string): Promise<{ description: GroupDescription; partitions: GroupPartitionLag[] }>;
  /**
   * Plans moving the group's committed offsets of `topics` (every partition
   * of each, or those listed) by `spec`, and with `execute` commits them as
   * a tool (no member): refused with NON_EMPTY_GROUP while the group has
   * members. Without `execute` nothing changes. `topics` 'all': every topic
   * the group has offsets for.
   */
  resetGroupOffsets(groupId: string, opts: { topics: readonly { topic: string; partitions?: readonly number[] }[] | 'all'; spec: OffsetResetSpec; execute?: boolean }): Promise<OffsetResetResult>;
  /** Deletes groups without members, with their offsets; one outcome per group (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP). */
  deleteGroups(groupIds: readonly string[]): Promise<GroupOutcome[]>;
}

/** A partition to move to `replicas` (preferred leader first), or null to cancel its move. */
export interface PartitionMove {
  topic: string;
  partition: number;
  replicas: number[] | null;
}

/** One partition's result: `error` null on success, else the error's name (ELECTION_NOT_NEEDED, INVALID_REPLICA_ASSIGNMENT, ...) and the broker's message. */
export interface PartitionOutcome {
  topic: string;
  partition: number;
  error: { name: string; message: string } | null;
}

/** A move in progress: `replicas` holds the targets and the replicas being removed. */
export interface OngoingReassignment {
  topic: string;
  partition: number;
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
  isr: number[];
  leader: number;
  /** With `progress`: each replica's log end offset (by broker id; null: that broker did not answer). */
  logEndOffsets?: Record<number, number | null>;
}

export type { CommittedOffset, GroupDescription, GroupListing, GroupMemberDescription, GroupOutcome, GroupPartitionLag, GroupTopicPartition, OffsetResetPlanEntry, OffsetResetResult, OffsetResetSpec, PartitionLag } from './admin/group-types.js';

export type { Queue, QueueConfig, QueueMessage, QueueOptions, QueueOrdering, QueueSendMessage, ReceiveOptions } from './queue/queue-types.js';
export type { ShareGroupDescription, ShareGroupMemberDescription, SharePartitionDescription } from './admin/share-groups.js';
