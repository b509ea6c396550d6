/**
 * The steady load under a group benchmark: records of `recordBytes` at
 * `ratePerSec`, spread evenly over the topic's partitions (round robin, so
 * every member's partitions keep receiving), sent every few milliseconds
 * with whatever has fallen due, until stopped. A tick that finds too many
 * sends unacknowledged sends nothing and the next one catches up, so a slow
 * broker shows as fewer records, not as a growing queue in this process.
 */
import type { ProducerMessage, Runnel } from '../client/index.js';

const TICK_MS = 5;
const MAX_PENDING_SENDS = 200;

export interface PacedProducer {
  /** Stops sending and waits for what was sent: how many records were acknowledged, and how many sends failed. */
  stop(): Promise<{ acknowledged: number; failed: number }>;
}

export function startPacedProducer(runnel: Runnel, topic: string, partitions: number, ratePerSec: number, recordBytes: number): PacedProducer {
  const producer = runnel.producer();
  const value = Buffer.alloc(recordBytes, 'r');
  const startedMs = performance.now();
  const pending = new Set<Promise<unknown>>();
  let sent = 0;
  let acknowledged = 0;
  let failed = 0;
  const tick = (): void => {
    if (pending.size >= MAX_PENDING_SENDS) return;
    const due = Math.floor((ratePerSec * (performance.now() - startedMs)) / 1000) - sent;
    if (due <= 0) return;
    const messages: ProducerMessage[] = [];
    for (let i = 0; i < due; i++) messages.push({ value, partition: (sent + i) % partitions });
    sent += due;
    const send = producer.send({ topic, messages }).then(
      () => void (acknowledged += due),
      () => void (failed += 1),
    );
    pending.add(send);
    void send.finally(() => pending.delete(send));
  };
  const timer = setInterval(tick, TICK_MS);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...pending]);
      await producer.close();
      return { acknowledged, failed };
    },
  };
}
