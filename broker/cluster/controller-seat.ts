/**
 * The controller seat of a broker on etcd: empty while another node leads;
 * while this node leads (etcd-candidacy.ts), a Controller deciding on the
 * etcd metadata store, its commits conditional on this node's election key.
 *
 * The seat answers the controller APIs (BrokerRegistration, BrokerHeartbeat,
 * AlterPartition, MetadataChanges) and the admin requests forwarded here
 * only while this node is the *active* controller: elected, the controller
 * started, and its etcd lease certainly alive (the candidacy's horizon). Any
 * other time the answer is NOT_CONTROLLER, so a broker asks the node etcd
 * names instead, and a controller that was paused past its lease answers no
 * heartbeat from its stale view: that is what keeps the brokers' write lease
 * sound across a takeover (docs/ARCHITECTURE.md, "The controller on etcd").
 *
 * Taking over: the store is caught up with etcd (everything the previous
 * controller committed), then a new Controller starts on it; its
 * constructor gives every broker the metadata shows unfenced a fresh session
 * (sessions live in memory only), so a live broker is not fenced for the
 * time no controller ran, and a dead one is fenced one session timeout
 * later. Stepping down closes the Controller and clears the fence, so the
 * store refuses commits.
 *
 * A commit that etcd refused for the fence means another node leads: the
 * seat steps down at once. A commit that failed because etcd did not answer
 * is reported naming etcd.
 */
import { ProtocolError } from '../../protocol/errors.js';
import type {
  CreateAclsRequest,
  CreateAclsResponse,
  DeleteAclsRequest,
  DeleteAclsResponse,
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  AlterPartitionRequest,
  AlterPartitionResponse,
  BrokerRegistrationRequest,
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
import { Controller, type ControllerApis, type CreateTopicRequest } from '../controller/controller.js';
import { newClusterId } from '../controller-node.js';
import { ControllerClosedError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MetadataEntry } from '../metadata/changes.js';
import { describeEtcdFailure, isEtcdFailure } from '../metadata/etcd-client.js';
import { MetadataStoreFencedError, type EtcdMetadataStore, type WriteFence } from '../metadata/etcd-store.js';
import { StaleMetadataError } from '../metadata/store.js';
import type { Clock } from '../world/clock.js';
import type { Rng } from '../world/rng.js';
import type { HeartbeatAnswer, HeartbeatRequest } from './controller-channel.js';
import type { ControllerCandidate } from './etcd-candidacy.js';
import type { TopicAdmin } from './topic-admin.js';

export interface SeatOptions {
  store: EtcdMetadataStore;
  config: BrokerConfig;
  rng: Rng;
  clock: Clock;
  logger: Logger;
  /** etcd's endpoints, for error messages. */
  etcdHosts: readonly string[];
  /** Whether this node is elected with a live lease, and who leads (the candidacy). */
  election: { readonly active: boolean; readonly leader: ControllerCandidate | null; stepDown(why: string): void };
}

export class ControllerSeat implements ControllerApis, TopicAdmin {
  readonly #opts: SeatOptions;
  #controller: Controller | null = null;

  constructor(opts: SeatOptions) {
    this.#opts = opts;
    // The Controller also commits on its own (fencing brokers whose session expired): a refusal there deposes too.
    opts.store.onFenced = (why) => opts.election.stepDown(why);
  }

  /** Elected and running, with a live lease: this node answers as the controller. */
  get active(): boolean {
    return this.#controller !== null && this.#opts.election.active;
  }

  get clusterId(): string {
    return this.#opts.store.image.clusterId;
  }

  /** This node won the election: catch up with etcd, then run a Controller committing under `fence`. */
  async activate(fence: WriteFence): Promise<void> {
    const { store, config, rng, clock, logger } = this.#opts;
    store.fence = fence;
    await store.catchUp();
    if (store.image.clusterId === '') await store.commit([{ kind: 'clusterCreated', clusterId: newClusterId(rng) }], { expectedVersion: 0 });
    this.#controller = new Controller({ store, config, rng, logger, local: null, clock });
    const brokers = [...store.image.brokers.values()];
    logger.info(
      { event: 'controllerActivated', metadataVersion: store.image.version, brokers: brokers.length, liveBrokers: brokers.filter((b) => !b.fenced).length },
      `this node is the active controller from metadata version ${store.image.version}; ${brokers.filter((b) => !b.fenced).length} unfenced broker(s) get a fresh session of ${config.brokerSessionTimeoutMs} ms`,
    );
  }

  /** This node no longer leads: refuse every controller request and commit. */
  async deactivate(why: string): Promise<void> {
    const controller = this.#controller;
    this.#controller = null;
    this.#opts.store.fence = null;
    if (controller === null) return;
    this.#opts.logger.warn({ event: 'controllerDeactivated', why }, `stopped acting as the controller: ${why}`);
    await controller.close();
  }

  registerBroker(request: Omit<BrokerRegistrationRequest, 'clusterId'> & { clusterId: string }): Promise<{ brokerEpoch: number }> {
    return this.#run((c) => c.registerBroker(request));
  }

  heartbeat(request: HeartbeatRequest): Promise<HeartbeatAnswer> {
    return this.#run((c) => c.heartbeat(request));
  }

  connectionLost(brokerId: number, brokerEpoch: number): void {
    if (this.active) this.#controller?.connectionLost(brokerId, brokerEpoch);
  }

  alterPartition(request: AlterPartitionRequest): Promise<AlterPartitionResponse> {
    return this.#run((c) => c.alterPartition(request));
  }

  allocateProducerIds(request: Parameters<Controller['allocateProducerIds']>[0]): Promise<{ firstProducerId: number; count: number }> {
    return this.#run((c) => c.allocateProducerIds(request));
  }

  changes(afterVersion: number, opts: Parameters<Controller['changes']>[1]): Promise<{ latestVersion: number; entries: MetadataEntry[] }> {
    return this.#run((c) => c.changes(afterVersion, opts));
  }

  createTopic(request: CreateTopicRequest, opts?: { validateOnly?: boolean }): Promise<{ partitions: number; replicationFactor: number }> {
    return this.#run((c) => c.createTopic(request, opts));
  }

  createInternalTopic(request: CreateTopicRequest): Promise<void> {
    return this.#run((c) => c.createInternalTopic(request));
  }

  deleteTopic(name: string): Promise<void> {
    return this.#run((c) => c.deleteTopic(name));
  }

  alterTopicConfig(name: string, changes: readonly { name: string; value: string | null }[], opts?: { validateOnly?: boolean }): Promise<void> {
    return this.#run((c) => c.alterTopicConfig(name, changes, opts));
  }

  createPartitions(name: string, count: number, opts?: { validateOnly?: boolean }): Promise<void> {
    return this.#run((c) => c.createPartitions(name, count, opts));
  }

  autoCreate(name: string): Promise<boolean> {
    return this.#run((c) => c.autoCreate(name));
  }

  alterPartitionReassignments(request: AlterPartitionReassignmentsRequest): Promise<AlterPartitionReassignmentsResponse> {
    return this.#run((c) => c.alterPartitionReassignments(request));
  }

  listPartitionReassignments(request: ListPartitionReassignmentsRequest): Promise<ListPartitionReassignmentsResponse> {
    return this.#run((c) => c.listPartitionReassignments(request));
  }

  electLeaders(request: ElectLeadersRequest): Promise<ElectLeadersResponse> {
    return this.#run((c) => c.electLeaders(request));
  }

  alterUserScramCredentials(request: AlterUserScramCredentialsRequest): Promise<AlterUserScramCredentialsResponse> {
    return this.#run((c) => c.alterUserScramCredentials(request));
  }

  createAcls(request: CreateAclsRequest): Promise<CreateAclsResponse> {
    return this.#run((c) => c.createAcls(request));
  }

  deleteAcls(request: DeleteAclsRequest): Promise<DeleteAclsResponse> {
    return this.#run((c) => c.deleteAcls(request));
  }

  alterClientQuotas(request: AlterClientQuotasRequest): Promise<AlterClientQuotasResponse> {
    return this.#run((c) => c.alterClientQuotas(request));
  }

  /** Runs `fn` on the active controller, or refuses with NOT_CONTROLLER; store failures said as the wire should say them. */
  async #run<T>(fn: (controller: Controller) => Promise<T>): Promise<T> {
    const controller = this.#controller;
    if (controller === null || !this.#opts.election.active) throw this.#notController();
    try {
      return await fn(controller);
    } catch (error) {
      throw this.#translate(error);
    }
  }

  #notController(): ProtocolError {
    const leader = this.#opts.election.leader;
    const elsewhere = leader !== null && leader.nodeId !== this.#opts.config.nodeId ? `; node ${leader.nodeId} at ${leader.host}:${leader.port} is` : '; none is elected right now';
    return new ProtocolError('NOT_CONTROLLER', `node ${this.#opts.config.nodeId} is not the active controller${elsewhere}`);
  }

  #translate(error: unknown): unknown {
    if (error instanceof MetadataStoreFencedError) {
      this.#opts.election.stepDown(error.message);
      return new ProtocolError('NOT_CONTROLLER', error.message);
    }
    if (error instanceof ControllerClosedError) return this.#notController();
    if (error instanceof StaleMetadataError) return new ProtocolError('NOT_CONTROLLER', `the metadata changed under this controller (${error.message}); another node may lead`);
    // Anything the etcd client throws (unavailable, deadline passed): the change did not commit, say where it failed.
    if (isEtcdFailure(error)) return new ProtocolError('REQUEST_TIMED_OUT', `${describeEtcdFailure(error, this.#opts.etcdHosts)}; the metadata change was not made, retry once etcd is back`);
    return error;
  }
}
