/**
 * The SDK when its broker goes away: a producer and a consumer keep running
 * while the broker is stopped (SIGTERM), then killed (SIGKILL), and
 * restarted on the same port and data directory. The producer's retries
 * carry its batches over each gap; afterwards every record it acknowledged
 * is there (the topic is fsync=always: acknowledged means on disk), at its
 * acknowledged offset, in send order per partition, and the consumer, which
 * reconnected by itself, saw them all.
 *
 * Without an idempotent producer, a batch whose acknowledgement was lost in a
 * restart is written again by the retry: at least once, as Kafka without
 * idempotence. So a value may appear more than once, but only as an earlier,
 * unacknowledged copy of a send whose acknowledged copy is where its
 * RecordMetadata says. Every wait is on an event (an acknowledgement, a
 * consumed record), counted in distinct records, never in deliveries.
 */
import t from 'tap';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { Runnel, type Message, type RecordMetadata } from '../../client/index.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const TOPIC = 'restart';
const PARTITIONS = 2;

t.test('producer and consumer ride out a broker stop, a kill and two restarts', async (t) => {
  let broker: BrokerProcess = await startBrokerProcess();
  const { port, dataDir } = broker;
  t.teardown(async () => {
    await broker.kill('SIGKILL');
  });
  const restart = async (how: 'stop' | 'kill'): Promise<void> => {
    if (how === 'stop') await broker.stop();
    else await broker.kill('SIGKILL');
    broker = await startBrokerProcess({ dataDir, args: ['--port', String(port)] });
    t.equal(broker.port, port, 'restarted on the same port');
  };

  const runnel = new Runnel({
    bootstrap: [broker.bootstrap], logger: silent, requestTimeoutMs: 5000,
    retry: { retries: 40, initialBackoffMs: 50, maxBackoffMs: 500 },
  });
  t.teardown(() => runnel.close());
  await runnel.admin().createTopic({ name: TOPIC, partitions: PARTITIONS, config: { fsync: 'always' } });

  // Waits re-checked whenever an acknowledgement or a record arrives, bounded in time.
  const waiters = new Set<() => void>();
  const changed = (): void => {
    for (const check of [...waiters]) check();
  };
  const until = (what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!cond()) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  const where = (m: { partition: number; offset: number }): string => `${m.partition}/${m.offset}`;
  const consumer = runnel.consumer({ maxWaitMs: 200 });
  consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition, offset: 'earliest' as const })));
  const consumed: Message[] = [];
  const consumedAt = new Map<string, string>();
  /** Acknowledged records (partition/offset) the consumer has not seen yet. */
  const unseen = new Set<string>();
  const consuming = (async () => {
    for await (const m of consumer) {
      consumed.push(m);
      consumedAt.set(where(m), m.value!.toString());
      unseen.delete(where(m));
      changed();
    }
  })();

  // Up to 8 sends of 20 records in flight, so batches queue behind one another in each partition and a
  // retried batch must keep its place.
  const producer = runnel.producer({ acks: 'all', lingerMs: 1 });
  const SENDS_IN_FLIGHT = 8;
  const metasBySend: RecordMetadata[][] = [];
  const failures: unknown[] = [];
  let ackedCount = 0;
  let nextId = 0;
  let producing = true;
  const produceLoop = (async () => {
    const inFlight = new Set<Promise<void>>();
    for (let send = 0; producing; send++) {
      const ids = Array.from({ length: 20 }, () => nextId++);
      const sent: Promise<void> = producer.send({ topic: TOPIC, messages: ids.map((id) => ({ key: `k${id % 5}`, value: String(id) })) }).then(
        (metas) => {
          metasBySend[send] = metas;
          ackedCount += metas.length;
          for (const meta of metas) if (!consumedAt.has(where(meta))) unseen.add(where(meta));
        },
        (err: unknown) => {
          failures.push(err);
        },
      ).finally(() => {
        inFlight.delete(sent);
        changed();
      });
      inFlight.add(sent);
      if (inFlight.size >= SENDS_IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  })();

  await until('200 first acknowledgements', () => ackedCount >= 200);
  await restart('stop');
  const afterStop = ackedCount;
  await until('200 acknowledgements after the restart', () => ackedCount >= afterStop + 200);
  await restart('kill');
  const afterKill = ackedCount;
  await until('200 acknowledgements after the kill', () => ackedCount >= afterKill + 200);
  producing = false;
  await produceLoop;
  await producer.close();
  // In send order: record i of send s is id 20 s + i.
  const acked = metasBySend.flat();
  const ackedIds = metasBySend.flatMap((metas, send) => metas.map((_meta, i) => send * 20 + i));

  t.same(failures, [], 'no send failed: every gap was bridged by retries');
  await until(`the consumer to reach every acknowledged record (${unseen.size} to go)`, () => unseen.size === 0);
  await consumer.close();
  await consuming;

  // Every acknowledged record is at the offset it was acknowledged with.
  const misplaced = acked.flatMap((meta, i) => {
    const found = consumedAt.get(where(meta));
    return found === String(ackedIds[i]) ? [] : [`${ackedIds[i]} acknowledged at ${where(meta)}, which holds ${found ?? 'nothing'}`];
  });
  t.same(misplaced.slice(0, 5), [], `every one of ${acked.length} acknowledged records is where its RecordMetadata said`);
  // Acknowledged records of a partition sit at offsets that rise with send order; the log has no gaps.
  for (let p = 0; p < PARTITIONS; p++) {
    const offsets = acked.filter((m) => m.partition === p).map((m) => m.offset);
    t.ok(offsets.length > 0 && offsets.every((o, i) => i === 0 || o > offsets[i - 1]!), `partition ${p}: acknowledged in send order`);
    const consumedOffsets = consumed.filter((m) => m.partition === p).map((m) => m.offset);
    t.ok(consumedOffsets.every((o, i) => o === i), `partition ${p}: the consumer saw offsets 0.. contiguously, none skipped or repeated`);
  }
  // Anything else in the log is an earlier copy of an acknowledged send, written by an attempt whose
  // acknowledgement was lost and then retried: at least once, never a record nobody sent, never a copy after it.
  const ackedAt = new Map<string, { partition: number; offset: number }>(acked.map((meta, i) => [String(ackedIds[i]), meta]));
  const strays = consumed.flatMap((m) => {
    const value = m.value!.toString();
    const home = ackedAt.get(value);
    if (home === undefined) return [`${value} at ${where(m)} was never acknowledged`];
    if (home.partition !== m.partition || m.offset > home.offset) return [`a copy of ${value} at ${where(m)}, after its acknowledged place ${where(home)}`];
    return [];
  });
  t.same(strays.slice(0, 5), [], 'every other record is an earlier copy of a retried send');
  const copies = consumed.length - ackedAt.size;
  t.comment(`${acked.length} acknowledged, ${consumed.length} consumed, ${copies} earlier copies written by retries`);
});
