/**
 * The controller's answers to AlterPartitionReassignments,
 * ListPartitionReassignments and ElectLeaders: each request decided against
 * one image into the changes to commit and the response to give, per
 * partition (one bad partition does not fail the others), as Kafka does.
 * Pure: the controller commits the changes in one go and answers.
 *
 * The reassignment throttle (a cluster-wide copy rate for replicas being
 * added) is recorded in the metadata with the reassignments; it is removed
 * when the last reassignment ends (`throttleCleared`), so a forgotten
 * throttle never slows the next move.
 */
import { Errors, ProtocolError, type ErrorName } from '../../protocol/errors.js';
import type {
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  ElectLeadersRequest,
  ElectLeadersResponse,
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
  OngoingPartitionReassignment,
} from '../../protocol/messages.js';
import type { MetadataChange } from '../metadata/changes.js';
import type { MetadataImage, PartitionState, TopicImage } from '../metadata/image.js';
import { partitionChangedFor, type Live } from './election.js';
import { preferredElection, uncleanElection } from './preferred-leader.js';
import { cancelledReassignment, isReassigning, startedReassignment } from './reassignment.js';

interface Decided<R> {
  changes: MetadataChange[];
  response: R;
}

type PartitionResult = { errorCode: number; errorMessage: string | null };

const OK: PartitionResult = { errorCode: Errors.NONE.code, errorMessage: null };

export function reassignmentsDecision(image: MetadataImage, request: AlterPartitionReassignmentsRequest, live: Live): Decided<AlterPartitionReassignmentsResponse> {
  const changes: MetadataChange[] = [];
  const throttle = request.throttleBytesPerSecond;
  if (!Number.isSafeInteger(throttle) || throttle < -1) {
    return { changes, response: { errorCode: Errors.INVALID_REQUEST.code, errorMessage: `throttleBytesPerSecond ${throttle}: -1 (leave as is), 0 (none) or a byte rate`, responses: [] } };
  }
  if (throttle >= 0 && throttle !== (image.reassignmentThrottle ?? 0)) changes.push({ kind: 'reassignmentThrottleChanged', bytesPerSecond: throttle });
  const seen = new Set<string>();
  const responses = request.topics.map((asked) => ({
    name: asked.name,
    partitions: asked.partitions.map((p) => {
      const key = `${asked.name}\u0000${p.partitionIndex}`;
      const result = perPartition(image, asked.name, p.partitionIndex, (topic, state) => {
        if (seen.has(key)) throw new ProtocolError('INVALID_REQUEST', `${asked.name}-${p.partitionIndex} is named more than once in the request`);
        const next = p.replicas === null ? cancelledReassignment(state, live) : startedReassignment(state, p.replicas, image.brokers, live);
        if (next !== null) changes.push(partitionChangedFor(topic, p.partitionIndex, next));
      });
      seen.add(key);
      return { partitionIndex: p.partitionIndex, ...result };
    }),
  }));
  return { changes, response: { errorCode: Errors.NONE.code, errorMessage: null, responses } };
}

export function listReassignments(image: MetadataImage, request: ListPartitionReassignmentsRequest): ListPartitionReassignmentsResponse {
  const wanted = request.topics === null ? null : new Map(request.topics.map((t) => [t.name, new Set(t.partitionIndexes)]));
  const topics: ListPartitionReassignmentsResponse['topics'] = [];
  for (const topic of [...image.topics.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const indexes = wanted === null ? null : wanted.get(topic.name);
    if (indexes === undefined) continue;
    const partitions: OngoingPartitionReassignment[] = [];
    topic.partitionStates.forEach((state, partitionIndex) => {
      if (!isReassigning(state) || (indexes !== null && !indexes.has(partitionIndex))) return;
      partitions.push({ partitionIndex, replicas: [...state.replicas], addingReplicas: [...(state.addingReplicas ?? [])], removingReplicas: [...(state.removingReplicas ?? [])], isr: [...state.isr], leader: state.leader });
    });
    if (partitions.length > 0) topics.push({ name: topic.name, partitions });
  }
  return { errorCode: Errors.NONE.code, errorMessage: null, throttleBytesPerSecond: image.reassignmentThrottle ?? 0, topics };
}

export function electionsDecision(image: MetadataImage, request: ElectLeadersRequest, live: Live): Decided<ElectLeadersResponse> {
  const changes: MetadataChange[] = [];
  if (request.electionType !== 0 && request.electionType !== 1) {
    return { changes, response: { errorCode: Errors.INVALID_REQUEST.code, errorMessage: `electionType ${request.electionType}: 0 (preferred) or 1 (unclean)`, replicaElectionResults: [] } };
  }
  const elect = request.electionType === 0 ? preferredElection : uncleanElection;
  // null: every partition of every topic (Kafka's), reporting only those elected.
  const asked = request.topicPartitions ?? [...image.topics.values()].map((t) => ({ topic: t.name, partitions: t.partitionStates.map((_, i) => i) }));
  const replicaElectionResults = asked.map(({ topic: name, partitions }) => ({
    topic: name,
    partitionResult: partitions.map((partitionId) => ({
      partitionId,
      ...perPartition(image, name, partitionId, (topic, state) => {
        const outcome = elect(state, live);
        if ('error' in outcome) throw new ProtocolError(outcome.error, `${name}-${partitionId}: ${outcome.message}`);
        changes.push(partitionChangedFor(topic, partitionId, outcome.next));
      }),
    })),
  }));
  if (request.topicPartitions === null) {
    for (const result of replicaElectionResults) result.partitionResult = result.partitionResult.filter((p) => p.errorCode === Errors.NONE.code);
  }
  return { changes, response: { errorCode: Errors.NONE.code, errorMessage: null, replicaElectionResults: replicaElectionResults.filter((r) => r.partitionResult.length > 0 || request.topicPartitions !== null) } };
}

/** The change that removes the reassignment throttle once no reassignment is left, or none. */
export function throttleCleared(image: MetadataImage): MetadataChange[] {
  if ((image.reassignmentThrottle ?? 0) === 0) return [];
  for (const topic of image.topics.values()) if (topic.partitionStates.some(isReassigning)) return [];
  return [{ kind: 'reassignmentThrottleChanged', bytesPerSecond: 0 }];
}

/** Runs `act` on the partition, turning a thrown ProtocolError (or a missing partition) into its result. */
function perPartition(image: MetadataImage, name: string, index: number, act: (topic: TopicImage, state: PartitionState) => void): PartitionResult {
  const topic = image.topics.get(name);
  const state = topic?.partitionStates[index];
  if (topic === undefined || state === undefined) {
    return refused('UNKNOWN_TOPIC_OR_PARTITION', topic === undefined ? `topic ${name} does not exist` : `topic ${name} has partitions 0 to ${topic.partitions - 1}, not ${index}`);
  }
  try {
    act(topic, state);
    return OK;
  } catch (error) {
    if (error instanceof ProtocolError) return refused(error.errorName, error.detail);
    throw error;
  }
}

function refused(name: ErrorName, message: string): PartitionResult {
  return { errorCode: Errors[name].code, errorMessage: message };
}
