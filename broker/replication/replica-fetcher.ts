/**
 * A replica fetcher: copies the partitions this broker follows from one
 * leader broker, over one client Connection on the injected transport and
 * clock, with Fetch v1 (replicaId = this broker, its broker epoch, and the
 * leader epoch it follows). A leader that does not speak Fetch v1 is not
 * fetched from (it is logged, and tried again after a backoff).
 *
 * Each partition goes through two states:
 * - truncating (on becoming follower, and at start): the divergent tail is
 *   cut before anything is fetched (KIP-101 / KIP-279). The follower asks
 *   OffsetForLeaderEpoch for its latest epoch; when it holds the epoch the
 *   leader answers with, it truncates to the lower of the leader's end of
 *   that epoch and its own; when it does not, it truncates to where its own
 *   older epoch ends and asks again about that one. `truncateTo` is called
 *   even when the target is at or past the log end: it also drops an epoch
 *   this replica began as leader but never wrote in.
 * - fetching: from its log end; the batches are appended as they are
 *   (`appendAsFollower`) and the leader's high watermark taken. A
 *   DiscontinuousAppendError (the logs disagree after all) sends it back to
 *   truncating; OFFSET_OUT_OF_RANGE below the leader's log start empties the
 *   log and restarts it there (`truncateFullyAndStartAt`), above it truncates
 *   again; FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH / NOT_LEADER_OR_FOLLOWER
 *   park it until the metadata moves it (or a backoff passes).
 *
 * Memory is bounded: one fetch in flight per fetcher, at most
 * `maxBytes` in its response, and each append waits for the log's room
 * (`waitAppendable`) before the next fetch is sent.
 */
import { Connection } from '../../client/connection.js';
import type { Logger as ClientLogger } from '../../client/types.js';
import type { ClientWorld } from '../../client/world.js';
import { Errors, errorNameOf } from '../../protocol/errors.js';
import type { FetchRequest } from '../../protocol/messages.js';
import type { Logger } from '../log.js';
import type { Partition } from '../partition.js';
import { monotonicMs } from '../world/clock.js';
import { DiscontinuousAppendError } from '../storage/errors.js';
import { divergenceStep } from './divergence.js';

/** Rounds of OffsetForLeaderEpoch one truncation may take (each steps to an older epoch). */
const TRUNCATION_ROUNDS_MAX = 32;

export interface FetcherOptions {
  nodeId: number;
  world: ClientWorld;
  logger: Logger;
  brokerEpoch(): number;
  maxWaitMs: number;
  maxBytes: number;
  partitionMaxBytes: number;
  backoffMs: number;
}

type FetchState = 'truncating' | 'fetching' | 'parked';

interface Followed {
  leaderEpoch: number;
  state: FetchState;
  /** While parked: when to try again. */
  retryAtMs: number;
}

export class ReplicaFetcher {
  readonly leaderId: number;
  readonly host: string;
  readonly port: number;
  readonly #opts: FetcherOptions;
  readonly #connection: Connection;
  readonly #partitions = new Map<Partition, Followed>();
  #closed = false;
  #wake: (() => void) | null = null;
  readonly #done: Promise<void>;

  constructor(leader: { id: number; host: string; port: number }, opts: FetcherOptions) {
    this.leaderId = leader.id;
    this.host = leader.host;
    this.port = leader.port;
    this.#opts = opts;
    this.#connection = new Connection({
      host: leader.host,
      port: leader.port,
      clientId: `runnel-replica-fetcher-${opts.nodeId}`,
      connectTimeoutMs: 10_000,
      requestTimeoutMs: opts.maxWaitMs + 30_000,
      maxInFlightRequests: 1,
      maxFrameBytes: opts.maxBytes + 1024 * 1024,
      reconnect: { initialBackoffMs: opts.backoffMs, maxBackoffMs: opts.backoffMs * 10 },
      logger: quiet(opts.logger),
      world: opts.world,
    });
    this.#done = this.#run();
  }

  get size(): number {
    return this.#partitions.size;
  }

  /** Follows `partition` at `leaderEpoch` from this leader: truncation first, then fetching. */
  add(partition: Partition, leaderEpoch: number): void {
    this.#partitions.set(partition, { leaderEpoch, state: 'truncating', retryAtMs: 0 });
    this.#kick();
  }

  remove(partition: Partition): void {
    this.#partitions.delete(partition);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#kick();
    await this.#connection.close();
    await this.#done;
  }

  #kick(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Waits for `add`/`close`, or `ms`. */
  #idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#opts.world.clock.schedule(ms, () => {
        this.#wake = null;
        resolve();
      });
      this.#wake = () => {
        timer.cancel();
        resolve();
      };
    });
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      try {
        this.#dropStale();
        const nowMs = monotonicMs(this.#opts.world.clock);
        for (const [partition, followed] of this.#partitions) {
          if (followed.state === 'parked' && nowMs >= followed.retryAtMs) followed.state = 'truncating';
          if (followed.state === 'truncating') await this.#truncate(partition, followed);
        }
        const fetching = [...this.#partitions].filter(([, f]) => f.state === 'fetching');
        if (fetching.length === 0) {
          await this.#idle(this.#opts.backoffMs);
          continue;
        }
        await this.#fetch(fetching);
      } catch (error) {
        if (this.#closed) break;
        this.#opts.logger.warn({ event: 'replicaFetchFailed', leader: this.leaderId, err: error }, `fetching from broker ${this.leaderId} at ${this.host}:${this.port} failed: ${(error as Error).message}; retrying in ${this.#opts.backoffMs} ms`);
        await this.#idle(this.#opts.backoffMs);
      }
    }
  }

  /** Partitions no longer following this leader at their epoch (role change, deletion) are dropped. */
  #dropStale(): void {
    for (const [partition, followed] of this.#partitions) {
      if (!partition.serving || partition.role !== 'follower' || partition.leaderEpoch !== followed.leaderEpoch) this.#partitions.delete(partition);
    }
  }

  #stillFollowing(partition: Partition, followed: Followed): boolean {
    return !this.#closed && this.#partitions.get(partition) === followed && partition.serving && partition.role === 'follower' && partition.leaderEpoch === followed.leaderEpoch;
  }

  #park(followed: Followed, why: string, partition: Partition): void {
    followed.state = 'parked';
    followed.retryAtMs = monotonicMs(this.#opts.world.clock) + this.#opts.backoffMs;
    this.#opts.logger.info({ event: 'replicaFetchParked', topic: partition.topic, partition: partition.index, leader: this.leaderId, reason: why }, `${partition.topic}-${partition.index}: not fetching from broker ${this.leaderId} for now (${why})`);
  }

  async #speaksFetchV1(): Promise<boolean> {
    await this.#connection.connect();
    const version = this.#connection.versionOf('Fetch') ?? -1;
    if (version >= 1) return true;
    throw new Error(`broker ${this.leaderId} speaks Fetch up to v${version}; a follower needs v1 (leader epochs)`);
  }

  /** KIP-101/279 truncation of `partition`'s divergent tail, asking the leader (see the file comment). */
  async #truncate(partition: Partition, followed: Followed): Promise<void> {
    await this.#speaksFetchV1();
    let asked = partition.latestLogEpoch;
    let target = partition.logEndOffset;
    for (let round = 0; round < TRUNCATION_ROUNDS_MAX && asked >= 0; round++) {
      const response = await this.#connection.request('OffsetForLeaderEpoch', {
        replicaId: this.#opts.nodeId,
        topics: [{ name: partition.topic, partitions: [{ partition: partition.index, currentLeaderEpoch: followed.leaderEpoch, leaderEpoch: asked }] }],
      });
      if (!this.#stillFollowing(partition, followed)) return;
      const answer = response.topics[0]?.partitions[0];
      if (answer === undefined || answer.errorCode !== Errors.NONE.code) {
        this.#park(followed, answer === undefined ? 'no answer for the partition' : `OffsetForLeaderEpoch: ${errorNameOf(answer.errorCode)}`, partition);
        return;
      }
      // Should the leader know no epoch at or below ours, only what was committed is kept (Kafka's rule) and the rest fetched.
      const step = divergenceStep(target, { epoch: answer.leaderEpoch, endOffset: answer.endOffset }, answer.endOffset < 0 ? { epoch: -1, endOffset: -1 } : partition.endOffsetForEpoch(answer.leaderEpoch), partition.highWatermark);
      target = step.target;
      asked = step.next;
    }
    if (!this.#stillFollowing(partition, followed)) return;
    const from = partition.logEndOffset;
    await partition.truncateTo(Math.max(0, target));
    if (partition.logEndOffset < from) {
      this.#opts.logger.info({ event: 'followerTruncated', topic: partition.topic, partition: partition.index, from, to: partition.logEndOffset, leader: this.leaderId, leaderEpoch: followed.leaderEpoch }, `${partition.topic}-${partition.index}: truncated the divergent tail from ${from} to ${partition.logEndOffset} before following broker ${this.leaderId}`);
    }
    if (this.#stillFollowing(partition, followed)) followed.state = 'fetching';
  }

  async #fetch(fetching: [Partition, Followed][]): Promise<void> {
    await this.#speaksFetchV1();
    const topics = new Map<string, FetchRequest['topics'][number]>();
    for (const [partition, followed] of fetching) {
      let entry = topics.get(partition.topic);
      if (entry === undefined) topics.set(partition.topic, (entry = { name: partition.topic, partitions: [] }));
      entry.partitions.push({ partition: partition.index, currentLeaderEpoch: followed.leaderEpoch, fetchOffset: partition.logEndOffset, partitionMaxBytes: this.#opts.partitionMaxBytes });
    }
    const response = await this.#connection.request('Fetch', {
      replicaId: this.#opts.nodeId,
      replicaEpoch: this.#opts.brokerEpoch(),
      maxWaitMs: this.#opts.maxWaitMs,
      minBytes: 1,
      maxBytes: this.#opts.maxBytes,
      topics: [...topics.values()],
    });
    const byKey = new Map(fetching.map(([partition, followed]) => [`${partition.topic}\u0000${partition.index}`, [partition, followed] as const]));
    for (const topic of response.topics) {
      for (const result of topic.partitions) {
        const found = byKey.get(`${topic.name}\u0000${result.partition}`);
        if (found === undefined) continue;
        const [partition, followed] = found;
        if (!this.#stillFollowing(partition, followed)) continue;
        await this.#take(partition, followed, result);
      }
    }
  }

  async #take(partition: Partition, followed: Followed, result: { errorCode: number; highWatermark: number; logStartOffset: number; records: Uint8Array[] }): Promise<void> {
    switch (result.errorCode) {
      case Errors.NONE.code:
        break;
      case Errors.OFFSET_OUT_OF_RANGE.code:
        await this.#outOfRange(partition, followed);
        return;
      default:
        this.#park(followed, `Fetch: ${errorNameOf(result.errorCode)}`, partition);
        return;
    }
    if (result.records.length > 0) {
      for (let round = 0; round < 1_000 && !partition.appendable; round++) await partition.waitAppendable();
      if (!this.#stillFollowing(partition, followed)) return;
      try {
        partition.appendAsFollower(concat(result.records));
      } catch (error) {
        if (!(error instanceof DiscontinuousAppendError)) throw error;
        this.#opts.logger.warn({ event: 'followerDiscontinuous', topic: partition.topic, partition: partition.index, err: error }, `${partition.topic}-${partition.index}: the leader's batches do not continue this log (${error.message}); truncating again`);
        followed.state = 'truncating';
        return;
      }
    }
    partition.updateLeaderHighWatermark(result.highWatermark);
    // Applied before the next fetch goes out: the leader counts on that to answer DeleteRecords (log-start-sync.ts).
    if (result.logStartOffset > partition.logStartOffset) await partition.followLeaderLogStart(result.logStartOffset);
  }

  /** The leader has no batch at our log end: its log starts past it (start over there) or ends before it (truncate). */
  async #outOfRange(partition: Partition, followed: Followed): Promise<void> {
    const response = await this.#connection.request('ListOffsets', {
      replicaId: this.#opts.nodeId,
      topics: [{ name: partition.topic, partitions: [{ partition: partition.index, currentLeaderEpoch: followed.leaderEpoch, timestamp: -2 }] }],
    });
    const earliest = response.topics[0]?.partitions[0];
    if (!this.#stillFollowing(partition, followed)) return;
    if (earliest === undefined || earliest.errorCode !== Errors.NONE.code) {
      this.#park(followed, 'ListOffsets after OFFSET_OUT_OF_RANGE failed', partition);
      return;
    }
    if (partition.logEndOffset < earliest.offset) {
      this.#opts.logger.warn({ event: 'followerRestarted', topic: partition.topic, partition: partition.index, from: partition.logEndOffset, to: earliest.offset }, `${partition.topic}-${partition.index}: the leader's log starts at ${earliest.offset}, past this replica's end ${partition.logEndOffset}; starting over there`);
      await partition.truncateFullyAndStartAt(earliest.offset);
      return;
    }
    followed.state = 'truncating';
  }
}

/** Fetched batch slices as the one buffer appendAsFollower takes (no copy for a single slice). */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** The client's logger interface on the broker's logger, one level down: the fetcher reports what matters itself. */
function quiet(logger: Logger): ClientLogger {
  const child = logger.child({ component: 'replica-fetcher' });
  return {
    debug: () => undefined,
    info: (obj, msg) => child.debug(obj, msg),
    warn: (obj, msg) => child.info(obj, msg),
    error: (obj, msg) => child.warn(obj, msg),
  };
}
