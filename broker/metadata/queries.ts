/**
 * Questions about a metadata image that several components ask the same way
 * (the controller, the replica manager, the Metadata handler): pure functions
 * of the image, so they agree.
 */
import type { BrokerRegistration, MetadataImage, PartitionState } from './image.js';

/** The state of partition `index` of `topic`, or undefined when there is no such partition. */
export function partitionState(image: MetadataImage, topic: string, index: number): PartitionState | undefined {
  return image.topics.get(topic)?.partitionStates[index];
}

/**
 * Whether broker `id` may be made leader of a new partition: any broker the
 * image does not know to be fenced. An id with no registration counts: only
 * the log of the embedded single node has those (a pre-v3 log, or topics
 * created before its node registered), and that node is alive whenever its
 * own log is read.
 */
export function mayLead(brokers: ReadonlyMap<number, BrokerRegistration>, id: number): boolean {
  return brokers.get(id)?.fenced !== true;
}

/** Registered brokers that are not fenced, by id: the brokers a Metadata response lists. */
export function unfencedBrokers(image: MetadataImage): BrokerRegistration[] {
  return [...image.brokers.values()].filter((broker) => !broker.fenced).sort((a, b) => a.id - b.id);
}
