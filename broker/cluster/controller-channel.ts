/**
 * How a broker reaches its controller: one interface, two ways. The
 * embedded broker (`runnel start`) calls the Controller in its own process
 * (`InProcessControllerChannel`, here); a broker of a cluster sends the
 * controller APIs over a connection (`RemoteControllerChannel`,
 * remote-controller-channel.ts). The broker's lifecycle
 * (broker-lifecycle.ts) and its forwarding of admin requests
 * (forwarding-admin.ts) do not know which.
 *
 * Errors are the controller's own: ProtocolErrors naming the wire error
 * (STALE_BROKER_EPOCH, INCONSISTENT_CLUSTER_ID, ...), whichever way they came.
 */
import type { AlterPartitionRequest, AlterPartitionResponse, RequestBodies, ResponseBodies } from '../../protocol/messages.js';
import { MAX_PRODUCER_ID_BLOCK, type Controller } from '../controller/controller.js';
import type { MetadataEntry, RegisteredListener } from '../metadata/changes.js';

/** Who follows the metadata log: a broker by its id and current registration epoch. */
export interface PollingBroker {
  brokerId: number;
  brokerEpoch: number;
}

export type ForwardedApi = 'CreateTopics' | 'DeleteTopics' | 'AlterConfigs' | 'CreatePartitions' | 'AlterPartitionReassignments' | 'ListPartitionReassignments' | 'ElectLeaders' | 'AlterUserScramCredentials' | 'CreateAcls' | 'DeleteAcls' | 'AlterClientQuotas';

export interface BrokerIdentity {
  brokerId: number;
  incarnationId: string;
  /** '' for a broker that has never registered (its data directory names no cluster yet). */
  clusterId: string;
  host: string;
  port: number;
  rack: string | null;
  /** Every listener with its advertised endpoint, when they are known (BrokerRegistration v1); absent: host/port is the one. */
  listeners?: RegisteredListener[];
}

export interface HeartbeatRequest {
  brokerId: number;
  brokerEpoch: number;
  metadataVersion: number;
  wantShutDown?: boolean;
}

export interface ProducerIdsRequest {
  brokerId: number;
  brokerEpoch: number;
}

/** Producer ids [firstProducerId, firstProducerId + count), this broker's alone. */
export interface ProducerIdBlock {
  firstProducerId: number;
  count: number;
}

export interface HeartbeatAnswer {
  fenced: boolean;
  shouldShutDown: boolean;
}

export interface ControllerChannel {
  /** Registers this broker (again after a restart: new epoch). */
  register(r: BrokerIdentity): Promise<{ brokerEpoch: number; clusterId: string }>;
  /** `wantShutDown`: controlled shutdown (Controller.heartbeat); `signal` gives up waiting for an unreachable controller. */
  heartbeat(h: HeartbeatRequest, opts?: { signal?: AbortSignal }): Promise<HeartbeatAnswer>;
  /** ISR changes by a leader; per-partition results carry their own errors. */
  alterPartition(req: AlterPartitionRequest): Promise<AlterPartitionResponse>;
  /** The next block of producer ids for this broker (Controller.allocateProducerIds). */
  allocateProducerIds(req: ProducerIdsRequest): Promise<ProducerIdBlock>;
  /**
   * Long poll for metadata entries after `afterVersion`, by the registered
   * broker `broker` (STALE_BROKER_EPOCH when that is not its current
   * registration), or by a tool that says so with null.
   */
  changes(afterVersion: number, opts: { maxWaitMs: number; signal: AbortSignal; broker: PollingBroker | null }): Promise<{ latestVersion: number; entries: MetadataEntry[] }>;
  /** Admin requests forwarded to the controller. */
  forward<K extends ForwardedApi>(api: K, request: RequestBodies[K], opts?: { signal?: AbortSignal }): Promise<ResponseBodies[K]>;
  /** The controller's node id, as Metadata names it. */
  readonly controllerId: number;
  /** Calls `listener` whenever the connection to the controller closes (a remote channel; in process there is none). */
  onDisconnect?(listener: () => void): void;
  close(): Promise<void>;
}

/** The most entries one MetadataChanges answer carries. */
export const MAX_CHANGES_PER_POLL = 1000;

/** The embedded mode: the controller is in this process; every call is a method call. */
export class InProcessControllerChannel implements ControllerChannel {
  readonly #controller: Controller;
  readonly #answerAdmin: <K extends ForwardedApi>(api: K, request: RequestBodies[K]) => Promise<ResponseBodies[K]>;
  readonly controllerId: number;

  /** `answerAdmin`: the controller process's own admin handlers (what a forwarded request reaches over the wire). */
  constructor(opts: { controller: Controller; controllerId: number; answerAdmin: <K extends ForwardedApi>(api: K, request: RequestBodies[K]) => Promise<ResponseBodies[K]> }) {
    this.#controller = opts.controller;
    this.#answerAdmin = opts.answerAdmin;
    this.controllerId = opts.controllerId;
  }

  async register(r: BrokerIdentity): Promise<{ brokerEpoch: number; clusterId: string }> {
    const { brokerEpoch } = await this.#controller.registerBroker(r);
    return { brokerEpoch, clusterId: this.#controller.clusterId };
  }

  heartbeat(h: HeartbeatRequest): Promise<HeartbeatAnswer> {
    return this.#controller.heartbeat(h);
  }

  alterPartition(req: AlterPartitionRequest): Promise<AlterPartitionResponse> {
    return this.#controller.alterPartition(req);
  }

  allocateProducerIds(req: ProducerIdsRequest): Promise<ProducerIdBlock> {
    return this.#controller.allocateProducerIds({ ...req, count: MAX_PRODUCER_ID_BLOCK });
  }

  changes(afterVersion: number, opts: { maxWaitMs: number; signal: AbortSignal; broker: PollingBroker | null }): Promise<{ latestVersion: number; entries: MetadataEntry[] }> {
    return this.#controller.changes(afterVersion, { ...opts, maxEntries: MAX_CHANGES_PER_POLL });
  }

  forward<K extends ForwardedApi>(api: K, request: RequestBodies[K]): Promise<ResponseBodies[K]> {
    return this.#answerAdmin(api, request);
  }

  async close(): Promise<void> {
    // The controller is closed by its owner (the same process).
  }
}
