/**
 * Broker settings: one table of every setting (name, default, doc, parser),
 * from which the typed `BrokerConfig` is built. The table is exported so the
 * README and `runnel start --help` print the same reference the broker
 * enforces.
 *
 * Values arrive as strings from layers, lowest precedence first (defaults <
 * config file < RUNNEL_* environment < flags; see `config-sources.ts`). An
 * unknown name or a value that does not parse is refused with the setting's
 * name, where it came from, and why: a broker that silently ignores a typo in
 * `retention.ms` loses data on a schedule nobody chose.
 *
 * Topic settings have broker-wide defaults under the prefix `log.`: the
 * broker setting `log.<name>` is the default of the topic setting `<name>`
 * (e.g. `log.retention.ms` for `retention.ms`), for every topic that does not
 * set it itself.
 */
import { splitAddress } from './cluster/address.js';
import { isEtcdAddress, parseEtcdAddress } from './metadata/etcd-address.js';
import { ConfigError, TOPIC_CONFIG_DEFS } from './storage/log-config.js';
import type { ShareSettings } from './share/settings.js';
import { isScramMechanism, SCRAM_MECHANISMS, type ScramMechanism } from '../client/security/scram.js';
import { parseAdvertisedListeners, parseListeners, parseProtocolMap, usesSasl, usesTls, type ListenerSpec } from './security/listeners.js';
import { advertisedEndpointOf, type Advertising } from './security/endpoints.js';

export class BrokerConfigError extends Error {
  override name = 'BrokerConfigError';
  constructor(readonly problems: readonly string[]) {
    super(problems.length === 1 ? `invalid broker configuration: ${problems[0]}` : `invalid broker configuration:\n  ${problems.join('\n  ')}`);
  }
}

export interface BrokerConfig {
  nodeId: number;
  host: string;
  port: number;
  /** The host clients are told to connect to on the inter-broker listener (Metadata, the registration); never a wildcard address. */
  advertisedHost: string;
  /** What clients are told for each listener (advertised.listeners, advertised.host): security/endpoints.ts. */
  advertising: Advertising;
  /**
   * Every listener (broker/security/listeners.ts); `host`/`port` above are
   * the inter-broker listener's, which the broker registers with.
   */
  listeners: ListenerSpec[];
  /** The listener other brokers (followers, the controller's clients) use to reach this one. */
  interBrokerListenerName: string;
  /** PEM files for SSL and SASL_SSL listeners (and this broker's own TLS connections to others). */
  tls: { certFile: string; keyFile: string; caFile: string; clientAuth: TlsClientAuth };
  /** SASL mechanisms the SASL listeners enable. */
  saslMechanisms: ScramMechanism[];
  /** How this broker authenticates to others over a SASL inter-broker listener; null: it does not. */
  interBrokerSasl: { mechanism: ScramMechanism; username: string; passwordFile: string } | null;
  /** ACL authorization (broker/acl/): off, everything is allowed; on, what the ACLs and super users allow. */
  authorizer: { enabled: boolean; superUsers: string[]; allowEveryoneIfNoAclFound: boolean };
  dataDir: string;
  maxRequestBytes: number;
  queuedMaxRequests: number;
  maxUnflushedResponseBytes: number;
  /** Bytes of rolled segments held in memory until the disk catches up, for the whole broker and per partition (storage/pending-budget.ts). */
  pendingSegmentBytesMax: number;
  pendingSegmentBytesMaxPerPartition: number;
  fetchMaxBytes: number;
  replicaLagTimeMaxMs: number;
  replicaHighWatermarkCheckpointIntervalMs: number;
  /** Idempotent producers silent this long are forgotten, checked every `producerIdExpirationCheckIntervalMs` (storage/producer-state.ts). */
  producerIdExpirationMs: number;
  producerIdExpirationCheckIntervalMs: number;
  replicaFetchMaxBytes: number;
  replicaFetchWaitMaxMs: number;
  connectionsMaxIdleMs: number;
  /** -1: derived from the file-descriptor limit at start-up (descriptor-budget.ts). */
  maxConnections: number;
  /** -1: no limit per address. */
  maxConnectionsPerIp: number;
  /** Per-address exceptions to maxConnectionsPerIp (`max.connections.per.ip.overrides`). */
  maxConnectionsPerIpOverrides: ReadonlyMap<string, number>;
  /** New connections per second per address; 0: no limit. */
  maxConnectionCreationRate: number;
  adminReservedConnections: number;
  autoCreateTopics: boolean;
  numPartitions: number;
  maxPartitionsPerTopic: number;
  logRetentionCheckIntervalMs: number;
  shutdownTimeoutMs: number;
  loggerLevel: LoggerLevel;
  loggerFormat: LoggerFormat;
  /** Broker-wide topic defaults set with `log.<name>`, keyed by the topic setting's name (only those set). */
  topicDefaults: Record<string, string>;
  /** A broker of a cluster: its controller's HOST:PORT; empty: the embedded controller in this process. */
  controllerAddress: string;
  /** With the controller on etcd: each candidate's etcd lease. */
  controllerLeaseMs: number;
  /** With the controller on etcd: the cluster's key prefix and the TLS files (empty: none). */
  etcd: { prefix: string; caFile: string; certFile: string; keyFile: string };
  /** Encryption at rest: the keyring file, or the keyring text (at most one is set; storage/encryption/keys-from-config.ts). */
  encryption: { keyFile: string; keys: string; cacheBytes: number };
  /** The rack of this broker, for rack-aware replica placement; null: none. */
  brokerRack: string | null;
  /** The controller fences a broker not heard from for this long (and moves its leaderships). */
  brokerSessionTimeoutMs: number;
  brokerSessionDisconnectTimeoutMs: number;
  controlledShutdownTimeoutMs: number;
  /** How often a broker heartbeats to its controller. */
  brokerHeartbeatIntervalMs: number;
  /** The controller moves leadership back to preferred replicas on its own (controller/preferred-leader.ts). */
  autoLeaderRebalanceEnable: boolean;
  leaderImbalanceCheckIntervalSeconds: number;
  leaderImbalancePerBrokerPercentage: number;
  /** Consumer groups: the coordinator and `__consumer_offsets` (broker/coordinator/, docs/OPERATIONS.md). */
  groups: GroupSettings;
  /** Share groups (queues): the coordinator's share-group settings (broker/share/, docs/OPERATIONS.md). */
  share: ShareSettings;
  /** Where `/metrics` and `/health` are served (broker/metrics/); null: not served. */
  metricsListen: { host: string; port: number } | null;
  /** The fraction of requests logged, one line each (broker/metrics/request-log.ts); 0: none. */
  requestLogSampleRate: number;
  /** Usage metering for billing (broker/metering/, docs/OPERATIONS.md); null: off. */
  usage: UsageSettings | null;
  /** Every setting's raw value, and whether a layer set it (false: the default), for DescribeConfigs. */
  settings: Readonly<Record<string, { value: string; explicit: boolean }>>;
}

export interface UsageSettings {
  flushIntervalMs: number;
  retentionMs: number;
  replicationFactor: number;
}

export interface GroupSettings {
  offsetsTopicPartitions: number;
  offsetsTopicReplicationFactor: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  maxSize: number;
  assignors: string[];
  offsetsRetentionMinutes: number;
  offsetMetadataMaxBytes: number;
}

export const TLS_CLIENT_AUTH = ['none', 'requested', 'required'] as const;
export type TlsClientAuth = (typeof TLS_CLIENT_AUTH)[number];

export const LOGGER_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LoggerLevel = (typeof LOGGER_LEVELS)[number];
export const LOGGER_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LoggerFormat = (typeof LOGGER_FORMATS)[number];

/** One broker setting, as documented and enforced. */
export interface BrokerSettingDef {
  readonly name: string;
  readonly defaultValue: string;
  readonly doc: string;
  /** Throws an Error whose message says what a valid value looks like. */
  parse(raw: string): unknown;
  /** A secret: DescribeConfigs answers it with no value (Kafka's sensitive configs). */
  readonly sensitive?: boolean;
}

/** The prefix that turns a topic setting into its broker-wide default. */
export const TOPIC_DEFAULT_PREFIX = 'log.';

const MiB = 1024 * 1024;

function int(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const trimmed = raw.trim();
    if (!/^-?\d+$/.test(trimmed)) throw new Error(`must be an integer, got "${raw}"`);
    const value = Number(trimmed);
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new Error(`must be between ${min} and ${max}, got ${trimmed}`);
    return value;
  };
}

/** A positive limit, or -1 for "none" / "derived" (0 would refuse everything: never what anyone means). */
function limitOrMinusOne(max: number): (raw: string) => number {
  const parse = int(-1, max);
  return (raw) => {
    const value = parse(raw);
    if (value === 0) throw new Error(`must be -1 or between 1 and ${max}, got 0`);
    return value;
  };
}

/** `host:count,...` (the count after the last colon, so an IPv6 host keeps its colons); a host named twice is refused. */
function parseConnectionOverrides(raw: string): ReadonlyMap<string, number> {
  const overrides = new Map<string, number>();
  const count = limitOrMinusOne(INT32_MAX);
  for (const item of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const colon = item.lastIndexOf(':');
    if (colon <= 0) throw new Error(`"${item}" is not HOST:COUNT`);
    const host = item.slice(0, colon).trim();
    if (overrides.has(host)) throw new Error(`${host} is named twice`);
    try {
      overrides.set(host, count(item.slice(colon + 1)));
    } catch (error) {
      throw new Error(`the count for ${host} ${(error as Error).message}`);
    }
  }
  return overrides;
}

function bool(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error(`must be true or false, got "${raw}"`);
}

/** `User:a;User:b` (Kafka's separator: a principal may hold a comma). */
function parseSuperUsers(raw: string): string[] {
  const principals = raw.split(';').map((p) => p.trim()).filter((p) => p !== '');
  for (const p of principals) if (!/^User:.+$/.test(p)) throw new Error(`"${p}" is not a principal: User:<name>, separated by ;`);
  return principals;
}

function nonEmpty(raw: string): string {
  const value = raw.trim();
  if (value === '') throw new Error('must not be empty');
  return value;
}

function oneOf<T extends string>(values: readonly T[]): (raw: string) => T {
  return (raw) => {
    const value = raw.trim() as T;
    if (!values.includes(value)) throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
    return value;
  };
}

const INT32_MAX = 0x7fffffff;

/** HOST:PORT where port 0 lets the OS pick (the log line says which), or empty for off. */
function listenAddress(raw: string): { host: string; port: number } | null {
  const value = raw.trim();
  if (value === '') return null;
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port > 65_535) throw new Error(`must be HOST:PORT (for example 127.0.0.1:9404) or empty, got "${raw}"`);
  return { host: match[1] ?? match[2]!, port };
}

function fraction(raw: string): number {
  const value = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) throw new Error(`must be a number from 0 to 1, got "${raw}"`);
  return value;
}

/** Settings that belong to the broker itself (topic defaults are added from the storage table below). */
const BROKER_SETTINGS: readonly BrokerSettingDef[] = [
  { name: 'node.id', defaultValue: '0', doc: 'This broker\'s id, as clients see it in Metadata.', parse: int(0, INT32_MAX) },
  { name: 'controller.address', defaultValue: '', doc: 'HOST:PORT of the controller of the cluster this broker belongs to (`runnel broker --controller`), or `etcd://HOST:PORT[,HOST:PORT...]` (`etcds://` for TLS): the metadata lives in etcd and every broker is a controller candidate (the HA controller). Empty: the broker runs its own controller in the same process (`runnel start`).', parse: (raw) => (raw.trim() === '' ? '' : isEtcdAddress(raw) ? (parseEtcdAddress(raw), raw.trim()) : (splitAddress(raw), raw.trim())) },
  { name: 'controller.lease.ms', defaultValue: '6000', doc: 'With the controller on etcd: the etcd lease of each controller candidate (rounded up to whole seconds, etcd\'s unit). The active controller that cannot renew it within this long steps down, and another broker takes over. Keep it below broker.session.timeout.ms, so a takeover completes before brokers\' write leases run out.', parse: int(1000, INT32_MAX) },
  { name: 'controller.etcd.prefix', defaultValue: '/runnel/default/', doc: 'With the controller on etcd: the key prefix of this cluster\'s metadata and election (one prefix per cluster sharing an etcd); ends with /.', parse: (raw) => { const value = raw.trim(); if (!value.startsWith('/') || !value.endsWith('/')) throw new Error(`must start and end with /, got "${raw}"`); return value; } },
  { name: 'controller.etcd.ca.file', defaultValue: '', doc: 'With `etcds://`: the CA certificate (PEM) that signed the etcd servers\' certificates. Empty: the system\'s CAs.', parse: (raw) => raw.trim() },
  { name: 'controller.etcd.cert.file', defaultValue: '', doc: 'With `etcds://`: this broker\'s client certificate (PEM) for etcd\'s --client-cert-auth; set with controller.etcd.key.file.', parse: (raw) => raw.trim() },
  { name: 'controller.etcd.key.file', defaultValue: '', doc: 'With `etcds://`: the private key (PEM) of controller.etcd.cert.file.', parse: (raw) => raw.trim() },
  { name: 'broker.rack', defaultValue: '', doc: 'The rack (or zone) of this broker; replicas of a partition are spread across racks first. Empty: no rack.', parse: (raw) => raw.trim() },
  { name: 'broker.session.timeout.ms', defaultValue: '9000', doc: 'The controller fences a broker that has not heartbeated for this long: its partitions get new leaders and it leaves their in-sync replica sets.', parse: int(100, INT32_MAX) },
  { name: 'broker.session.disconnect.timeout.ms', defaultValue: '3000', doc: 'When a broker\'s connection to the controller closes (a killed process\'s sockets close at once), the controller fences it after this long unless it heartbeats again over a new connection; a paused or cut-off broker still takes broker.session.timeout.ms. Keep it above broker.heartbeat.interval.ms. 0: only the session timeout.', parse: int(0, INT32_MAX) },
  { name: 'controlled.shutdown.timeout.ms', defaultValue: '15000', doc: 'On SIGTERM a broker of a cluster first asks its controller to move its leaderships and take it out of every ISR, and waits up to this long for that (Kafka\'s controlled shutdown), so its partitions change leader at once instead of after a session timeout. 0: stop without asking.', parse: int(0, INT32_MAX) },
  { name: 'broker.heartbeat.interval.ms', defaultValue: '2000', doc: 'How often a broker heartbeats to its controller; keep it well below broker.session.timeout.ms.', parse: int(10, INT32_MAX) },
  { name: 'auto.leader.rebalance.enable', defaultValue: 'true', doc: 'The controller moves leadership back to each partition\'s preferred replica (the first of its replicas) when that broker is live and in the ISR, checking every leader.imbalance.check.interval.seconds, so leaders stay spread after a broker returns. Partitions being reassigned are left alone. `runnel partitions elect-preferred` does it on demand.', parse: bool },
  { name: 'leader.imbalance.check.interval.seconds', defaultValue: '300', doc: 'How often the controller checks leadership balance (with auto.leader.rebalance.enable).', parse: int(1, INT32_MAX) },
  { name: 'leader.imbalance.per.broker.percentage', defaultValue: '10', doc: 'A broker whose share of the partitions it is the preferred leader of, but does not lead, is above this percentage gets them back (with auto.leader.rebalance.enable).', parse: int(0, 100) },
  // Few partitions by default: every broker that coordinates keeps a log per partition it hosts, and the many small clusters of tests and development start fast; a large cluster raises it (Kafka: 50) before the first group.
  { name: 'offsets.topic.num.partitions', defaultValue: '5', doc: 'Partitions of the internal topic __consumer_offsets, created on the first FindCoordinator; a group lives on partition abs(hash(group id)) % this, whose leader is its coordinator. Fixed once the topic exists: raise it before the first consumer group on a cluster with many groups (Kafka\'s default is 50).', parse: int(1, 1000) },
  { name: 'offsets.topic.replication.factor', defaultValue: '3', doc: 'Replicas of each __consumer_offsets partition, capped at the brokers registered when the topic is created.', parse: int(1, 100) },
  { name: 'group.consumer.session.timeout.ms', defaultValue: '45000', doc: 'A group member that has not heartbeated for this long is removed from its group and its partitions are given to the others.', parse: int(1, INT32_MAX) },
  { name: 'group.consumer.heartbeat.interval.ms', defaultValue: '500', doc: 'How often settled group members heartbeat (the coordinator tells them; members still converging come five times as often). It bounds how soon a member learns it must give a partition to a newcomer: Kafka\'s 5000 makes a newcomer wait up to 6 s; keep it well below group.consumer.session.timeout.ms.', parse: int(1, INT32_MAX) },
  { name: 'group.consumer.min.session.timeout.ms', defaultValue: '45000', doc: 'Lowest group.consumer.session.timeout.ms accepted (lower it together with the session timeout, e.g. for tests).', parse: int(1, INT32_MAX) },
  { name: 'group.consumer.max.session.timeout.ms', defaultValue: '60000', doc: 'Highest group.consumer.session.timeout.ms accepted.', parse: int(1, INT32_MAX) },
  { name: 'group.consumer.max.size', defaultValue: '2147483647', doc: 'Most members one consumer group may have; a member joining past it gets GROUP_MAX_SIZE_REACHED.', parse: int(1, INT32_MAX) },
  { name: 'group.consumer.assignors', defaultValue: 'uniform,range', doc: 'The server-side assignors members may ask for, comma-separated; the first is the default. uniform: even and sticky (partitions move only when balance needs it); range: contiguous ranges per topic.', parse: (raw) => { const names = raw.split(',').map((n) => n.trim()).filter((n) => n !== ''); if (names.length === 0) throw new Error('must name at least one assignor'); for (const n of names) if (n !== 'uniform' && n !== 'range') throw new Error(`unknown assignor "${n}": uniform or range`); return names; } },
  { name: 'group.share.record.lock.duration.ms', defaultValue: '30000', doc: 'The default visibility timeout of a share group (a queue): how long a record handed to a member stays locked to it before it is delivered again. A group created with its own visibilityTimeoutMs keeps that.', parse: int(1, 24 * 3600_000) },
  { name: 'group.share.delivery.count.limit', defaultValue: '5', doc: 'The default max delivery attempts of a share group: a record delivered this many times and then released, or whose lock expires, is rejected (and copied to the group\'s dead-letter topic when it has one).', parse: int(1, 1000) },
  { name: 'group.share.session.timeout.ms', defaultValue: '45000', doc: 'A share-group member that has not heartbeated for this long is removed, and the records it held are released at once (their delivery counts kept).', parse: int(1, INT32_MAX) },
  { name: 'group.share.heartbeat.interval.ms', defaultValue: '5000', doc: 'How often share-group members heartbeat (the coordinator tells them); keep it well below group.share.session.timeout.ms.', parse: int(1, INT32_MAX) },
  { name: 'group.share.max.size', defaultValue: '200', doc: 'Most members one share group may have; a member joining past it gets GROUP_MAX_SIZE_REACHED.', parse: int(1, INT32_MAX) },
  { name: 'group.share.max.in.flight.records', defaultValue: '20000', doc: 'Most offsets the in-flight window of one partition of one share group spans (Kafka\'s group.share.partition.max.record.locks): records past it are not handed out until the oldest are settled. The coordinator keeps every record of the window in memory and in __consumer_offsets; 20000 covers 100 ms of records at 200,000 records/s, the time a record spends between its fetch and its batched acknowledgement.', parse: int(1, 10_000_000) },
  { name: 'group.share.max.delayed.records', defaultValue: '100000', doc: 'Most delayed records (a future runnel.deliver.at, or released with a delay) one partition of one share group parks outside its in-flight window, so a record delayed for days does not hold the window back; past it, delayed records stay in the window.', parse: int(0, 10_000_000) },
  { name: 'offsets.retention.minutes', defaultValue: String(7 * 24 * 60), doc: 'Committed offsets of a group with no members are deleted this long after the later of their commit and the moment the group became empty (the group too, once it has no offsets).', parse: int(1, INT32_MAX) },
  { name: 'offset.metadata.max.bytes', defaultValue: '4096', doc: 'Longest metadata string (UTF-8 bytes) committed with an offset; a longer one gets OFFSET_METADATA_TOO_LARGE.', parse: int(0, INT32_MAX) },
  { name: 'host', defaultValue: '127.0.0.1', doc: 'Address to listen on; 0.0.0.0 listens on every interface.', parse: nonEmpty },
  { name: 'port', defaultValue: '9092', doc: 'TCP port to listen on; 0 lets the OS pick (the start-up line prints the real one).', parse: int(0, 65535) },
  { name: 'listeners', defaultValue: '', doc: 'Listeners, comma-separated NAME://HOST:PORT (Kafka\'s shape), e.g. `PLAINTEXT://127.0.0.1:9092,SASL_SSL://0.0.0.0:9093`. The name is the security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL) unless listener.security.protocol.map maps it. Clients are told, in Metadata, the endpoints of the listener they connected through. Empty: one PLAINTEXT listener at host:port (set one or the other).', parse: (raw) => (raw.trim() === '' ? [] : parseListeners(raw, new Map(), { syntaxOnly: true })) },
  { name: 'listener.security.protocol.map', defaultValue: '', doc: 'NAME:PROTOCOL pairs, comma-separated, for listeners not named after their protocol (e.g. `INTERNAL:SASL_SSL,EXTERNAL:SSL`).', parse: parseProtocolMap },
  { name: 'inter.broker.listener.name', defaultValue: '', doc: 'The listener brokers use among themselves (follower fetches, controller requests, share-group reads): every broker of a cluster must have one of this name. The broker registers with its endpoint. Empty: the first listener.', parse: (raw) => raw.trim().toUpperCase() },
  { name: 'tls.cert.file', defaultValue: '', doc: 'This broker\'s certificate chain (PEM), for SSL and SASL_SSL listeners, and as its client certificate when it connects to other brokers over TLS.', parse: (raw) => raw.trim() },
  { name: 'tls.key.file', defaultValue: '', doc: 'The private key (PEM) of tls.cert.file.', parse: (raw) => raw.trim() },
  { name: 'tls.ca.file', defaultValue: '', doc: 'CA certificates (PEM) that client certificates must chain to (tls.client.auth), and that other brokers\' certificates must chain to. Empty: the system\'s CAs.', parse: (raw) => raw.trim() },
  { name: 'tls.client.auth', defaultValue: 'none', doc: 'Client certificates on SSL listeners (mutual TLS): none; requested (checked when sent); required (a connection without a valid one is refused). A verified certificate makes the principal `User:<CN of its subject>`; without one it is User:ANONYMOUS. On SASL_SSL the SASL user is the principal.', parse: oneOf(TLS_CLIENT_AUTH) },
  { name: 'sasl.enabled.mechanisms', defaultValue: SCRAM_MECHANISMS.join(','), doc: 'SASL mechanisms the SASL listeners offer, comma-separated: SCRAM-SHA-256, SCRAM-SHA-512.', parse: (raw) => { const names = raw.split(',').map((n) => n.trim().toUpperCase()).filter((n) => n !== ''); if (names.length === 0) throw new Error('must name at least one mechanism'); for (const n of names) if (!isScramMechanism(n)) throw new Error(`unknown mechanism "${n}": ${SCRAM_MECHANISMS.join(' or ')}`); return names; } },
  { name: 'inter.broker.sasl.mechanism', defaultValue: 'SCRAM-SHA-512', doc: 'The mechanism this broker authenticates to other brokers with, when the inter-broker listener uses SASL.', parse: (raw) => { const n = raw.trim().toUpperCase(); if (!isScramMechanism(n)) throw new Error(`must be ${SCRAM_MECHANISMS.join(' or ')}, got "${raw}"`); return n; } },
  { name: 'inter.broker.sasl.username', defaultValue: '', doc: 'The SCRAM user this broker authenticates to other brokers as, when the inter-broker listener uses SASL (create it with `runnel users create` first).', parse: (raw) => raw.trim() },
  { name: 'inter.broker.sasl.password.file', defaultValue: '', doc: 'A file holding that user\'s password (its first line), so the password is in no config dump or process list.', parse: (raw) => raw.trim() },
  { name: 'authorizer.enabled', defaultValue: 'false', doc: 'Checks every request against the ACLs (`runnel acl add`): with it on, a principal may do only what an ACL allows it (deny wins over allow) or what super.users allows. Off: every request is allowed, as without ACLs. Brokers reach each other as the inter-broker principal, which must be a super user.', parse: bool },
  { name: 'super.users', defaultValue: '', doc: 'Principals allowed everything when authorizer.enabled, semicolon-separated as Kafka\'s: `User:admin;User:broker`. The inter-broker principal (inter.broker.sasl.username, or the CN of the broker\'s certificate on SSL) must be one.', parse: parseSuperUsers },
  { name: 'allow.everyone.if.no.acl.found', defaultValue: 'false', doc: 'With authorizer.enabled, a resource no ACL names at all is open to every principal (Kafka\'s setting, for enabling ACLs one resource at a time). Default: denied.', parse: bool },
  { name: 'advertised.host', defaultValue: '', doc: 'Host name clients are told to connect to, for every listener advertised.listeners does not name (with the port it is bound to); empty means the listener\'s own host, or 127.0.0.1 when that is a wildcard.', parse: (raw) => raw.trim() },
  { name: 'advertised.listeners', defaultValue: '', doc: 'What clients are told to connect to for some listeners, comma-separated NAME://HOST:PORT (Kafka\'s setting), when that is not where the broker listens: behind NAT, in a container with a mapped port, behind a load balancer; e.g. `listeners=INTERNAL://0.0.0.0:9092,EXTERNAL://0.0.0.0:9093` with `advertised.listeners=INTERNAL://broker1.internal:9092,EXTERNAL://broker1.example.com:19093`. Each NAME must be one of listeners; no wildcard host, no port 0. A client is told the endpoint of the listener it connected through; for the inter-broker listener this is also what the broker registers, so other brokers must reach it there. Listeners it does not name: advertised.host (or their own host) and their bound port.', parse: parseAdvertisedListeners },
  { name: 'data.dir', defaultValue: './data', doc: 'Directory for partition logs and topic metadata (created if missing).', parse: nonEmpty },
  { name: 'max.request.bytes', defaultValue: String(100 * MiB), doc: 'Largest request frame accepted; a bigger length prefix closes the connection before any of the body is read.', parse: int(1024, INT32_MAX) },
  { name: 'queued.max.requests', defaultValue: '500', doc: 'Requests one connection may have in flight; past it the broker stops reading that connection until some complete.', parse: int(1, 100_000) },
  { name: 'max.unflushed.response.bytes', defaultValue: String(16 * MiB), doc: 'Response bytes one connection may have waiting for the client to read; past it the broker stops reading that connection.', parse: int(64 * 1024, INT32_MAX) },
  { name: 'pending.segment.bytes.max', defaultValue: String(512 * MiB), doc: 'Bytes of newly rolled segments the broker may hold in memory, all partitions together, while the disk makes the segment before each one durable (a segment file is written only after the one before it is fsynced). Past it, produce requests to a partition holding such bytes wait for the disk: acks=0 as long as it takes, acks=1/all up to their timeout, then REQUEST_TIMED_OUT with nothing appended.', parse: int(MiB, Number.MAX_SAFE_INTEGER) },
  { name: 'pending.segment.bytes.max.per.partition', defaultValue: String(64 * MiB), doc: 'The same limit for one partition: past it, produce requests to that partition wait for its disk.', parse: int(MiB, Number.MAX_SAFE_INTEGER) },
  { name: 'fetch.max.bytes', defaultValue: String(55 * MiB), doc: 'Most record bytes one Fetch response carries, whatever the consumer asks for (at least one batch is always sent).', parse: int(1024, INT32_MAX) },
  { name: 'replica.lag.time.max.ms', defaultValue: '10000', doc: 'A follower that has not caught up with its leader\'s log end for this long leaves the ISR (the leader asks the controller); it joins again once it reaches the high watermark.', parse: int(1, INT32_MAX) },
  { name: 'replica.high.watermark.checkpoint.interval.ms', defaultValue: '5000', doc: 'How often a broker writes the high watermarks of the partitions it hosts to `replication-offset-checkpoint` in its data directory (also at clean shutdown). A restarted replica starts from there, so it never shows consumers records its ISR had not confirmed.', parse: int(100, INT32_MAX) },
  { name: 'producer.id.expiration.ms', defaultValue: '86400000', doc: 'A partition forgets an idempotent producer whose newest batch timestamp is this old (Kafka\'s setting and default, one day), so its producer state does not grow with every producer that ever wrote to it. A forgotten producer that sends again is taken at any sequence: a retry of a batch from before it was forgotten would be appended twice, so keep it well above the longest time a producer may sit idle between a send and its retry.', parse: int(1, Number.MAX_SAFE_INTEGER) },
  { name: 'producer.id.expiration.check.interval.ms', defaultValue: '600000', doc: 'How often each partition checks for producers to forget (producer.id.expiration.ms).', parse: int(1, INT32_MAX) },
  { name: 'replica.fetch.max.bytes', defaultValue: String(10 * MiB), doc: 'Most record bytes one follower fetch asks its leader for, all partitions together (per partition: a tenth of it, at least 1 MiB): with one fetch in flight per leader, what a follower holds in memory for replication.', parse: int(1024, INT32_MAX) },
  { name: 'replica.fetch.wait.max.ms', defaultValue: '500', doc: 'How long a follower\'s fetch waits at the leader for new records before it is answered empty (a long poll).', parse: int(1, INT32_MAX) },
  { name: 'connections.max.idle.ms', defaultValue: String(10 * 60_000), doc: 'Close a connection that has sent nothing and has nothing in flight for this long; -1 never.', parse: int(-1, INT32_MAX) },
  { name: 'max.connections', defaultValue: '-1', doc: 'Most client connections open at once; a connection past it is closed as soon as it is accepted (the client retries). -1: a quarter of the file descriptors that `ulimit -n` leaves once the broker\'s own are counted (the start-up log says how many).', parse: limitOrMinusOne(INT32_MAX) },
  { name: 'max.connections.per.ip', defaultValue: '-1', doc: 'Most connections open at once from one client address; past it a new one from that address is closed at once. -1: no limit per address.', parse: limitOrMinusOne(INT32_MAX) },
  { name: 'max.connections.per.ip.overrides', defaultValue: '', doc: 'Per-address exceptions to max.connections.per.ip, comma-separated HOST:COUNT (e.g. `127.0.0.1:200,10.1.2.3:5`; the host as the broker sees the client\'s address; the count after the last colon, so IPv6 works; -1: no limit for that address).', parse: parseConnectionOverrides },
  { name: 'max.connection.creation.rate', defaultValue: '0', doc: 'New connections per second accepted from one client address (a burst of one second\'s worth); past it a new connection is closed at once, so a client reconnecting in a loop cannot spend the broker\'s CPU on handshakes. Established connections are untouched. 0: no limit.', parse: int(0, INT32_MAX) },
  { name: 'admin.reserved.connections', defaultValue: '2', doc: 'Connections from a loopback address (127.0.0.0/8, ::1) accepted beyond max.connections, so an operator on the broker\'s machine can still connect when clients hold every other one. Not beyond max.connections.per.ip.', parse: int(0, 1000) },
  { name: 'auto.create.topics', defaultValue: 'false', doc: 'Create a topic (with num.partitions partitions) when a producer or a Metadata request names one that does not exist.', parse: bool },
  { name: 'num.partitions', defaultValue: '1', doc: 'Partitions of a topic created without a count (auto-created, or created with partitions -1).', parse: int(1, 100_000) },
  { name: 'max.partitions.per.topic', defaultValue: '1000', doc: 'Most partitions one topic may have; a creation asking for more is refused with INVALID_PARTITIONS, never cut down.', parse: int(1, 100_000) },
  { name: 'log.retention.check.interval.ms', defaultValue: String(5 * 60_000), doc: 'How often retention (retention.ms, retention.bytes) is applied to every partition.', parse: int(1, INT32_MAX) },
  { name: 'shutdown.timeout.ms', defaultValue: '30000', doc: 'Longest a clean shutdown waits for in-flight requests before closing the logs anyway.', parse: int(0, INT32_MAX) },
  { name: 'encryption.key.file', defaultValue: '', doc: 'Keyring file for encryption at rest (topics with encryption.enabled): `ID=BASE64` entries, one a line, each key 32 random bytes in base64 (`openssl rand -base64 32`); the last entry is the current key, older ones stay to read what was written under them. Read once at start. Keep it readable by the broker\'s user only, and out of the data directory and its backups.', parse: (raw) => raw.trim() },
  { name: 'encryption.keys', defaultValue: '', doc: 'The keyring itself instead of a file, entries separated by commas (`k1=BASE64,k2=BASE64`, the last current): meant for the environment (RUNNEL_ENCRYPTION_KEYS) or a secret store, never a config file others read. Not with encryption.key.file. DescribeConfigs never shows it.', parse: (raw) => raw.trim(), sensitive: true },
  { name: 'encryption.cache.bytes', defaultValue: String(128 * MiB), doc: 'Memory for the plaintext of encrypted topics\' newest batches, all partitions together: a leader keeps a copy of what it appends, so consumers and followers reading a partition\'s tail get it without decrypting (the oldest go first; a partition whose appends leave it unread stops being kept until a reader comes for its tail). Reads of older records decrypt them from disk. The plaintext of recent records is then in the broker\'s memory, as it is anyway while requests are handled; on a host that swaps it could reach a disk: run brokers without swap, or set 0 (every read decrypts).', parse: int(0, Number.MAX_SAFE_INTEGER) },
  { name: 'logger.level', defaultValue: 'info', doc: `Broker log verbosity: ${LOGGER_LEVELS.join(', ')}.`, parse: oneOf(LOGGER_LEVELS) },
  { name: 'metrics.listen', defaultValue: '', doc: 'HOST:PORT of the HTTP listener serving `/metrics` (Prometheus text format) and `/health` (200 with a JSON while the broker serves; 503 with the reasons while it is starting, shutting down, fenced, or its disk failed: for load balancers). Port 0 lets the OS pick (the log line `metricsListening` says which). Empty: off. Bind it to an address only your monitoring reaches: it has no authentication.', parse: listenAddress },
  { name: 'usage.enable', defaultValue: 'true', doc: 'Usage metering, for billing: bytes and records in and out and requests, per principal and topic, per minute, written to the internal topic __usage (read it with `runnel usage`). false: nothing is counted or written.', parse: bool },
  { name: 'usage.flush.interval.ms', defaultValue: '60000', doc: 'How often this broker writes its usage counts to __usage (each minute counted in since the last write, the open one as it stands). A crash loses what was counted since the last write.', parse: int(100, INT32_MAX) },
  { name: 'usage.retention.ms', defaultValue: String(30 * 24 * 3600_000), doc: 'How long __usage keeps usage records (its retention.ms, set when the broker creates it; change it later with `runnel topic alter-config __usage`). Bill from it, or export it, within this time.', parse: int(60_000, Number.MAX_SAFE_INTEGER) },
  { name: 'usage.topic.replication.factor', defaultValue: '3', doc: 'Replicas of the __usage partition, capped at the live brokers when the topic is created.', parse: int(1, 100) },
  { name: 'request.log.sample.rate', defaultValue: '0', doc: 'The fraction of requests logged (0 to 1), one JSON line each (event `request`): API, version, principal, client id, topics, latency, error. 1 logs every request, for debugging a client; 0: none.', parse: fraction },
  { name: 'logger.format', defaultValue: 'auto', doc: 'Broker log lines: json (one object a line, for machines), pretty (time, level, sentence, fields, for people), or auto (pretty when stdout is a terminal, else json).', parse: oneOf(LOGGER_FORMATS) },
];

/** Every broker setting: the broker's own, then `log.<topic setting>` for each topic setting. */
export const BROKER_SETTING_DEFS: readonly BrokerSettingDef[] = [
  ...BROKER_SETTINGS,
  ...TOPIC_CONFIG_DEFS.map((def) => ({
    name: `${TOPIC_DEFAULT_PREFIX}${def.name}`,
    defaultValue: def.defaultValue,
    doc: `Default of the topic setting ${def.name} for topics that do not set it: ${def.doc}`,
    parse: (raw: string) => def.parse(raw),
  })),
];

const topicDefaultNames = new Set(TOPIC_CONFIG_DEFS.map((def) => `${TOPIC_DEFAULT_PREFIX}${def.name}`));
const defsByName = new Map(BROKER_SETTING_DEFS.map((def) => [def.name, def]));

export function brokerSettingDef(name: string): BrokerSettingDef | undefined {
  return defsByName.get(name);
}

/** A layer of raw settings and where it came from ("config file x.properties", "environment", "flags"). */
export interface SettingsLayer {
  readonly source: string;
  readonly values: Readonly<Record<string, string>>;
  /** How a setting is spelled in this source, for error messages (e.g. RUNNEL_DATA_DIR); default: its name. */
  readonly spell?: (name: string) => string;
}


/**
 * Builds the config from layers (later layers win). Every problem in every
 * layer is reported at once, so a person fixes their file in one go.
 */
export function buildBrokerConfig(layers: readonly SettingsLayer[] = []): BrokerConfig {
  const problems: string[] = [];
  /** Each setting's value, the layer it came from, and how that layer spells it (RUNNEL_LOG_RETENTION_MS). */
  const raw = new Map<string, { value: string; where: string; spelled: string }>();
  for (const def of BROKER_SETTING_DEFS) raw.set(def.name, { value: def.defaultValue, where: 'default', spelled: def.name });
  const topicDefaults: Record<string, string> = {};

  for (const layer of layers) {
    for (const [name, value] of Object.entries(layer.values)) {
      const spelled = layer.spell?.(name) ?? name;
      const def = defsByName.get(name);
      if (def === undefined) {
        problems.push(`unknown setting ${spelled} (from ${layer.source})${suggestion(name)}`);
        continue;
      }
      raw.set(name, { value, where: layer.source, spelled });
    }
  }

  const parsed = new Map<string, unknown>();
  for (const def of BROKER_SETTING_DEFS) {
    const entry = raw.get(def.name);
    if (entry === undefined) continue;
    try {
      parsed.set(def.name, def.parse(entry.value));
      if (topicDefaultNames.has(def.name) && entry.where !== 'default') {
        topicDefaults[def.name.slice(TOPIC_DEFAULT_PREFIX.length)] = entry.value.trim();
      }
    } catch (error) {
      // Named as the person wrote it: the variable, not only the setting it maps to.
      const source = entry.spelled.includes(def.name) ? entry.where : `${entry.where}, setting ${def.name}`;
      const reason = error instanceof ConfigError ? error.reason : (error as Error).message;
      problems.push(`${entry.spelled} (from ${source}): ${reason}`);
    }
  }
  const session = parsed.get('group.consumer.session.timeout.ms') as number | undefined;
  const [minSession, maxSession] = [parsed.get('group.consumer.min.session.timeout.ms') as number | undefined, parsed.get('group.consumer.max.session.timeout.ms') as number | undefined];
  if (session !== undefined && minSession !== undefined && maxSession !== undefined && (session < minSession || session > maxSession)) {
    problems.push(`group.consumer.session.timeout.ms ${session} must lie within group.consumer.min.session.timeout.ms ${minSession} and group.consumer.max.session.timeout.ms ${maxSession}`);
  }
  const listenerConfig = resolveListeners(parsed, raw, problems);
  if (problems.length > 0) throw new BrokerConfigError(problems);

  const settings: Record<string, { value: string; explicit: boolean }> = {};
  for (const [name, entry] of raw) settings[name] = { value: entry.value.trim(), explicit: entry.where !== 'default' };
  const get = <T>(name: string): T => parsed.get(name) as T;
  const { listeners, interBroker } = listenerConfig!;
  const host = interBroker.host;
  const advertised = get<string>('advertised.host');
  const advertising: Advertising = { host: advertised, listeners: get('advertised.listeners') };
  const tlsClientAuth = get<TlsClientAuth>('tls.client.auth');
  const interBrokerSaslUser = get<string>('inter.broker.sasl.username');
  return {
    listeners,
    interBrokerListenerName: interBroker.name,
    tls: { certFile: get('tls.cert.file'), keyFile: get('tls.key.file'), caFile: get('tls.ca.file'), clientAuth: tlsClientAuth },
    saslMechanisms: get('sasl.enabled.mechanisms'),
    interBrokerSasl: usesSasl(interBroker.securityProtocol) && interBrokerSaslUser !== '' ? { mechanism: get('inter.broker.sasl.mechanism'), username: interBrokerSaslUser, passwordFile: get('inter.broker.sasl.password.file') } : null,
    authorizer: { enabled: get('authorizer.enabled'), superUsers: get('super.users'), allowEveryoneIfNoAclFound: get('allow.everyone.if.no.acl.found') },
    nodeId: get('node.id'),
    controllerAddress: get('controller.address'),
    controllerLeaseMs: get('controller.lease.ms'),
    etcd: { prefix: get('controller.etcd.prefix'), caFile: get('controller.etcd.ca.file'), certFile: get('controller.etcd.cert.file'), keyFile: get('controller.etcd.key.file') },
    encryption: { keyFile: get('encryption.key.file'), keys: get('encryption.keys'), cacheBytes: get('encryption.cache.bytes') },
    brokerRack: get<string>('broker.rack') === '' ? null : get('broker.rack'),
    brokerSessionTimeoutMs: get('broker.session.timeout.ms'),
    brokerSessionDisconnectTimeoutMs: get('broker.session.disconnect.timeout.ms'),
    controlledShutdownTimeoutMs: get('controlled.shutdown.timeout.ms'),
    brokerHeartbeatIntervalMs: get('broker.heartbeat.interval.ms'),
    autoLeaderRebalanceEnable: get('auto.leader.rebalance.enable'),
    leaderImbalanceCheckIntervalSeconds: get('leader.imbalance.check.interval.seconds'),
    leaderImbalancePerBrokerPercentage: get('leader.imbalance.per.broker.percentage'),
    host,
    port: interBroker.port,
    advertisedHost: advertisedEndpointOf(advertising, interBroker.name, host, interBroker.port).host,
    advertising,
    dataDir: get('data.dir'),
    maxRequestBytes: get('max.request.bytes'),
    queuedMaxRequests: get('queued.max.requests'),
    maxUnflushedResponseBytes: get('max.unflushed.response.bytes'),
    pendingSegmentBytesMax: get('pending.segment.bytes.max'),
    pendingSegmentBytesMaxPerPartition: get('pending.segment.bytes.max.per.partition'),
    fetchMaxBytes: get('fetch.max.bytes'),
    replicaLagTimeMaxMs: get('replica.lag.time.max.ms'),
    replicaHighWatermarkCheckpointIntervalMs: get('replica.high.watermark.checkpoint.interval.ms'),
    producerIdExpirationMs: get('producer.id.expiration.ms'),
    producerIdExpirationCheckIntervalMs: get('producer.id.expiration.check.interval.ms'),
    replicaFetchMaxBytes: get('replica.fetch.max.bytes'),
    replicaFetchWaitMaxMs: get('replica.fetch.wait.max.ms'),
    connectionsMaxIdleMs: get('connections.max.idle.ms'),
    maxConnections: get('max.connections'),
    maxConnectionsPerIp: get('max.connections.per.ip'),
    maxConnectionsPerIpOverrides: get('max.connections.per.ip.overrides'),
    maxConnectionCreationRate: get('max.connection.creation.rate'),
    adminReservedConnections: get('admin.reserved.connections'),
    autoCreateTopics: get('auto.create.topics'),
    numPartitions: get('num.partitions'),
    maxPartitionsPerTopic: get('max.partitions.per.topic'),
    logRetentionCheckIntervalMs: get('log.retention.check.interval.ms'),
    shutdownTimeoutMs: get('shutdown.timeout.ms'),
    loggerLevel: get('logger.level'),
    loggerFormat: get('logger.format'),
    groups: {
      offsetsTopicPartitions: get('offsets.topic.num.partitions'),
      offsetsTopicReplicationFactor: get('offsets.topic.replication.factor'),
      sessionTimeoutMs: get('group.consumer.session.timeout.ms'),
      heartbeatIntervalMs: get('group.consumer.heartbeat.interval.ms'),
      minSessionTimeoutMs: get('group.consumer.min.session.timeout.ms'),
      maxSessionTimeoutMs: get('group.consumer.max.session.timeout.ms'),
      maxSize: get('group.consumer.max.size'),
      assignors: get('group.consumer.assignors'),
      offsetsRetentionMinutes: get('offsets.retention.minutes'),
      offsetMetadataMaxBytes: get('offset.metadata.max.bytes'),
    },
    share: {
      lockDurationMs: get('group.share.record.lock.duration.ms'),
      deliveryCountLimit: get('group.share.delivery.count.limit'),
      sessionTimeoutMs: get('group.share.session.timeout.ms'),
      heartbeatIntervalMs: get('group.share.heartbeat.interval.ms'),
      maxSize: get('group.share.max.size'),
      maxInFlightRecords: get('group.share.max.in.flight.records'),
      maxDelayedRecords: get('group.share.max.delayed.records'),
    },
    metricsListen: get('metrics.listen'),
    requestLogSampleRate: get('request.log.sample.rate'),
    usage: get<boolean>('usage.enable') ? { flushIntervalMs: get('usage.flush.interval.ms'), retentionMs: get('usage.retention.ms'), replicationFactor: get('usage.topic.replication.factor') } : null,
    topicDefaults,
    settings,
  };
}

/**
 * The listeners (`listeners`, or host:port as one PLAINTEXT listener) and
 * the inter-broker one, with the checks that span settings: TLS listeners
 * need a certificate and key, a SASL inter-broker listener of a cluster
 * needs the broker's own user. Problems are added to `problems`.
 */
function resolveListeners(parsed: Map<string, unknown>, raw: Map<string, { value: string; where: string }>, problems: string[]): { listeners: ListenerSpec[]; interBroker: ListenerSpec } | null {
  const explicit = (name: string): boolean => raw.get(name)?.where !== 'default';
  let listeners = parsed.get('listeners') as ListenerSpec[] | undefined;
  if (listeners === undefined) return null;
  if (listeners.length > 0 && (explicit('host') || explicit('port'))) {
    problems.push('listeners and host/port both set: host/port is the shorthand for one PLAINTEXT listener; put every listener in listeners instead');
    return null;
  }
  if (listeners.length > 0) {
    // Parsed on its own the setting was checked for syntax only: the map (explicit or empty) says each name's protocol.
    try {
      listeners = parseListeners(raw.get('listeners')!.value, parsed.get('listener.security.protocol.map') as Map<string, never>);
    } catch (error) {
      problems.push(`listeners: ${(error as Error).message}`);
      return null;
    }
  }
  if (listeners.length === 0) {
    const host = parsed.get('host') as string | undefined;
    const port = parsed.get('port') as number | undefined;
    if (host === undefined || port === undefined) return null;
    listeners = [{ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host, port }];
  }
  const advertised = parsed.get('advertised.listeners') as Map<string, unknown> | undefined;
  for (const name of advertised?.keys() ?? []) {
    if (!listeners.some((l) => l.name === name)) problems.push(`advertised.listeners names ${name}, which is none of the listeners (${listeners.map((l) => l.name).join(', ')})`);
  }
  const wanted = (parsed.get('inter.broker.listener.name') as string | undefined) ?? '';
  const interBroker = wanted === '' ? listeners[0]! : listeners.find((l) => l.name === wanted);
  if (interBroker === undefined) {
    problems.push(`inter.broker.listener.name ${wanted} is none of the listeners (${listeners.map((l) => l.name).join(', ')})`);
    return null;
  }
  if (listeners.some((l) => usesTls(l.securityProtocol)) && (parsed.get('tls.cert.file') === '' || parsed.get('tls.key.file') === '')) {
    problems.push('an SSL or SASL_SSL listener needs tls.cert.file and tls.key.file');
  }
  const inCluster = (parsed.get('controller.address') ?? '') !== '';
  if (inCluster && usesSasl(interBroker.securityProtocol) && (parsed.get('inter.broker.sasl.username') === '' || parsed.get('inter.broker.sasl.password.file') === '')) {
    problems.push(`the inter-broker listener ${interBroker.name} uses SASL: set inter.broker.sasl.username and inter.broker.sasl.password.file (the user this broker logs in to the others as)`);
  }
  return { listeners, interBroker };
}

/** The config an embedding program gets from a plain object of settings (`{ 'data.dir': '/tmp/x', port: '0' }`). */
export function brokerConfig(values: Readonly<Record<string, string | number | boolean>> = {}): BrokerConfig {
  const strings = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, String(value)]));
  return buildBrokerConfig([{ source: 'startBroker options', values: strings }]);
}

/** "did you mean" for a near miss, so `retention.ms` in a broker file points at `log.retention.ms`. */
function suggestion(name: string): string {
  if (defsByName.has(`${TOPIC_DEFAULT_PREFIX}${name}`)) return `; did you mean ${TOPIC_DEFAULT_PREFIX}${name} (the broker-wide default of the topic setting ${name})?`;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of defsByName.keys()) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best === undefined ? '' : `; did you mean ${best}?`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_v, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
    }
    previous = current;
  }
  return previous[b.length] as number;
}
