/**
 * What the idempotence tests send and check: `perPartition` records to each
 * of `partitions` partitions, values `tag:p:i` in send order, and a reader
 * that takes every record of the topic back up to the log end and says,
 * record by record, what is duplicated, missing or out of order.
 */
import type { Producer, RecordMetadata, Runnel } from '../../../client/index.js';

/** Sends the ledger through `producer`, one send() per record, not awaited between (the producer keeps the order). */
export async function sendLedger(producer: Producer, opts: { topic: string; tag: string; partitions: number; perPartition: number; pauseEvery?: { records: number; ms: number } }): Promise<RecordMetadata[]> {
  const sends: Promise<RecordMetadata[]>[] = [];
  for (let i = 0; i < opts.perPartition; i++) {
    for (let p = 0; p < opts.partitions; p++) sends.push(producer.send({ topic: opts.topic, messages: [{ partition: p, value: `${opts.tag}:${p}:${i}` }] }));
    if (opts.pauseEvery !== undefined && (i + 1) % opts.pauseEvery.records === 0) await new Promise((resolve) => setTimeout(resolve, opts.pauseEvery!.ms));
  }
  return (await Promise.all(sends)).flat();
}

/** Every value of `tag` in each partition, in log order, read up to the log end (bounded by `timeoutMs`). */
export async function readLedger(runnel: Runnel, opts: { topic: string; tag: string; partitions: number; timeoutMs?: number }): Promise<string[][]> {
  const ends = await runnel.admin().listOffsets(opts.topic);
  const consumer = runnel.consumer({ maxWaitMs: 100 });
  consumer.assign(ends.map((e) => ({ topic: opts.topic, partition: e.partition, offset: 'earliest' as const })));
  const total = ends.reduce((sum, e) => sum + e.latest - e.earliest, 0);
  const out: string[][] = Array.from({ length: opts.partitions }, () => []);
  let seen = 0;
  const timer = setTimeout(() => void consumer.close(), opts.timeoutMs ?? 20_000);
  try {
    if (total > 0) {
      for await (const m of consumer) {
        const value = m.value?.toString('utf8') ?? '';
        if (value.startsWith(`${opts.tag}:`)) out[m.partition]!.push(value);
        if (++seen >= total) break;
      }
    }
  } finally {
    clearTimeout(timer);
    await consumer.close();
  }
  return out;
}

/** Per partition: the values that differ from exactly `tag:p:0 .. tag:p:n-1` in order ([] when all is well). */
export function ledgerProblems(got: string[][], opts: { tag: string; perPartition: number }): string[] {
  const problems: string[] = [];
  got.forEach((values, p) => {
    const counts = new Map<string, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    const dups = [...counts].filter(([, c]) => c > 1).map(([v, c]) => `${v} x${c}`);
    if (dups.length > 0) problems.push(`partition ${p}: ${dups.length} duplicated: ${dups.slice(0, 5).join(', ')}`);
    const missing: number[] = [];
    for (let i = 0; i < opts.perPartition; i++) if (!counts.has(`${opts.tag}:${p}:${i}`)) missing.push(i);
    if (missing.length > 0) problems.push(`partition ${p}: ${missing.length} missing, from ${missing.slice(0, 5).join(', ')}`);
    const order = values.map((v) => Number(v.split(':')[2]));
    const firstBackwards = order.findIndex((n, i) => i > 0 && n <= order[i - 1]!);
    if (firstBackwards > 0) problems.push(`partition ${p}: out of send order at log position ${firstBackwards}: ${order[firstBackwards - 1]} then ${order[firstBackwards]}`);
  });
  return problems;
}
