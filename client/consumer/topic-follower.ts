/**
 * `subscribe()` without a group: every partition of every subscribed topic,
 * found with Metadata now and every `intervalMs` after, so partitions added
 * to a topic, and topics created later that match a name or pattern, are
 * read too. Partitions there at the first look start where the app asked
 * (fromBeginning or the end); any found later start at their first record,
 * since everything in them was written after the subscription began.
 */
import { errorNameOf } from '../../protocol/errors.js';
import type { Cluster } from '../metadata.js';
import type { Logger, StartOffset } from '../types.js';
import { keyOf } from './partition-state.js';
import { matches, type Subscription } from './subscription.js';
import type { TopicPartition } from './topic-partitions.js';

export interface FollowerControl {
  add(partitions: { topic: string; partition: number; start: StartOffset }[]): void;
  remove(partitions: readonly TopicPartition[]): void;
}

export class TopicFollower {
  readonly #cluster: Cluster;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  readonly #control: FollowerControl;
  readonly #known = new Map<string, TopicPartition>();
  #sub: Subscription | null = null;
  #fromBeginning = false;
  #looked = false;
  #timer: { cancel(): void } | null = null;
  #failures = 0;
  #stopped = false;

  constructor(cluster: Cluster, intervalMs: number, logger: Logger, control: FollowerControl) {
    this.#cluster = cluster;
    this.#intervalMs = intervalMs;
    this.#logger = logger;
    this.#control = control;
  }

  /** Follows `sub` from now on; partitions of topics it no longer matches are dropped, the others keep their place. */
  follow(sub: Subscription, fromBeginning: boolean): void {
    const dropped = [...this.#known].filter(([, tp]) => !matches(sub, tp.topic));
    for (const [key] of dropped) this.#known.delete(key);
    if (dropped.length > 0) this.#control.remove(dropped.map(([, tp]) => tp));
    this.#sub = sub;
    this.#fromBeginning = fromBeginning;
    this.#timer?.cancel();
    void this.#look();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  async #look(): Promise<void> {
    const sub = this.#sub!;
    let delayMs = this.#intervalMs;
    try {
      // Patterns need every topic's name; names alone need only theirs.
      const res = await this.#cluster.fetchMetadata(sub.patterns.length > 0 ? null : sub.names);
      if (this.#stopped || sub !== this.#sub) return;
      const found: { topic: string; partition: number; start: StartOffset }[] = [];
      const start: StartOffset = !this.#looked && !this.#fromBeginning ? 'latest' : 'earliest';
      for (const t of res.topics) {
        // A named topic that does not exist yet has no partitions to read: looked for again next time.
        if (errorNameOf(t.errorCode) !== 'NONE' || !matches(sub, t.name)) continue;
        for (const p of t.partitions) {
          const key = keyOf(t.name, p.partition);
          if (this.#known.has(key)) continue;
          this.#known.set(key, { topic: t.name, partition: p.partition });
          found.push({ topic: t.name, partition: p.partition, start });
        }
      }
      this.#looked = true;
      this.#failures = 0;
      if (found.length > 0) {
        this.#logger.info({ partitions: found.map((f) => `${f.topic}-${f.partition}`).join(', ') }, 'subscribed partitions found');
        this.#control.add(found);
      }
    } catch (err) {
      if (this.#stopped) return;
      delayMs = Math.min(this.#intervalMs, this.#cluster.backoffMs(this.#failures++));
      this.#logger.warn({ err: (err as Error).message }, 'could not look up the subscribed topics; retrying');
    }
    if (this.#stopped || sub !== this.#sub) return;
    // Kept alive: an app iterating a subscription waits for topics that may not exist yet.
    this.#timer = this.#cluster.clock.schedule(delayMs, () => void this.#look(), { keepAlive: true });
  }
}
