/**
 * The replica fetchers of one broker: one per leader broker it follows
 * partitions of (Kafka's ReplicaFetcherManager, with one thread per source
 * broker). `follow` moves a partition to its leader's fetcher (creating it,
 * or replacing it when the leader's address changed); a fetcher left with no
 * partitions is closed.
 */
import type { Partition } from '../partition.js';
import { ReplicaFetcher, type FetcherOptions } from './replica-fetcher.js';

export interface FetcherManagerOptions extends FetcherOptions {
  /** The address broker `id` registered (from the metadata), or undefined when unknown. */
  addressOf(id: number): { host: string; port: number } | undefined;
}

export class ReplicaFetcherManager {
  readonly #opts: FetcherManagerOptions;
  readonly #fetchers = new Map<number, ReplicaFetcher>();
  readonly #following = new Map<Partition, ReplicaFetcher>();
  readonly #closing = new Set<Promise<void>>();

  constructor(opts: FetcherManagerOptions) {
    this.#opts = opts;
  }

  /** Fetches `partition` from broker `leader` at `leaderEpoch` (after truncating); `leader` -1 or unknown: fetches nothing. */
  follow(partition: Partition, leader: number, leaderEpoch: number): void {
    const address = leader < 0 ? undefined : this.#opts.addressOf(leader);
    let fetcher = this.#fetchers.get(leader);
    let moved: Partition[] = [];
    if (fetcher !== undefined && (address === undefined || fetcher.host !== address.host || fetcher.port !== address.port)) {
      // The leader registered a new address: its other partitions move to the new fetcher too.
      moved = [...this.#following].filter(([p, f]) => f === fetcher && p !== partition).map(([p]) => p);
      this.#retire(fetcher);
      fetcher = undefined;
    }
    // The same leader's fetcher keeps its connection: the partition is only re-added (truncation first).
    if (this.#following.get(partition) !== fetcher || fetcher === undefined) this.unfollow(partition);
    if (address === undefined) return;
    if (fetcher === undefined) {
      fetcher = new ReplicaFetcher({ id: leader, ...address }, this.#opts);
      this.#fetchers.set(leader, fetcher);
    }
    fetcher.add(partition, leaderEpoch);
    this.#following.set(partition, fetcher);
    for (const other of moved) {
      fetcher.add(other, other.leaderEpoch);
      this.#following.set(other, fetcher);
    }
  }

  unfollow(partition: Partition): void {
    const fetcher = this.#following.get(partition);
    if (fetcher === undefined) return;
    this.#following.delete(partition);
    fetcher.remove(partition);
    if (fetcher.size === 0) this.#retire(fetcher);
  }

  async close(): Promise<void> {
    for (const fetcher of [...this.#fetchers.values()]) this.#retire(fetcher);
    await Promise.all([...this.#closing]);
  }

  #retire(fetcher: ReplicaFetcher): void {
    if (this.#fetchers.get(fetcher.leaderId) === fetcher) this.#fetchers.delete(fetcher.leaderId);
    for (const [partition, f] of this.#following) if (f === fetcher) this.#following.delete(partition);
    const closed: Promise<void> = fetcher.close().catch(() => undefined).then(() => {
      this.#closing.delete(closed);
    });
    this.#closing.add(closed);
  }
}
