/**
 * A broker's life in its cluster (CLUSTER.md "Broker lifecycle"):
 * register with the controller -> follow the metadata log into the
 * MetadataCache (MetadataChanges long polls) -> have the ReplicaManager
 * carry out each change -> heartbeat every `broker.heartbeat.interval.ms`.
 *
 * - Registration retries (with backoff on the injected clock) while the
 *   controller is away or another live session holds the id (a restart
 *   before the old session timed out). An answer that the broker belongs to
 *   another cluster is final: `start` rejects with it.
 * - The first registration of a data directory records the cluster id in
 *   `cluster.id` there; later registrations send it, so a broker whose disk
 *   belongs to another cluster is refused instead of mixing data.
 * - `start` resolves once the broker has applied the metadata up to its own
 *   registration (it knows what it hosts); the first image applied opens and
 *   adopts the logs on disk (ReplicaManager.start).
 * - STALE_BROKER_EPOCH (to a heartbeat, an ISR change, a metadata poll)
 *   means the controller no longer knows this registration: the broker
 *   registers again (a new epoch; once per stale epoch, however many
 *   requests were told so: `staleEpoch`).
 * - Fenced, the broker refuses produce (NOT_LEADER_OR_FOLLOWER) and keeps
 *   serving reads (CLUSTER.md "Broker lifecycle"): from its registration
 *   until a heartbeat says it is unfenced, when a heartbeat or its metadata
 *   says the controller fenced it, and (a broker of a cluster) once no
 *   heartbeat has been answered for `broker.session.timeout.ms` since it was
 *   sent, or for `broker.session.disconnect.timeout.ms` since its connection
 *   to the controller closed. That last one is a lease: the controller counts
 *   from when the heartbeat arrived (or the connection closed on its side,
 *   no earlier than on this one), so the broker stops taking writes no later
 *   than the controller fences it and moves its leaderships. Without it a
 *   leader cut off from the controller would go on acknowledging acks=1
 *   writes that the new leader never sees.
 *   With the controller elected in etcd (etcd-candidacy.ts) the same lease
 *   holds across a takeover: a new controller starts every session fresh
 *   when it takes over, and it can take over only after etcd expired the old
 *   one's lease, after which the old one answers no heartbeat
 *   (controller-seat.ts). So every heartbeat that renewed this lease was
 *   sent before the takeover, and the lease ends before the new controller
 *   can fence this broker. While etcd is down nobody can commit a fence at
 *   all, and the lease runs on from the last heartbeat the old controller
 *   answered: acks 0 and 1 writes go on for up to controller.lease.ms plus
 *   the session timeout (docs/ARCHITECTURE.md, "The controller on etcd").
 *   The lease bounds only those (whyFenced says why acks=all needs none), so
 *   acks=all producing goes on through an etcd outage of any length.
 * - While the controller is unreachable the cache keeps what it has and the
 *   broker keeps serving it.
 * - An entry that breaks the image's invariants is fatal (BrokerFaults): the
 *   broker would otherwise serve state it cannot trust.
 *
 * The embedded broker (`follow: false`) only registers and heartbeats: its
 * controller, in the same process, applies each commit to it directly.
 */
import path from 'node:path';
import { ProtocolError } from '../../protocol/errors.js';
import { backoffMs } from '../../client/backoff.js';
import { sleepOn } from '../../client/clock.js';
import type { BrokerFaults } from '../faults.js';
import type { Logger } from '../log.js';
import { MetadataGapError, type MetadataCache } from '../metadata/cache.js';
import type { MetadataEntry, RegisteredListener } from '../metadata/changes.js';
import type { MetadataImage } from '../metadata/image.js';
import type { ReplicaManager, WriteKind } from '../replication/replica-manager.js';
import { InvariantError } from '../world/assert.js';
import { monotonicMs, type Clock, type TimerHandle } from '../world/clock.js';
import type { FileSystem } from '../world/file-system.js';
import type { Rng } from '../world/rng.js';
import type { ControllerChannel } from './controller-channel.js';
import type { AppliedMetadata } from './forwarding-admin.js';

/** How long one MetadataChanges long poll waits for a new entry. */
const POLL_WAIT_MS = 5000;
const RETRY = { initialBackoffMs: 100, maxBackoffMs: 2000 };
export const CLUSTER_ID_FILE = 'cluster.id';
/** A broker waiting to join (not listening yet) has nothing else keeping its process alive. */
const KEEP_ALIVE = { keepAlive: true };
/** In controlled shutdown, how long to wait for the metadata change before asking again anyway. */
const CONTROLLED_SHUTDOWN_POLL_MS = 500;

export interface LifecycleOptions {
  channel: ControllerChannel;
  replicas: ReplicaManager;
  /** Followed from the controller when given (a broker of a cluster); null: the embedded broker. */
  cache: MetadataCache | null;
  /** Read at each registration: the port is known only once the listener is bound. */
  identity: () => { brokerId: number; host: string; port: number; rack: string | null; listeners?: RegisteredListener[] };
  heartbeatIntervalMs: number;
  /** The controller's `broker.session.timeout.ms`: how long an answered heartbeat keeps this broker unfenced (the lease). */
  sessionTimeoutMs: number;
  /** The controller's `broker.session.disconnect.timeout.ms` (0: none): once the connection to it closes, the lease lasts at most this long. */
  sessionDisconnectTimeoutMs: number;
  dataDir: string;
  fs: FileSystem;
  clock: Clock;
  rng: Rng;
  logger: Logger;
  faults: BrokerFaults;
}

export class BrokerLifecycle implements AppliedMetadata {
  readonly #opts: LifecycleOptions;
  readonly #incarnationId: string;
  readonly #closed = new AbortController();
  #brokerEpoch = -1;
  #fenced = true;
  /** Writes are taken until then (ms on the clock): the send time of the last heartbeat answered unfenced, plus the session timeout. */
  #leaseUntilMs = Number.NEGATIVE_INFINITY;
  /** The last heartbeat was answered too late to keep the lease: the next goes at once. */
  #askAgainAtOnce = false;
  /** A registration again after a stale epoch, while it runs. */
  #reregistering: Promise<void> | null = null;
  #heartbeatTimer: TimerHandle | null = null;
  #polling: Promise<void> = Promise.resolve();
  #applying: Promise<unknown> = Promise.resolve();
  #started = false;
  /** In controlled shutdown: the regular heartbeats stop (they would not unfence it anyway). */
  #shuttingDown = false;
  readonly #waiters = new Set<() => void>();

  constructor(opts: LifecycleOptions) {
    this.#opts = opts;
    this.#incarnationId = randomId(opts.rng);
    opts.replicas.fenceWrites((kind) => this.whyFenced(kind));
    // The controller ends a session this long after the broker's connection to it closes: so does the lease.
    opts.channel.onDisconnect?.(() => {
      if (opts.sessionDisconnectTimeoutMs > 0) this.#leaseUntilMs = Math.min(this.#leaseUntilMs, monotonicMs(opts.clock) + opts.sessionDisconnectTimeoutMs);
    });
  }

  /**
   * Why this broker must take no writes of `kind` now (see the file
   * comment), or null. The lease bounds only writes acknowledged on this
   * broker's word (acks 0 or 1): an acks=all write is acknowledged only once
   * the ISR has it, and a leader the controller replaced has followers that
   * fetch from the new leader and an ISR it cannot change without the
   * controller, so it cannot acknowledge one. That keeps acks=all producing
   * going through a controller outage (etcd down), however long.
   */
  whyFenced(kind: WriteKind = 'local'): string | null {
    const { replicas, clock, cache } = this.#opts;
    if (this.#fenced) return this.#brokerEpoch < 0 ? 'it has not registered with its controller yet' : 'its controller has it fenced (it registered just now, or missed its heartbeats)';
    if (replicas.image.brokers.get(replicas.nodeId)?.fenced === true) return 'the metadata says its controller fenced it';
    // The embedded broker's controller is in its own process: no session to lose.
    if (kind === 'local' && cache !== null && monotonicMs(clock) >= this.#leaseUntilMs) return `no heartbeat was answered for broker.session.timeout.ms (${this.#opts.sessionTimeoutMs} ms): its controller has fenced it by now`;
    return null;
  }

  get brokerEpoch(): number {
    return this.#brokerEpoch;
  }

  /** As the controller last answered a heartbeat. */
  get fenced(): boolean {
    return this.#fenced;
  }

  /** The metadata this broker serves (the replica manager's). */
  get image(): MetadataImage {
    return this.#opts.replicas.image;
  }

  /** Registers, catches up, starts following and heartbeating; resolves once this broker is part of the cluster. */
  async start(): Promise<void> {
    const { cache, replicas } = this.#opts;
    await this.#register();
    if (cache !== null) {
      while (cache.version < this.#brokerEpoch) await this.#pollOnce();
      if (!this.#started) {
        await replicas.start(cache.image);
        this.#started = true;
      }
      cache.onChange((previous, next) => {
        this.#applying = replicas.apply(previous, next).then(
          () => this.#wake(),
          (error: unknown) => {
            if (!this.#closed.signal.aborted) this.#opts.logger.error({ err: error }, 'could not apply a metadata change');
          },
        );
      });
      this.#polling = this.#follow();
    }
    await this.#heartbeat();
    this.#scheduleHeartbeat();
  }

  until(test: (image: MetadataImage) => boolean, withinMs: number): Promise<boolean> {
    if (test(this.image)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!test(this.image)) return;
        finish(true);
      };
      const finish = (ok: boolean): void => {
        timer.cancel();
        this.#waiters.delete(check);
        resolve(ok);
      };
      const timer = this.#opts.clock.schedule(withinMs, () => finish(false));
      this.#waiters.add(check);
    });
  }

  /**
   * The controller called `epoch` (this broker's at the time of a request)
   * stale: registers again unless that was done already for it. Resolves
   * once registered (never rejects: a failure is logged, the next heartbeat
   * tries again).
   */
  staleEpoch(epoch: number): Promise<void> {
    if (this.#closed.signal.aborted || this.#shuttingDown || epoch !== this.#brokerEpoch) return this.#reregistering ?? Promise.resolve();
    this.#reregistering ??= (async () => {
      this.#opts.logger.warn({ event: 'staleBrokerEpoch', brokerEpoch: epoch }, `the controller no longer knows epoch ${epoch}: registering again`);
      this.#fenced = true;
      try {
        await this.#register();
      } catch (error) {
        if (!this.#closed.signal.aborted) this.#opts.logger.error({ err: error }, `registering again failed: ${(error as Error).message}`);
      } finally {
        this.#reregistering = null;
      }
    })();
    return this.#reregistering;
  }

  /**
   * Controlled shutdown (SIGTERM on a broker of a cluster): asks the
   * controller to move this broker's leaderships and take it out of every
   * ISR, and waits until it has applied that (the controller answers
   * `shouldShutDown`), at most `withinMs`. Then clients already find the
   * new leaders when the process stops. Resolves whether it completed; an
   * unreachable controller only delays the stop by `withinMs`. The embedded
   * broker has nothing to hand over: its controller stops with it.
   */
  async shutDown(withinMs: number): Promise<boolean> {
    const { channel, clock, logger, replicas } = this.#opts;
    if (this.#opts.cache === null || this.#brokerEpoch === -1 || withinMs <= 0 || this.#closed.signal.aborted) return false;
    this.#shuttingDown = true;
    this.#heartbeatTimer?.cancel();
    const giveUp = new AbortController();
    const deadline = clock.schedule(withinMs, () => giveUp.abort(new Error(`no answer within ${withinMs} ms`)));
    const { brokerId } = this.#opts.identity();
    try {
      for (let attempt = 0; !giveUp.signal.aborted; attempt++) {
        const applied = replicas.image.version;
        try {
          // The signal also gives up on a request in flight (the channel stops waiting for its answer).
          const answer = await channel.heartbeat({ brokerId, brokerEpoch: this.#brokerEpoch, metadataVersion: applied, wantShutDown: true }, { signal: giveUp.signal });
          this.#fenced = answer.fenced;
          if (answer.shouldShutDown) {
            logger.info({ event: 'controlledShutdown', brokerEpoch: this.#brokerEpoch, metadataVersion: applied }, 'controlled shutdown: this broker leads nothing and is out of every ISR; stopping');
            return true;
          }
          // The controller has committed the move; wait until this broker has applied it.
          await this.until((image) => image.version > applied, CONTROLLED_SHUTDOWN_POLL_MS);
        } catch (error) {
          if (giveUp.signal.aborted) break;
          if (error instanceof ProtocolError && error.errorName === 'STALE_BROKER_EPOCH') return false; // the controller no longer counts on this broker
          logger.warn({ err: error }, `controlled shutdown: the controller did not answer (${(error as Error).message}); asking again`);
          await sleepOn(clock, backoffMs(RETRY, attempt, () => this.#opts.rng.next()), giveUp.signal, KEEP_ALIVE);
        }
      }
      logger.warn({ event: 'controlledShutdownIncomplete', withinMs }, `controlled shutdown did not complete within ${withinMs} ms (controlled.shutdown.timeout.ms); stopping anyway: this broker's partitions change leader when its session ends`);
      return false;
    } finally {
      deadline.cancel();
    }
  }

  async close(): Promise<void> {
    this.#closed.abort();
    this.#heartbeatTimer?.cancel();
    await this.#polling;
    await this.#applying;
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  async #register(): Promise<void> {
    const { channel, logger } = this.#opts;
    const identity = this.#opts.identity();
    const clusterId = await this.#recordedClusterId();
    for (let attempt = 0; ; attempt++) {
      try {
        const registered = await channel.register({ ...identity, incarnationId: this.#incarnationId, clusterId });
        this.#brokerEpoch = registered.brokerEpoch;
        this.#fenced = true;
        if (clusterId === '') await this.#recordClusterId(registered.clusterId);
        logger.info({ event: 'registered', brokerId: identity.brokerId, brokerEpoch: registered.brokerEpoch, clusterId: registered.clusterId }, `broker ${identity.brokerId} registered with its controller (epoch ${registered.brokerEpoch})`);
        return;
      } catch (error) {
        if (this.#closed.signal.aborted) throw error;
        if (!(error instanceof ProtocolError) || error.errorName !== 'DUPLICATE_BROKER_REGISTRATION') throw error;
        logger.warn({ event: 'registrationRefused', err: error.detail }, `registration refused: ${error.detail}; retrying`);
        await sleepOn(this.#opts.clock, backoffMs(RETRY, attempt, () => this.#opts.rng.next()), this.#closed.signal, KEEP_ALIVE);
      }
    }
  }

  async #recordedClusterId(): Promise<string> {
    const file = path.join(this.#opts.dataDir, CLUSTER_ID_FILE);
    if ((await this.#opts.fs.stat(file)) === null) return '';
    return Buffer.from(await this.#opts.fs.readFile(file)).toString('utf8').trim();
  }

  async #recordClusterId(clusterId: string): Promise<void> {
    await this.#opts.fs.writeFileAtomic(path.join(this.#opts.dataDir, CLUSTER_ID_FILE), Buffer.from(`${clusterId}\n`));
  }

  /** One MetadataChanges poll into the cache. */
  async #pollOnce(): Promise<void> {
    const cache = this.#opts.cache!;
    const broker = { brokerId: this.#opts.identity().brokerId, brokerEpoch: this.#brokerEpoch };
    let entries: MetadataEntry[];
    try {
      ({ entries } = await this.#opts.channel.changes(cache.version, { maxWaitMs: POLL_WAIT_MS, signal: this.#closed.signal, broker }));
    } catch (error) {
      if (!(error instanceof ProtocolError) || error.errorName !== 'STALE_BROKER_EPOCH') throw error;
      await this.staleEpoch(broker.brokerEpoch);
      return;
    }
    try {
      cache.apply(entries);
    } catch (error) {
      if (error instanceof MetadataGapError) return; // asked again from the cached version next time
      throw error;
    }
  }

  async #follow(): Promise<void> {
    for (let attempt = 0; !this.#closed.signal.aborted; ) {
      try {
        await this.#pollOnce();
        attempt = 0;
      } catch (error) {
        if (this.#closed.signal.aborted) return;
        if (error instanceof InvariantError) {
          this.#opts.faults.fatal(error, { component: 'metadataCache' });
          return;
        }
        this.#opts.logger.warn({ err: error }, `following the metadata log failed: ${(error as Error).message}; retrying`);
        await sleepOn(this.#opts.clock, backoffMs(RETRY, attempt++, () => this.#opts.rng.next()), this.#closed.signal, KEEP_ALIVE);
      }
    }
  }

  async #heartbeat(): Promise<void> {
    const { channel, logger, replicas } = this.#opts;
    if (this.#shuttingDown) return;
    const identity = this.#opts.identity();
    const sentAtMs = monotonicMs(this.#opts.clock);
    const epoch = this.#brokerEpoch;
    try {
      const { fenced } = await channel.heartbeat({ brokerId: identity.brokerId, brokerEpoch: epoch, metadataVersion: replicas.image.version });
      if (fenced !== this.#fenced) logger.info({ event: fenced ? 'fenced' : 'unfenced', brokerEpoch: this.#brokerEpoch }, fenced ? 'the controller fenced this broker' : 'the controller unfenced this broker');
      this.#fenced = fenced;
      if (!fenced) this.#leaseUntilMs = sentAtMs + this.#opts.sessionTimeoutMs;
      this.#askAgainAtOnce = !fenced && monotonicMs(this.#opts.clock) >= this.#leaseUntilMs;
    } catch (error) {
      if (this.#closed.signal.aborted) return;
      if (error instanceof ProtocolError && error.errorName === 'STALE_BROKER_EPOCH') {
        await this.staleEpoch(epoch);
        return;
      }
      logger.warn({ err: error }, `heartbeat failed: ${(error as Error).message}`);
    }
  }

  #scheduleHeartbeat(): void {
    if (this.#closed.signal.aborted || this.#shuttingDown) return;
    // An answer that came too late to renew the lease (the controller was away): ask again at once.
    const delayMs = this.#askAgainAtOnce ? 0 : this.#opts.heartbeatIntervalMs;
    this.#askAgainAtOnce = false;
    this.#heartbeatTimer = this.#opts.clock.schedule(delayMs, () => {
      void this.#heartbeat()
        .catch((error: unknown) => this.#opts.logger.error({ err: error }, 'heartbeat loop failed'))
        .finally(() => this.#scheduleHeartbeat());
    });
  }
}

/** 16 random bytes, base64url: a new one at every start of the process. */
function randomId(rng: Rng): string {
  const bytes = Buffer.alloc(16);
  for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
  return bytes.toString('base64url');
}
