/**
 * The metadata image: the state that replaying the change log produces
 * (cluster id, registered brokers, live topics with their settings and the
 * replica state of every partition, and the topic incarnations deleted since
 * start-up). `applyChange` is the one place that turns a change into state,
 * shared by every MetadataStore implementation and by the brokers' caches,
 * so a controller's store and a broker's copy cannot disagree on what a log
 * means.
 *
 * A change that does not fit the state (a topic created twice, a partition
 * epoch that does not grow, a leader outside the ISR) is an invariant
 * failure: the controller checks before it commits and the store applies the
 * change before it writes it, so seeing one on replay means the log is not
 * ours or is damaged.
 */
import { assert } from '../world/assert.js';
import type { ScramCredential, ScramMechanism } from '../../client/security/scram.js';
import type { MetadataChange, RegisteredListener } from './changes.js';
import { scramCredentialsChanged } from './apply-scram.js';
import { aclsChanged, type AclBindings } from './apply-acl.js';
import { clientQuotasChanged, type ClientQuotas } from './apply-client-quota.js';
import { brokerChanged, brokerRegistered } from './apply-broker.js';
import { changedPartitionState, createdPartitionStates } from './apply-partition.js';

/** A broker as the controller knows it, as KRaft's BrokerRegistration. */
export interface BrokerRegistration {
  readonly id: number;
  readonly incarnationId: string;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  /** The version of its (last) registration entry: grows with every restart. */
  readonly epoch: number;
  /** A fenced broker leads nothing and is no ISR candidate; brokers register fenced and are unfenced once caught up. */
  readonly fenced: boolean;
  /** Every listener, when it registered them (v6); absent: host/port is its one listener. */
  readonly listeners?: readonly RegisteredListener[];
}

export interface PartitionState {
  /** The assignment, preferred leader first. */
  readonly replicas: readonly number[];
  /** -1: no leader (every replica fenced). */
  readonly leader: number;
  /** Grows with every change of leader. */
  readonly leaderEpoch: number;
  /** Grows with every change of this state; AlterPartition names the one it read. */
  readonly partitionEpoch: number;
  /** In-sync replicas: never empty, a subset of `replicas`, and holds the leader. */
  readonly isr: readonly number[];
  /**
   * A reassignment in progress (Kafka's KIP-455), absent when none: the
   * target replicas being added (already in `replicas`, which is the
   * original replicas then these), and the original replicas that leave once
   * every target is in the ISR. Never both empty when present.
   */
  readonly addingReplicas?: readonly number[];
  readonly removingReplicas?: readonly number[];
}

export interface TopicImage {
  readonly name: string;
  readonly topicId: string;
  /** Partition count (= partitionStates.length). */
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Overrides only; broker defaults fill in the rest. */
  readonly configs: Readonly<Record<string, string>>;
  /** Names starting with `__`: created by the broker for its own use, hidden from listings unless asked. */
  readonly internal: boolean;
  /** Index = partition. */
  readonly partitionStates: readonly PartitionState[];
}

export interface MetadataImage {
  /** Empty until the clusterCreated entry. */
  readonly clusterId: string;
  /** Version of the last change applied; 0 for an empty log. */
  readonly version: number;
  readonly brokers: ReadonlyMap<number, BrokerRegistration>;
  readonly topics: ReadonlyMap<string, TopicImage>;
  /** Topic names whose last change was a deletion, with the deleted incarnation (their logs must not survive). */
  readonly deletedTopics: ReadonlyMap<string, string>;
  /** Bytes per second a leader serves, in all, to replicas a reassignment is adding; absent: no limit. */
  readonly reassignmentThrottle?: number;
  /** The first producer id no block has been handed out from yet (0 before any; metadata/changes.ts ProducerIdsAllocated). */
  readonly nextProducerId?: number;
  /** SCRAM credentials by user, then mechanism (metadata/changes.ts ScramCredentialUpserted); absent: no users. */
  readonly scramCredentials?: ReadonlyMap<string, ReadonlyMap<ScramMechanism, ScramCredential>>;
  /** ACL bindings by their identity (acl/acl.ts bindingKey; metadata/changes.ts AclCreated); absent: none. A new map on every ACL change, so a reader tells a change by identity. */
  readonly acls?: AclBindings;
  /** Client quotas by entity (metadata/changes.ts ClientQuotaAltered, broker/quota/); absent: none. */
  readonly clientQuotas?: ClientQuotas;
}

export const EMPTY_IMAGE: MetadataImage = { clusterId: '', version: 0, brokers: new Map(), topics: new Map(), deletedTopics: new Map() };

export const INTERNAL_TOPIC_PREFIX = '__';

export function applyChange(image: MetadataImage, change: MetadataChange, version: number): MetadataImage {
  assert(version === image.version + 1, 'metadata versions are consecutive', { imageVersion: image.version, version });
  switch (change.kind) {
    case 'clusterCreated':
      assert(image.clusterId === '', 'the cluster is created once', { clusterId: image.clusterId, version });
      return { ...image, version, clusterId: change.clusterId };
    case 'brokerRegistered':
      return { ...image, version, brokers: brokerRegistered(image.brokers, change, version) };
    case 'brokerFenced':
    case 'brokerUnfenced':
      return { ...image, version, brokers: brokerChanged(image.brokers, change, version) };
    case 'topicCreated': {
      assert(!image.topics.has(change.name), 'a topic is created only when absent', { topic: change.name, version });
      const topic: TopicImage = {
        name: change.name,
        topicId: change.topicId,
        partitions: change.partitions,
        replicationFactor: change.replicationFactor,
        configs: { ...change.configs },
        internal: change.name.startsWith(INTERNAL_TOPIC_PREFIX),
        partitionStates: createdPartitionStates(image.brokers, change, 0, version),
      };
      const deletedTopics = new Map(image.deletedTopics);
      deletedTopics.delete(change.name);
      return { ...image, version, topics: withTopic(image, topic), deletedTopics };
    }
    case 'topicDeleted': {
      topicOf(image, change, version);
      const topics = new Map(image.topics);
      topics.delete(change.name);
      const deletedTopics = new Map(image.deletedTopics).set(change.name, change.topicId);
      return { ...image, version, topics, deletedTopics };
    }
    case 'topicConfigAltered': {
      const topic = topicOf(image, change, version);
      return { ...image, version, topics: withTopic(image, { ...topic, configs: { ...change.configs } }) };
    }
    case 'partitionsAdded': {
      const topic = topicOf(image, change, version);
      assert(change.partitions > topic.partitions, 'a topic only gains partitions', { topic: change.name, from: topic.partitions, to: change.partitions, version });
      const added = createdPartitionStates(image.brokers, { ...change, replicationFactor: topic.replicationFactor }, topic.partitions, version);
      return { ...image, version, topics: withTopic(image, { ...topic, partitions: change.partitions, partitionStates: [...topic.partitionStates, ...added] }) };
    }
    case 'reassignmentThrottleChanged': {
      assert(Number.isSafeInteger(change.bytesPerSecond) && change.bytesPerSecond >= 0, 'a reassignment throttle is a byte rate, or 0 for none', { bytesPerSecond: change.bytesPerSecond, version });
      const { reassignmentThrottle: _previous, ...rest } = image;
      return change.bytesPerSecond === 0 ? { ...rest, version } : { ...rest, version, reassignmentThrottle: change.bytesPerSecond };
    }
    case 'producerIdsAllocated':
      return { ...image, version, nextProducerId: Math.max(image.nextProducerId ?? 0, change.firstProducerId + change.count) };
    case 'scramCredentialUpserted':
    case 'scramCredentialDeleted':
      return { ...image, version, scramCredentials: scramCredentialsChanged(image.scramCredentials ?? new Map(), change) };
    case 'aclCreated':
    case 'aclDeleted':
      return { ...image, version, acls: aclsChanged(image.acls ?? new Map(), change) };
    case 'clientQuotaAltered':
      return { ...image, version, clientQuotas: clientQuotasChanged(image.clientQuotas ?? new Map(), change) };
    case 'partitionChanged': {
      const topic = topicOf(image, change, version);
      assert(Number.isInteger(change.partition) && change.partition >= 0 && change.partition < topic.partitions, 'a changed partition exists', { topic: change.name, partition: change.partition, partitions: topic.partitions, version });
      const partitionStates = [...topic.partitionStates];
      partitionStates[change.partition] = changedPartitionState(partitionStates[change.partition]!, change, version);
      return { ...image, version, topics: withTopic(image, { ...topic, partitionStates }) };
    }
  }
}

/** The live incarnation a change names; asserts it is the one in the image. */
function topicOf(image: MetadataImage, change: { kind: string; name: string; topicId: string }, version: number): TopicImage {
  const topic = image.topics.get(change.name);
  assert(topic !== undefined && topic.topicId === change.topicId, 'a changed topic exists, in the incarnation named', { change: change.kind, topic: change.name, topicId: change.topicId, version });
  return topic;
}

function withTopic(image: MetadataImage, topic: TopicImage): Map<string, TopicImage> {
  return new Map(image.topics).set(topic.name, topic);
}
