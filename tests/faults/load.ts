/**
 * The producers of a fault test: `producers` SDK clients, each keeping
 * `inFlight` single-record sends outstanding, every value unique
 * (`<producer>-<seq>`), partitions taken round-robin, every send and how it
 * settled registered in the ledger. `stop()` stops new sends and waits for
 * every outstanding one to settle (each does within the delivery timeout).
 */
import { Runnel, type Acks } from '../../client/index.js';
import type { Ledger } from '../support/ledger.js';

export interface LoadOptions {
  bootstrap: string[];
  topic: string;
  partitions: number;
  producers: number;
  acks: Acks;
  /** Outstanding sends per producer. */
  inFlight: number;
  deliveryTimeoutMs: number;
  requestTimeoutMs?: number;
  ledger: Ledger;
}

export interface Load {
  /** Sends settled so far (acknowledged or failed). */
  settled(): number;
  stop(): Promise<void>;
}

export function startLoad(opts: LoadOptions): Load {
  let stopping = false;
  let settled = 0;
  const clients: Runnel[] = [];
  const loops: Promise<void>[] = [];
  for (let p = 0; p < opts.producers; p++) {
    const name = `p${p}`;
    const client = new Runnel({ bootstrap: opts.bootstrap, clientId: `fault-${name}`, requestTimeoutMs: opts.requestTimeoutMs ?? 10_000, retry: { initialBackoffMs: 50, maxBackoffMs: 500 } });
    clients.push(client);
    const producer = client.producer({ acks: opts.acks, lingerMs: 2, deliveryTimeoutMs: opts.deliveryTimeoutMs });
    let seq = 0;
    // inFlight chains per producer: each sends its next value when its last one settles.
    const chain = async (): Promise<void> => {
      while (!stopping) {
        const value = `${name}-${seq}`;
        const partition = seq++ % opts.partitions;
        opts.ledger.sent(name, value, partition);
        try {
          const [meta] = await producer.send({ topic: opts.topic, messages: [{ value, partition }] });
          opts.ledger.acked(value, meta!.offset);
        } catch (error) {
          opts.ledger.failed(value, error);
        }
        settled++;
      }
    };
    for (let i = 0; i < opts.inFlight; i++) loops.push(chain());
  }
  return {
    settled: () => settled,
    async stop() {
      stopping = true;
      await Promise.all(loops);
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}
