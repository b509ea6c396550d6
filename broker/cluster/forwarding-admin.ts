/**
 * The admin of a broker of a cluster: every topic change is forwarded to the
 * controller (KIP-590), one topic per request, so the broker's own handlers
 * keep their per-topic answers (duplicates in a request, validateOnly) and
 * the controller decides the rest. An error the controller answers comes
 * back as a ProtocolError naming it, which the handler puts on the wire
 * unchanged.
 *
 * A change that succeeded is answered once this broker serves it (the topic
 * is in its metadata, or gone from it), up to `visibleWithinMs`: a client
 * that creates a topic through a broker and then asks that broker for its
 * metadata finds it, as it would on the single node.
 */
import { errorNameOf, ProtocolError } from '../../protocol/errors.js';
import type {
  CreateAclsRequest,
  CreateAclsResponse,
  DeleteAclsRequest,
  DeleteAclsResponse,
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse,
  AlterClientQuotasRequest,
  AlterClientQuotasResponse,
  ElectLeadersRequest,
  ElectLeadersResponse,
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
} from '../../protocol/messages.js';
import type { BrokerConfig } from '../config.js';
import type { CreateTopicRequest } from '../controller/controller.js';
import type { MetadataImage } from '../metadata/image.js';
import type { ControllerChannel } from './controller-channel.js';
import type { TopicAdmin } from './topic-admin.js';

/** How long to wait, after the controller accepted a change, for this broker to serve it. */
const VISIBLE_WITHIN_MS = 5000;
/** A forwarded request's own timeout, as Kafka's admin client default. */
const FORWARD_TIMEOUT_MS = 30_000;

export interface AppliedMetadata {
  readonly image: MetadataImage;
  /** Resolves once `test(image)` holds for the image served, or after `withinMs` (then false). */
  until(test: (image: MetadataImage) => boolean, withinMs: number): Promise<boolean>;
}

export class ForwardingAdmin implements TopicAdmin {
  readonly #channel: ControllerChannel;
  readonly #config: BrokerConfig;
  readonly #applied: AppliedMetadata;

  constructor(opts: { channel: ControllerChannel; config: BrokerConfig; applied: AppliedMetadata }) {
    this.#channel = opts.channel;
    this.#config = opts.config;
    this.#applied = opts.applied;
  }

  get clusterId(): string {
    return this.#applied.image.clusterId;
  }

  async createTopic(request: CreateTopicRequest, opts: { validateOnly?: boolean } = {}): Promise<{ partitions: number; replicationFactor: number }> {
    const configs = Object.entries(request.configs).map(([name, value]) => ({ name, value }));
    const response = await this.#channel.forward('CreateTopics', { topics: [{ name: request.name, partitions: request.partitions, replicationFactor: request.replicationFactor, configs }], timeoutMs: FORWARD_TIMEOUT_MS, validateOnly: opts.validateOnly === true });
    const result = response.topics[0]!;
    throwIfError(result);
    if (opts.validateOnly !== true) await this.#applied.until((image) => image.topics.has(request.name), VISIBLE_WITHIN_MS);
    return { partitions: result.partitions, replicationFactor: result.replicationFactor };
  }

  /**
   * Forwarded as a CreateTopics of the internal name: the controller's
   * CreateTopics creates `__consumer_offsets` as its internal topic
   * (handlers/create-topics.ts), whoever asks, as FindCoordinator would.
   */
  async createInternalTopic(request: CreateTopicRequest): Promise<void> {
    await this.createTopic(request);
  }

  async deleteTopic(name: string): Promise<void> {
    const topicId = this.#applied.image.topics.get(name)?.topicId;
    const response = await this.#channel.forward('DeleteTopics', { topics: [name], timeoutMs: FORWARD_TIMEOUT_MS });
    throwIfError(response.topics[0]!);
    await this.#applied.until((image) => image.topics.get(name)?.topicId !== topicId || topicId === undefined, VISIBLE_WITHIN_MS);
  }

  async alterTopicConfig(name: string, changes: readonly { name: string; value: string | null }[], opts: { validateOnly?: boolean } = {}): Promise<void> {
    const response = await this.#channel.forward('AlterConfigs', { resources: [{ type: 'topic', name, configs: [...changes] }], validateOnly: opts.validateOnly === true });
    throwIfError(response.results[0]!);
  }

  async createPartitions(name: string, count: number, opts: { validateOnly?: boolean } = {}): Promise<void> {
    const response = await this.#channel.forward('CreatePartitions', { topics: [{ name, count }], timeoutMs: FORWARD_TIMEOUT_MS, validateOnly: opts.validateOnly === true });
    throwIfError(response.results[0]!);
    if (opts.validateOnly !== true) await this.#applied.until((image) => (image.topics.get(name)?.partitions ?? 0) >= count, VISIBLE_WITHIN_MS);
  }

  /** Forwarded whole: the controller answers per partition. */
  alterPartitionReassignments(request: AlterPartitionReassignmentsRequest): Promise<AlterPartitionReassignmentsResponse> {
    return this.#channel.forward('AlterPartitionReassignments', request);
  }

  listPartitionReassignments(request: ListPartitionReassignmentsRequest): Promise<ListPartitionReassignmentsResponse> {
    return this.#channel.forward('ListPartitionReassignments', request);
  }

  electLeaders(request: ElectLeadersRequest): Promise<ElectLeadersResponse> {
    return this.#channel.forward('ElectLeaders', request);
  }

  alterUserScramCredentials(request: AlterUserScramCredentialsRequest): Promise<AlterUserScramCredentialsResponse> {
    return this.#channel.forward('AlterUserScramCredentials', request);
  }

  createAcls(request: CreateAclsRequest): Promise<CreateAclsResponse> {
    return this.#channel.forward('CreateAcls', request);
  }

  deleteAcls(request: DeleteAclsRequest): Promise<DeleteAclsResponse> {
    return this.#channel.forward('DeleteAcls', request);
  }

  alterClientQuotas(request: AlterClientQuotasRequest): Promise<AlterClientQuotasResponse> {
    return this.#channel.forward('AlterClientQuotas', request);
  }

  /** This broker's `auto.create.topics` decides (as Kafka's); the controller creates. */
  async autoCreate(name: string): Promise<boolean> {
    if (!this.#config.autoCreateTopics) return false;
    try {
      await this.createTopic({ name, partitions: -1, replicationFactor: -1, configs: {} });
    } catch (error) {
      if (!(error instanceof ProtocolError) || error.errorName !== 'TOPIC_ALREADY_EXISTS') throw error;
      await this.#applied.until((image) => image.topics.has(name), VISIBLE_WITHIN_MS);
    }
    return true;
  }
}

function throwIfError(result: { errorCode: number; errorMessage: string | null }): void {
  if (result.errorCode !== 0) throw new ProtocolError(errorNameOf(result.errorCode), result.errorMessage ?? undefined);
}
