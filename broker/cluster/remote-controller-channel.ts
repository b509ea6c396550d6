/**
 * A broker's channel to a controller in another process: the controller APIs
 * over one client `Connection` on the broker's injected world (transport,
 * clock, randomness), so brokers and controller can run in one simulated
 * process too.
 *
 * While the controller is away (connection refused or lost, a request timed
 * out, NOT_CONTROLLER), each call retries with exponential backoff on the
 * injected clock until it gets an answer or the channel closes; the broker
 * meanwhile keeps serving from its cached metadata. Answers carrying an
 * error are thrown as ProtocolErrors naming it (the caller decides: a
 * STALE_BROKER_EPOCH means register again).
 */
import type { ApiName } from '../../protocol/api-keys.js';
import { errorNameOf, ProtocolError } from '../../protocol/errors.js';
import type { AlterPartitionRequest, AlterPartitionResponse, OutgoingRequestBodies, RequestBodies, ResponseBodies } from '../../protocol/messages.js';
import { backoffMs } from '../../client/backoff.js';
import { sleepOn } from '../../client/clock.js';
import { Connection } from '../../client/connection.js';
import { RunnelError } from '../../client/errors.js';
import type { ClientWorld } from '../../client/world.js';
import type { Logger } from '../log.js';
import { decodeEntry, type MetadataEntry } from '../metadata/changes.js';
import { MAX_CHANGES_PER_POLL, type BrokerIdentity, type ControllerChannel, type ForwardedApi, type HeartbeatAnswer, type HeartbeatRequest, type PollingBroker, type ProducerIdBlock, type ProducerIdsRequest } from './controller-channel.js';

const RETRY = { initialBackoffMs: 100, maxBackoffMs: 2000 };
/** How much longer than its maxWaitMs a long poll may take before the connection is deemed dead. */
const LONG_POLL_MARGIN_MS = 10_000;

export class RemoteControllerChannel implements ControllerChannel {
  readonly #connection: Connection;
  readonly #world: ClientWorld;
  readonly #logger: Logger;
  readonly #closed = new AbortController();
  #controllerId = -1;
  readonly #disconnectListeners: (() => void)[] = [];

  constructor(opts: { host: string; port: number; brokerId: number; world: ClientWorld; logger: Logger; requestTimeoutMs?: number }) {
    this.#world = opts.world;
    this.#logger = opts.logger;
    this.#connection = new Connection({
      host: opts.host,
      port: opts.port,
      clientId: `runnel-broker-${opts.brokerId}`,
      connectTimeoutMs: 5000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 30_000,
      maxInFlightRequests: 16,
      maxFrameBytes: 100 * 1024 * 1024,
      reconnect: RETRY,
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
      world: opts.world,
      onDisconnect: () => {
        for (const listener of this.#disconnectListeners) listener();
      },
    });
  }

  onDisconnect(listener: () => void): void {
    this.#disconnectListeners.push(listener);
  }

  get address(): string {
    return this.#connection.address;
  }

  /** The controller's node id (-1 until the first registration answered). */
  get controllerId(): number {
    return this.#controllerId;
  }

  async register(r: BrokerIdentity): Promise<{ brokerEpoch: number; clusterId: string }> {
    const response = await this.#call('BrokerRegistration', { brokerId: r.brokerId, clusterId: r.clusterId, incarnationId: r.incarnationId, host: r.host, port: r.port, rack: r.rack, listeners: r.listeners ?? [] });
    throwIfError(response);
    // The controller's own Metadata names its id and cluster (a broker's Metadata answers carry them on).
    const metadata = await this.#call('Metadata', { topics: [], allowAutoTopicCreation: false, includeInternal: false });
    this.#controllerId = metadata.controllerId;
    return { brokerEpoch: response.brokerEpoch, clusterId: metadata.clusterId };
  }

  async heartbeat(h: HeartbeatRequest, opts: { signal?: AbortSignal } = {}): Promise<HeartbeatAnswer> {
    const response = await this.#call('BrokerHeartbeat', { ...h, wantShutDown: h.wantShutDown ?? false }, undefined, opts.signal);
    throwIfError(response);
    return { fenced: response.fenced, shouldShutDown: response.shouldShutDown };
  }

  async alterPartition(req: AlterPartitionRequest): Promise<AlterPartitionResponse> {
    const response = await this.#call('AlterPartition', req);
    throwIfError(response);
    return response;
  }

  async allocateProducerIds(req: ProducerIdsRequest): Promise<ProducerIdBlock> {
    const response = await this.#call('AllocateProducerIds', req);
    throwIfError(response);
    return { firstProducerId: response.producerIdStart, count: response.producerIdLen };
  }

  async changes(afterVersion: number, opts: { maxWaitMs: number; signal: AbortSignal; broker: PollingBroker | null }): Promise<{ latestVersion: number; entries: MetadataEntry[] }> {
    const { brokerId, brokerEpoch } = opts.broker ?? { brokerId: -1, brokerEpoch: -1 };
    const response = await this.#call('MetadataChanges', { brokerId, brokerEpoch, afterVersion, maxWaitMs: opts.maxWaitMs, maxEntries: MAX_CHANGES_PER_POLL }, opts.maxWaitMs + LONG_POLL_MARGIN_MS, opts.signal);
    throwIfError(response);
    return { latestVersion: response.latestVersion, entries: response.entries.map((e) => decodeEntry(e.bytes, e.schemaVersion)) };
  }

  /** `signal`: stop waiting (for an answer, or for a controller to answer at all). */
  forward<K extends ForwardedApi>(api: K, request: RequestBodies[K], opts: { signal?: AbortSignal } = {}): Promise<ResponseBodies[K]> {
    return this.#call(api, request as OutgoingRequestBodies[K], undefined, opts.signal);
  }

  async close(): Promise<void> {
    this.#closed.abort();
    await this.#connection.close();
  }

  /** One request, retried with backoff while the controller cannot be reached or is not the controller. */
  async #call<A extends ApiName>(api: A, body: OutgoingRequestBodies[A], timeoutMs?: number, signal?: AbortSignal): Promise<ResponseBodies[A]> {
    for (let attempt = 0; ; attempt++) {
      if (this.#closed.signal.aborted) throw new ProtocolError('BROKER_NOT_AVAILABLE', 'the broker is shutting down');
      if (signal?.aborted === true) throw signal.reason;
      let why: string;
      try {
        const response = await whileNotAborted(this.#connection.request(api, body, timeoutMs), signal);
        const code = (response as { errorCode?: number }).errorCode;
        if (code !== undefined && errorNameOf(code) === 'NOT_CONTROLLER') why = 'it is not the controller';
        else return response;
      } catch (error) {
        if (!(error instanceof RunnelError) || !error.retriable) throw error;
        why = error.reason;
      }
      const delay = backoffMs(RETRY, attempt, () => this.#world.rng.next());
      if (attempt === 0 || attempt % 10 === 0) this.#logger.warn({ event: 'controllerUnreachable', controller: this.address, api, attempt, err: why }, `controller ${this.address} did not answer ${api} (${why}); retrying in ${delay} ms`);
      await sleepOn(this.#world.clock, delay, signal === undefined ? this.#closed.signal : AbortSignal.any([signal, this.#closed.signal]), { keepAlive: true });
    }
  }
}

/**
 * `request`, or its signal's reason as soon as that aborts: a broker that
 * stops must not wait out a MetadataChanges long poll (5 s). The answer that
 * comes later is dropped.
 */
function whileNotAborted<T>(request: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return request;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    request.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function throwIfError(response: { errorCode: number; errorMessage: string | null }): void {
  if (response.errorCode !== 0) throw new ProtocolError(errorNameOf(response.errorCode), response.errorMessage ?? undefined);
}
