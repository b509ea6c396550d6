/**
 * The metadata image: the state that replaying the change log produces
 * (cluster id, live topics with their settings, and the topic incarnations
 * deleted since start-up). `applyChange` is the one place that turns a change
 * into state, shared by every MetadataStore implementation, so local and
 * etcd-backed stores cannot disagree on what a log means.
 *
 * A change that does not fit the state (a topic created twice, a deletion of
 * a topic that is not there) is an invariant failure: the controller checks
 * before it commits, so seeing one on replay means the log is not ours or is
 * damaged.
 */
import { assert } from '../world/assert.js';
import type { MetadataChange } from './changes.js';

export interface TopicImage {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Overrides only; broker defaults fill in the rest. */
  readonly configs: Readonly<Record<string, string>>;
}

export interface MetadataImage {
  /** Empty until the clusterCreated entry. */
  readonly clusterId: string;
  /** Version of the last change applied; 0 for an empty log. */
  readonly version: number;
  readonly topics: ReadonlyMap<string, TopicImage>;
  /** Topic names whose last change was a deletion, with the deleted incarnation (their logs must not survive). */
  readonly deletedTopics: ReadonlyMap<string, string>;
}

export const EMPTY_IMAGE: MetadataImage = { clusterId: '', version: 0, topics: new Map(), deletedTopics: new Map() };

export function applyChange(image: MetadataImage, change: MetadataChange, version: number): MetadataImage {
  assert(version === image.version + 1, 'metadata versions are consecutive', { imageVersion: image.version, version });
  let { clusterId } = image;
  const topics = new Map(image.topics);
  const deletedTopics = new Map(image.deletedTopics);
  switch (change.kind) {
    case 'clusterCreated':
      assert(image.clusterId === '', 'the cluster is created once', { clusterId: image.clusterId, version });
      clusterId = change.clusterId;
      break;
    case 'topicCreated':
      assert(!topics.has(change.name), 'a topic is created only when absent', { topic: change.name, version });
      topics.set(change.name, {
        name: change.name,
        topicId: change.topicId,
        partitions: change.partitions,
        replicationFactor: change.replicationFactor,
        configs: { ...change.configs },
      });
      deletedTopics.delete(change.name);
      break;
    case 'topicDeleted': {
      const topic = topics.get(change.name);
      assert(topic !== undefined && topic.topicId === change.topicId, 'a deleted topic exists', { topic: change.name, topicId: change.topicId, version });
      topics.delete(change.name);
      deletedTopics.set(change.name, change.topicId);
      break;
    }
    case 'topicConfigAltered': {
      const topic = topics.get(change.name);
      assert(topic !== undefined && topic.topicId === change.topicId, 'an altered topic exists', { topic: change.name, topicId: change.topicId, version });
      topics.set(change.name, { ...topic, configs: { ...change.configs } });
      break;
    }
    case 'partitionsAdded': {
      const topic = topics.get(change.name);
      assert(topic !== undefined && topic.topicId === change.topicId, 'a grown topic exists', { topic: change.name, topicId: change.topicId, version });
      assert(change.partitions > topic.partitions, 'a topic only gains partitions', { topic: change.name, from: topic.partitions, to: change.partitions, version });
      topics.set(change.name, { ...topic, partitions: change.partitions });
      break;
    }
  }
  return { clusterId, version, topics, deletedTopics };
}
