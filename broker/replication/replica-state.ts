/**
 * What the metadata says about one partition's replicas: which brokers hold
 * a copy, which one leads, at which leader epoch, and which are in sync.
 * The replica manager hosts a partition when its node id is among the
 * replicas, and leads it when it is the leader.
 *
 * The image carries this per partition (`TopicImage.partitionStates`) once
 * the cluster metadata has it; a topic without it (the single-node image,
 * and a topic from a log written before there were assignments) is hosted
 * and led by this node at epoch 0, which is what a single node always was.
 */
import type { TopicImage } from '../metadata/image.js';

export interface ReplicaState {
  readonly replicas: readonly number[];
  /** The leader's node id, -1 when none is live. */
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly isr: readonly number[];
}

export function replicaState(topic: TopicImage, index: number, localNodeId: number): ReplicaState {
  // Read structurally, so this works on images with and without per-partition state.
  const states = (topic as { readonly partitionStates?: readonly ReplicaState[] }).partitionStates;
  const state = states?.[index];
  if (state !== undefined && state.replicas.length > 0) return state;
  return { replicas: [localNodeId], leader: localNodeId, leaderEpoch: 0, isr: [localNodeId] };
}
