/**
 * One member of the queue benchmark, in the bench's own process: a queue
 * (`runnel.queue`) whose loop receives a batch and acknowledges every
 * message one by one (`msg.ack()`, as an app would; the SDK batches the
 * acknowledgements on the wire). A record counts once its ack() resolves
 * (the coordinator has it durably): the tally then holds every record
 * accepted, offset by offset, so one accepted twice or never shows.
 * Optionally it notes each message's lateness against a due time the
 * record's value carries (the delayed-delivery figure).
 */
import type { Message, Queue, QueueOrdering, Runnel } from '../client/index.js';
import type { OffsetTally } from './offset-tally.js';

export interface QueueMemberOptions {
  topic: string;
  group: string;
  ordering: QueueOrdering;
  /** Records one receive asks for. */
  batch: number;
  /** How long one receive waits for a record (the loop receives again after an empty one). */
  waitMs: number;
  tally: OffsetTally;
  /** Receive time minus the due time in each record's value (ms since the epoch, as text); off for throughput runs. */
  lateness?: number[];
}

export class QueueMember {
  readonly queue: Queue;
  readonly #opts: QueueMemberOptions;
  #stopped = false;
  #loop: Promise<void> = Promise.resolve();
  #failure: Error | null = null;
  /** Acknowledgements the coordinator refused. */
  refused = 0;
  /** Receives that came back, and the records they brought (records per fetch: what each ShareFetch's fixed cost is spread over). */
  receives = 0;
  received = 0;

  constructor(runnel: Runnel, opts: QueueMemberOptions) {
    this.#opts = opts;
    this.queue = runnel.queue({ topic: opts.topic, group: opts.group, ordering: opts.ordering, batchSize: opts.batch });
  }

  /** Joined the group (its configuration is known). */
  get joined(): boolean {
    return this.queue.config !== null;
  }

  start(): void {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    const { tally, lateness } = this.#opts;
    try {
      while (!this.#stopped) {
        const messages = await this.queue.receive({ max: this.#opts.batch, waitMs: this.#opts.waitMs });
        const receivedAtMs = Date.now();
        this.receives += 1;
        this.received += messages.length;
        for (const m of messages) {
          if (lateness !== undefined) lateness.push(receivedAtMs - dueOf(m));
          const { partition, offset } = m;
          m.ack().then(() => tally.record(partition, offset), () => void (this.refused += 1));
        }
      }
    } catch (err) {
      if (!this.#stopped) this.#failure = err as Error;
    }
  }

  /** Stops receiving and closes the queue (pending acknowledgements go out first); rethrows what ended its loop. */
  async close(): Promise<void> {
    this.#stopped = true;
    await this.queue.close();
    await this.#loop;
    if (this.#failure !== null) throw new Error(`its queue failed: ${this.#failure.message}`, { cause: this.#failure });
  }
}

function dueOf(m: Message): number {
  return Number(m.value?.toString('latin1') ?? 'NaN');
}
