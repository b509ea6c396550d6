/**
 * Controller election on etcd: every broker started with
 * `--controller etcd://...` is a candidate, and the one whose candidate key
 * is oldest leads (etcd's own election recipe, as its `concurrency`
 * package does it).
 *
 * A candidate holds an etcd lease of `controller.lease.ms` (etcd counts
 * leases in whole seconds: rounded up) and puts, under that lease,
 * `<prefix>election/<lease id>` = `{ nodeId, host, port }`. The key with the
 * lowest create revision is the leader's; every candidate watches the
 * election keys and re-reads them on any change, so `leader` is who leads
 * as this node last saw etcd (brokers send their controller requests there).
 *
 * The lease is kept alive here, every third of its TTL, on the injected
 * Clock. Each keepalive that etcd answers moves the lease's *horizon* to
 * the time it was sent plus the TTL: etcd cannot have expired the lease
 * before then (it counts from when it received the keepalive, later). So
 * as long as the clock says now < horizon, no other candidate can have
 * taken over: `active` is true only then. Past the horizon without an
 * answer (etcd away, or this process paused), the node steps down at once
 * and campaigns again with a new lease (behind any other candidate, which
 * then leads). A controller's metadata commits are also conditional on its
 * election key (etcd-store.ts `fence`): if it was deposed while paused, the
 * first commit it tries after waking is refused by etcd, and it steps down
 * then at the latest.
 */
import type { Etcd3, Lease } from 'etcd3';
import { backoffMs } from '../../client/backoff.js';
import { sleepOn } from '../../client/clock.js';
import type { Logger } from '../log.js';
import type { WriteFence } from '../metadata/etcd-store.js';
import { monotonicMs, type Clock, type TimerHandle } from '../world/clock.js';
import type { Rng } from '../world/rng.js';

export interface ControllerCandidate {
  nodeId: number;
  host: string;
  port: number;
}

export interface CandidacyOptions {
  client: Etcd3;
  /** The cluster's key prefix, ending in `/`. */
  prefix: string;
  /** This node, read when it campaigns (the port is known once the listener is bound). */
  me: () => ControllerCandidate;
  leaseMs: number;
  clock: Clock;
  rng: Rng;
  logger: Logger;
  /** This node won: run the controller, committing under `fence`. A rejection steps it down again. */
  onElected(fence: WriteFence): Promise<void>;
  /** This node no longer leads (its lease ended or etcd refused its commit): stop answering as controller. */
  onDeposed(why: string): Promise<void>;
}

const RETRY = { initialBackoffMs: 200, maxBackoffMs: 2000 };

export class EtcdCandidacy {
  readonly #opts: CandidacyOptions;
  readonly #ttlSeconds: number;
  readonly #closed = new AbortController();
  #leader: ControllerCandidate | null = null;
  #lease: Lease | null = null;
  #fence: WriteFence | null = null;
  #elected = false;
  #horizonMs = Number.NEGATIVE_INFINITY;
  #keepaliveTimer: TimerHandle | null = null;
  #watcher: { cancel(): Promise<void> } | null = null;
  /** Re-reads of the election keys run one after another. */
  #refreshing: Promise<void> = Promise.resolve();
  #campaigning: Promise<void> = Promise.resolve();
  readonly #listeners = new Set<() => void>();

  constructor(opts: CandidacyOptions) {
    this.#opts = opts;
    this.#ttlSeconds = Math.max(1, Math.ceil(opts.leaseMs / 1000));
  }

  /** The leader as last read from etcd (null: none elected, or not known yet). */
  get leader(): ControllerCandidate | null {
    return this.#leader;
  }

  /** This node leads and its lease is certainly still alive in etcd. */
  get active(): boolean {
    return this.#elected && monotonicMs(this.#opts.clock) < this.#horizonMs;
  }

  /** Calls `listener` whenever `leader` or `active` may have changed. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts watching the election and campaigning; resolves once the first read of the election is done. */
  async start(): Promise<void> {
    const { client, prefix } = this.#opts;
    const watcher = await client.watch().prefix(`${prefix}election/`).create();
    this.#watcher = watcher;
    watcher.on('data', () => this.#refresh());
    // A watch that reconnected may have missed events: read again.
    watcher.on('connected', () => this.#refresh());
    await this.#refresh();
    this.#campaigning = this.#campaign();
  }

  /** Etcd refused a commit for the fence (or the controller failed to start): give up leadership now. */
  stepDown(why: string): void {
    if (!this.#elected) return;
    this.#loseLease(why);
  }

  async close(): Promise<void> {
    this.#closed.abort();
    this.#keepaliveTimer?.cancel();
    const wasElected = this.#elected;
    this.#elected = false;
    if (wasElected) await this.#opts.onDeposed('this node is shutting down').catch(() => undefined);
    // Revoking deletes the key at once: another candidate takes over now rather than a lease later.
    await this.#lease?.revoke().catch(() => undefined);
    await this.#watcher?.cancel().catch(() => undefined);
    await this.#campaigning;
    await this.#refreshing;
  }

  /** Grants a lease and puts this node's candidate key under it, retrying until it has or the candidacy closes. */
  async #campaign(): Promise<void> {
    const { client, prefix, clock, logger, rng } = this.#opts;
    for (let attempt = 0; !this.#closed.signal.aborted; attempt++) {
      try {
        const lease = client.lease(this.#ttlSeconds, { autoKeepAlive: false });
        const sentAtMs = monotonicMs(clock);
        const leaseId = await lease.grant();
        this.#lease = lease;
        const key = `${prefix}election/${BigInt(leaseId).toString(16)}`;
        const put = await client.put(key).value(JSON.stringify(this.#opts.me())).lease(leaseId).exec();
        this.#horizonMs = sentAtMs + this.#ttlSeconds * 1000;
        this.#fence = { key, createRevision: String(put.header.revision) };
        logger.info({ event: 'controllerCandidate', key, leaseMs: this.#ttlSeconds * 1000 }, `campaigning for controller (candidate key ${key})`);
        this.#scheduleKeepalive();
        await this.#refresh();
        return;
      } catch (error) {
        if (this.#closed.signal.aborted) return;
        const delay = backoffMs(RETRY, attempt, () => rng.next());
        if (attempt === 0 || attempt % 10 === 0) logger.warn({ event: 'campaignFailed', err: error }, `could not campaign for controller in etcd (${(error as Error).message}); retrying in ${delay} ms`);
        await sleepOn(clock, delay, this.#closed.signal, { keepAlive: true });
      }
    }
  }

  #scheduleKeepalive(): void {
    if (this.#closed.signal.aborted) return;
    const lease = this.#lease;
    const everyMs = Math.max(100, Math.floor((this.#ttlSeconds * 1000) / 3));
    this.#keepaliveTimer = this.#opts.clock.schedule(everyMs, () => {
      if (lease !== this.#lease) return;
      // Checked before anything else: a process that woke from a pause finds its lease past due at once.
      if (monotonicMs(this.#opts.clock) >= this.#horizonMs) {
        this.#loseLease(`its etcd lease was not renewed within ${this.#ttlSeconds * 1000} ms (etcd unreachable, or this process was paused)`);
        return;
      }
      const sentAtMs = monotonicMs(this.#opts.clock);
      lease!.keepaliveOnce().then(
        (response) => {
          if (lease !== this.#lease) return;
          if (Number(response.TTL) <= 0) {
            this.#loseLease('etcd says its lease expired');
            return;
          }
          this.#horizonMs = sentAtMs + this.#ttlSeconds * 1000;
          this.#scheduleKeepalive();
        },
        (error: unknown) => {
          if (lease !== this.#lease) return;
          this.#opts.logger.warn({ event: 'leaseKeepaliveFailed', err: error }, `could not renew the controller lease in etcd: ${(error as Error).message}`);
          this.#scheduleKeepalive();
        },
      );
    });
  }

  /** The lease is (or must be taken as) gone: step down if leading, and campaign again with a new one. */
  #loseLease(why: string): void {
    const lease = this.#lease;
    this.#lease = null;
    this.#fence = null;
    this.#horizonMs = Number.NEGATIVE_INFINITY;
    this.#keepaliveTimer?.cancel();
    void lease?.revoke().catch(() => undefined);
    if (this.#elected) {
      this.#elected = false;
      this.#opts.logger.warn({ event: 'controllerDeposed', why }, `this node is no longer the controller: ${why}`);
      void this.#opts.onDeposed(why).catch((error: unknown) => this.#opts.logger.error({ err: error }, 'stopping the controller failed'));
    }
    this.#notify();
    if (!this.#closed.signal.aborted) this.#campaigning = this.#campaigning.then(() => this.#campaign());
  }

  /** Re-reads the election keys: who leads, and whether it is this node. */
  #refresh(): Promise<void> {
    const run = this.#refreshing.then(() => this.#readElection()).catch((error: unknown) => {
      if (!this.#closed.signal.aborted) this.#opts.logger.warn({ event: 'electionReadFailed', err: error }, `could not read the controller election from etcd: ${(error as Error).message}`);
    });
    this.#refreshing = run;
    return run;
  }

  async #readElection(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    const { client, prefix } = this.#opts;
    const response = await client.getAll().prefix(`${prefix}election/`).sort('Create', 'Ascend').limit(1).exec();
    const first = response.kvs[0];
    const leader = first === undefined ? null : parseCandidate(first.value.toString());
    const changed = JSON.stringify(leader) !== JSON.stringify(this.#leader);
    this.#leader = leader;
    const fence = this.#fence;
    const mine = first !== undefined && fence !== null && first.key.toString() === fence.key && String(first.create_revision) === fence.createRevision;
    if (changed) this.#opts.logger.info({ event: 'controllerLeader', leader }, leader === null ? 'no controller is elected' : `the controller is node ${leader.nodeId} at ${leader.host}:${leader.port}`);
    if (mine && !this.#elected) {
      this.#elected = true;
      this.#opts.logger.info({ event: 'controllerElected', key: fence.key, revision: fence.createRevision }, 'this node won the controller election');
      try {
        await this.#opts.onElected(fence);
      } catch (error) {
        this.#loseLease(`the controller could not start: ${(error as Error).message}`);
        return;
      }
    }
    this.#notify();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

function parseCandidate(text: string): ControllerCandidate | null {
  try {
    const value = JSON.parse(text) as Partial<ControllerCandidate>;
    if (typeof value.nodeId === 'number' && typeof value.host === 'string' && typeof value.port === 'number') return { nodeId: value.nodeId, host: value.host, port: value.port };
  } catch {
    // not a candidate's value
  }
  return null;
}
