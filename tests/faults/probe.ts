/**
 * Probe sends for fault 5 (a leader cut off from its followers): single
 * acks=all records sent the moment the cut is in place, so the lone leader
 * appends them while its ISR still names its followers and no follower can
 * ever fetch them before the heal. When the ISR shrinks to the leader alone
 * they must fail with NOT_ENOUGH_REPLICAS_AFTER_APPEND (written, not
 * acknowledged); one that arrives after the shrink is refused unwritten
 * (NOT_ENOUGH_REPLICAS). Acknowledging one is the bug this fault guards.
 *
 * The load's own sends cannot show that bug: its producers keep a fixed
 * number in flight, all appended before the cut, and a follower may hold
 * them already (it fetched them but could not say so before the cut), so an
 * ack of those at the shrink can be right. Hence probes.
 *
 * No retries, so the first answer is the outcome; every probe goes through
 * the ledger like the load's sends (one that failed but was written is
 * replicated after the heal and must be found once in the drain).
 */
import { Runnel, RunnelError } from '../../client/index.js';
import type { Ledger } from '../support/ledger.js';

export interface ProbeOutcome {
  readonly label: string;
  readonly partition: number;
  readonly value: string;
  /** The offset it was acknowledged at, or undefined. */
  readonly offset?: number;
  /** The error's name when it failed (the message for an error that is not a RunnelError). */
  readonly error?: string;
}

const PRODUCER = 'probe';

export class Prober {
  readonly #client: Runnel;
  readonly #producer: ReturnType<Runnel['producer']>;
  readonly #topic: string;
  readonly #ledger: Ledger;
  #next = 0;

  /** `requestTimeoutMs` must outlast the ISR shrink (replica.lag.time.max.ms and a lag check's period after the cut). */
  constructor(opts: { bootstrap: string[]; topic: string; ledger: Ledger; requestTimeoutMs: number }) {
    this.#client = new Runnel({ bootstrap: opts.bootstrap, clientId: 'fault-probe', requestTimeoutMs: opts.requestTimeoutMs });
    this.#producer = this.#client.producer({ acks: 'all', idempotent: false, retries: 0, lingerMs: 0, requestTimeoutMs: opts.requestTimeoutMs, deliveryTimeoutMs: opts.requestTimeoutMs + 5000 });
    this.#topic = opts.topic;
    this.#ledger = opts.ledger;
  }

  /** Sends `perPartition` records to each of `partitions` at once; resolves with each one's outcome once all have one. */
  send(label: string, partitions: readonly number[], perPartition: number): Promise<ProbeOutcome[]> {
    const sends: Promise<ProbeOutcome>[] = [];
    for (const partition of partitions) {
      for (let i = 0; i < perPartition; i++) {
        const value = `${PRODUCER}-${this.#next++}`;
        this.#ledger.sent(PRODUCER, value, partition);
        sends.push(
          this.#producer.send({ topic: this.#topic, messages: [{ value, partition }] }).then(
            ([meta]) => {
              this.#ledger.acked(value, meta!.offset);
              return { label, partition, value, offset: meta!.offset };
            },
            (error: unknown) => {
              this.#ledger.failed(value, error);
              return { label, partition, value, error: error instanceof RunnelError ? error.errorName : String(error) };
            },
          ),
        );
      }
    }
    return Promise.all(sends);
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}
