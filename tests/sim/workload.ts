/**
 * The clients of a simulated run, on the network's `client` host with the
 * SDK (client/): an admin that creates the topics, a producer with acks=all
 * (idempotent, the SDK's default) sending unique values (`s<seed>-<n>`) to chosen partitions at random
 * times, and a consumer reading every partition from the start. Each ack
 * and each consumed record is checked against the committed records
 * (invariants.ts) as it arrives, and traced.
 */
import { Runnel } from '../../client/runnel.js';
import type { Consumer, Producer } from '../../client/types.js';
import type { Rng } from '../../broker/world/rng.js';
import type { Simulation } from './engine.js';
import type { Invariants } from './invariants.js';
import { PORT } from './sim-node.js';

/** The SDK's error name (RunnelError's `errorName`), else the error's own name. */
function errorName(error: unknown): string {
  return (error as { errorName?: string }).errorName ?? (error as Error).name ?? String(error);
}

export interface TopicPlan {
  name: string;
  partitions: number;
  config: Record<string, string>;
}

export interface Acked {
  topic: string;
  partition: number;
  offset: number;
  value: string;
}

export class Workload {
  readonly #sim: Simulation;
  readonly #invariants: Invariants;
  readonly #rng: Rng;
  readonly #client: Runnel;
  readonly #producer: Producer;
  #consumer: Consumer | null = null;
  readonly acked: Acked[] = [];
  /** topic-p -> offset -> value read by the consumer. */
  readonly consumed = new Map<string, Map<number, string>>();
  /** Sends not yet settled. */
  pending = 0;
  failed = 0;
  #sent = 0;

  constructor(sim: Simulation, invariants: Invariants) {
    this.#sim = sim;
    this.#invariants = invariants;
    this.#rng = sim.rngFor('workload');
    const rng = sim.rngFor('client');
    this.#client = new Runnel(
      { bootstrap: [1, 2, 3].map((id) => `b${id}:${PORT}`), clientId: 'sim', requestTimeoutMs: 3000, connectTimeoutMs: 2000, retry: { initialBackoffMs: 50, maxBackoffMs: 500 } },
      { transport: sim.network.node('client'), clock: sim.clock, rng: { next: () => rng.next() } },
    );
    this.#producer = this.#client.producer({ acks: 'all', lingerMs: 2, deliveryTimeoutMs: 30_000, requestTimeoutMs: 3000, metadataMaxAgeMs: 2000 });
  }

  /** Creates the topics through the admin (retried until done or `untilMs`); true once all exist. */
  async createTopics(topics: readonly TopicPlan[], untilMs: number): Promise<boolean> {
    const admin = this.#client.admin();
    for (const topic of topics) {
      for (;;) {
        const outcome = await this.#sim.settle(admin.createTopic({ name: topic.name, partitions: topic.partitions, replicationFactor: 3, config: topic.config }), untilMs);
        if (outcome === null) return false;
        if ('value' in outcome || errorName(outcome.error) === 'TOPIC_ALREADY_EXISTS') break;
        if (this.#sim.elapsedMs >= untilMs) return false;
        await this.#sim.runUntil(this.#sim.elapsedMs + 200);
      }
    }
    return true;
  }

  /** Sends one record to a random partition of `topics`. */
  send(topics: readonly TopicPlan[]): void {
    const topic = topics[this.#rng.int(topics.length)]!;
    const partition = this.#rng.int(topic.partitions);
    const value = `s${this.#sim.seed}-${this.#sent++}`;
    this.pending += 1;
    this.#producer.send({ topic: topic.name, messages: [{ value, partition }] }).then(
      ([meta]) => this.#sim.guard(() => {
        this.pending -= 1;
        this.#sim.event(`ack ${topic.name}-${partition}@${meta!.offset} ${value}`);
        this.acked.push({ topic: topic.name, partition, offset: meta!.offset, value });
        this.#invariants.acked(topic.name, partition, meta!.offset, value);
      }),
      (error: unknown) => {
        this.pending -= 1;
        this.failed += 1;
        this.#sim.event(`send failed ${topic.name}-${partition} ${value}: ${errorName(error)}`);
      },
    );
  }

  /** Starts the consumer on every partition from the earliest offset; it reads until `close`. */
  startConsumer(topics: readonly TopicPlan[]): void {
    const consumer = this.#client.consumer({ maxWaitMs: 500, requestTimeoutMs: 3000 });
    this.#consumer = consumer;
    consumer.assign(topics.flatMap((t) => Array.from({ length: t.partitions }, (_, partition) => ({ topic: t.name, partition, offset: 'earliest' as const }))));
    consumer.on('offset-reset', (event) => this.#sim.event(`consumer offset reset ${event.topic}-${event.partition} ${event.fromOffset} -> ${event.toOffset}`));
    void (async () => {
      // A damaged batch (a flipped bit served by a leader) is reported as CORRUPT_MESSAGE; the app reads on from the same position,
      // which a new leader serves intact once the damaged log is wiped. Any other error ends the consumer, which liveness notices.
      for (let corrupt = 0; corrupt < 1000; corrupt++) {
        try {
          for await (const message of consumer) {
            const value = message.value?.toString() ?? '';
            const tp = `${message.topic}-${message.partition}`;
            this.#invariants.consumed(message.topic, message.partition, message.offset, value);
            let seen = this.consumed.get(tp);
            if (seen === undefined) this.consumed.set(tp, (seen = new Map()));
            seen.set(message.offset, value);
            this.#sim.event(`consumed ${tp}@${message.offset}`);
          }
          return;
        } catch (error) {
          if (this.#sim.failure !== null) return;
          const name = errorName(error);
          this.#sim.event(`consumer error: ${name}`);
          if (name !== 'CORRUPT_MESSAGE') return;
          await new Promise<void>((resolve) => this.#sim.clock.schedule(100, resolve));
        }
      }
    })();
  }

  /** The next offset the consumer will read in `topic-partition`. */
  position(topic: string, partition: number): number {
    return this.#consumer?.position(topic, partition) ?? 0;
  }

  async close(): Promise<void> {
    await this.#client.close().catch(() => undefined);
  }
}
