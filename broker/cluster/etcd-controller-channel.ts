/**
 * A broker's controller channel when the controller is elected in etcd
 * (`--controller etcd://...`): requests go to whichever node the election
 * names (etcd-candidacy.ts), and the metadata log is followed from etcd
 * itself (the etcd store's watch), not from the controller.
 *
 * - The leader is this node: calls go to its own controller seat, in
 *   process. Another node: over a RemoteControllerChannel to its address,
 *   replaced when the election names someone else (calls in flight on the
 *   old one are retried on the new).
 * - No leader known, or the named one answers NOT_CONTROLLER (a takeover
 *   under way): calls wait (backoff on the injected clock) for the election
 *   to name one; the broker meanwhile serves from its cached metadata.
 *   Forwarded admin requests wait at most `adminWaitMs`, then fail with a
 *   sentence that names etcd, so a client is told why no topic can be made.
 * - `changes` answers from the local etcd store (filled by its watch), so
 *   brokers keep following the log whoever leads and while none does.
 */
import { ProtocolError } from '../../protocol/errors.js';
import type { AlterPartitionRequest, AlterPartitionResponse, RequestBodies, ResponseBodies } from '../../protocol/messages.js';
import { backoffMs } from '../../client/backoff.js';
import { sleepOn } from '../../client/clock.js';
import type { ClientWorld } from '../../client/world.js';
import type { Logger } from '../log.js';
import type { MetadataEntry } from '../metadata/changes.js';
import type { MetadataStore } from '../metadata/store.js';
import { MAX_CHANGES_PER_POLL, type BrokerIdentity, type ControllerChannel, type ForwardedApi, type HeartbeatAnswer, type HeartbeatRequest, type PollingBroker, type ProducerIdBlock, type ProducerIdsRequest } from './controller-channel.js';
import type { ControllerSeat } from './controller-seat.js';
import { MAX_PRODUCER_ID_BLOCK } from '../controller/controller.js';
import type { ControllerCandidate } from './etcd-candidacy.js';
import { RemoteControllerChannel } from './remote-controller-channel.js';

const RETRY = { initialBackoffMs: 50, maxBackoffMs: 1000 };

/** The part of a channel both targets (own seat, remote node) answer. */
type Target = Pick<ControllerChannel, 'register' | 'heartbeat' | 'alterPartition' | 'allocateProducerIds' | 'forward'>;

export interface EtcdChannelOptions {
  nodeId: number;
  election: { readonly leader: ControllerCandidate | null; onChange(listener: () => void): () => void };
  seat: ControllerSeat;
  /** This node's own answer to a forwarded admin request (the admin handlers on the seat). */
  answerAdmin: <K extends ForwardedApi>(api: K, request: RequestBodies[K]) => Promise<ResponseBodies[K]>;
  store: MetadataStore;
  world: ClientWorld;
  logger: Logger;
  /** How long a forwarded admin request waits for an elected controller. */
  adminWaitMs: number;
  /** Said when no controller can be reached (names etcd). */
  whyNoController: () => string;
}

export class EtcdControllerChannel implements ControllerChannel {
  readonly #opts: EtcdChannelOptions;
  readonly #closed = new AbortController();
  #remote: { address: string; channel: RemoteControllerChannel } | null = null;
  readonly #disconnectListeners: (() => void)[] = [];
  readonly #self: Target;

  constructor(opts: EtcdChannelOptions) {
    this.#opts = opts;
    const seat = opts.seat;
    this.#self = {
      register: async (r) => ({ brokerEpoch: (await seat.registerBroker(r)).brokerEpoch, clusterId: seat.clusterId }),
      heartbeat: (h) => seat.heartbeat(h),
      alterPartition: (req) => seat.alterPartition(req),
      allocateProducerIds: (req) => seat.allocateProducerIds({ ...req, count: MAX_PRODUCER_ID_BLOCK }),
      forward: (api, request) => opts.answerAdmin(api, request),
    };
    // A new leader: drop the connection to the old one (its calls in flight fail and are retried on the new).
    opts.election.onChange(() => this.#retarget());
  }

  get controllerId(): number {
    return this.#opts.election.leader?.nodeId ?? -1;
  }

  onDisconnect(listener: () => void): void {
    this.#disconnectListeners.push(listener);
  }

  register(r: BrokerIdentity): Promise<{ brokerEpoch: number; clusterId: string }> {
    return this.#call((target) => target.register(r));
  }

  heartbeat(h: HeartbeatRequest, opts: { signal?: AbortSignal } = {}): Promise<HeartbeatAnswer> {
    return this.#call((target) => target.heartbeat(h, opts), { signal: opts.signal });
  }

  alterPartition(req: AlterPartitionRequest): Promise<AlterPartitionResponse> {
    return this.#call((target) => target.alterPartition(req));
  }

  allocateProducerIds(req: ProducerIdsRequest): Promise<ProducerIdBlock> {
    return this.#call((target) => target.allocateProducerIds(req));
  }

  forward<K extends ForwardedApi>(api: K, request: RequestBodies[K]): Promise<ResponseBodies[K]> {
    return this.#call((target, signal) => target.forward(api, request, { signal }), { withinMs: this.#opts.adminWaitMs });
  }

  /** From the etcd store this node follows: at once if it has entries after `afterVersion`, else when one arrives or `maxWaitMs` passes. */
  async changes(afterVersion: number, opts: { maxWaitMs: number; signal: AbortSignal; broker: PollingBroker | null }): Promise<{ latestVersion: number; entries: MetadataEntry[] }> {
    const { store, world } = this.#opts;
    if (store.image.version <= afterVersion && opts.maxWaitMs > 0) {
      const wait = new AbortController();
      const timer = world.clock.schedule(opts.maxWaitMs, () => wait.abort(new Error('maxWaitMs passed')));
      try {
        await store.waitForVersion(afterVersion, AbortSignal.any([wait.signal, opts.signal]));
      } catch (error) {
        if (!wait.signal.aborted || opts.signal.aborted) throw error;
      } finally {
        timer.cancel();
      }
    }
    return { latestVersion: store.image.version, entries: await store.readFrom(afterVersion, MAX_CHANGES_PER_POLL) };
  }

  async close(): Promise<void> {
    this.#closed.abort();
    const remote = this.#remote;
    this.#remote = null;
    await remote?.channel.close();
  }

  /** The target the election names now, or null (none elected, or this node elected but not yet serving). */
  #target(): { target: Target; remote: RemoteControllerChannel | null } | null {
    const leader = this.#opts.election.leader;
    if (leader === null) return null;
    if (leader.nodeId === this.#opts.nodeId) return this.#opts.seat.active ? { target: this.#self, remote: null } : null;
    const address = `${leader.host}:${leader.port}`;
    if (this.#remote?.address !== address) {
      void this.#remote?.channel.close();
      const channel = new RemoteControllerChannel({ host: leader.host, port: leader.port, brokerId: this.#opts.nodeId, world: this.#opts.world, logger: this.#opts.logger });
      channel.onDisconnect(() => {
        for (const listener of this.#disconnectListeners) listener();
      });
      this.#remote = { address, channel };
    }
    return { target: this.#remote.channel, remote: this.#remote.channel };
  }

  #retarget(): void {
    const leader = this.#opts.election.leader;
    if (this.#remote !== null && (leader === null || `${leader.host}:${leader.port}` !== this.#remote.address || leader.nodeId === this.#opts.nodeId)) {
      const old = this.#remote;
      this.#remote = null;
      void old.channel.close();
    }
  }

  /**
   * `fn` on the current target, again on the next one while none answers as
   * controller; `withinMs` bounds the wait (then a NOT_CONTROLLER naming etcd).
   */
  async #call<T>(fn: (target: Target, signal: AbortSignal) => Promise<T>, opts: { signal?: AbortSignal | undefined; withinMs?: number } = {}): Promise<T> {
    const { clock, rng } = this.#opts.world;
    const deadline = new AbortController();
    const timer = opts.withinMs === undefined ? null : clock.schedule(opts.withinMs, () => deadline.abort(new ProtocolError('NOT_CONTROLLER', this.#opts.whyNoController())));
    const stop = AbortSignal.any([this.#closed.signal, deadline.signal, ...(opts.signal === undefined ? [] : [opts.signal])]);
    try {
      for (let attempt = 0; ; attempt++) {
        if (this.#closed.signal.aborted) throw new ProtocolError('BROKER_NOT_AVAILABLE', 'the broker is shutting down');
        if (stop.aborted) throw stop.reason;
        const current = this.#target();
        if (current !== null) {
          try {
            return await fn(current.target, stop);
          } catch (error) {
            if (stop.aborted && !this.#closed.signal.aborted) throw stop.reason;
            // NOT_CONTROLLER from the own seat (a takeover under way), or the remote replaced under the call: ask again.
            const replaced = current.remote !== null && this.#remote?.channel !== current.remote;
            if (!replaced && !(error instanceof ProtocolError && error.errorName === 'NOT_CONTROLLER')) throw error;
          }
        }
        await sleepOn(clock, backoffMs(RETRY, attempt, () => rng.next()), stop, { keepAlive: true });
      }
    } finally {
      timer?.cancel();
    }
  }
}
