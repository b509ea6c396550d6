/**
 * Power loss, end to end: the broker in this process on the simulated disk
 * (which keeps only what was fdatasynced, and only directory entries that
 * were fsynced: SimulatedFileSystem), the SDK producing over loopback TCP to
 * an fsync=always topic with small segments (so crashes land around rolls),
 * and at a seeded moment the machine loses power: the broker's process dies
 * (it touches the disk no more), every unsynced entry is lost, and of the
 * unsynced bytes a random prefix survives, or random pages (written back
 * out of order; the others read as zeros), and a new broker starts on the
 * same disk. The broker must serve every partition again. Every record
 * the producer saw acknowledged must be there, at the offset its
 * RecordMetadata gave, in order, exactly once.
 *
 * SIGKILL tests (crash.test.ts, the broker tests) keep the page cache, so they
 * prove write-before-acknowledge; this one fails when an fsync is skipped.
 */
import t from 'tap';
import { brokerConfig } from '../../broker/config.js';
import { silentLogger } from '../../broker/log.js';
import { startBroker, type RunningBroker } from '../../broker/main.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { seededRng } from '../../broker/world/rng.js';
import { Runnel, type RecordMetadata } from '../../client/index.js';
import { ProcessDisk } from '../support/process-disk.js';

const TOPIC = 'ledger';
const PARTITIONS = 2;
const RECORDS = 300;
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

const config = brokerConfig({ 'data.dir': '/runnel', port: 0, host: '127.0.0.1', 'shutdown.timeout.ms': 2000 });

async function start(disk: SimulatedFileSystem): Promise<{ broker: RunningBroker; view: ProcessDisk }> {
  // An fdatasync takes a turn of the event loop, as a disk takes time: the power can go between a write and its sync.
  const view = new ProcessDisk(disk, 3);
  return { broker: await startBroker(config, { fs: view, logger: silentLogger() }), view };
}

function client(broker: RunningBroker): Runnel {
  return new Runnel({ bootstrap: [`${broker.host}:${broker.port}`], requestTimeoutMs: 5000, retry: { retries: 0, initialBackoffMs: 20, maxBackoffMs: 100 } });
}

/** Every record of every partition, from the log start to the high watermark, bounded in time. */
async function readEverything(runnel: Runnel): Promise<Map<number, Map<number, string>>> {
  const ranges = await runnel.admin().listOffsets(TOPIC);
  const consumer = runnel.consumer({ maxWaitMs: 50 });
  consumer.assign(ranges.map((r) => ({ topic: TOPIC, partition: r.partition, offset: 'earliest' as const })));
  const logs = new Map<number, Map<number, string>>(ranges.map((r) => [r.partition, new Map()]));
  let remaining = ranges.reduce((sum, r) => sum + r.latest - r.earliest, 0);
  const deadline = setTimeout(() => void consumer.close(), 20_000);
  try {
    if (remaining > 0) {
      for await (const batch of consumer.batches()) {
        for (const m of batch.messages) {
          const log = logs.get(m.partition)!;
          if (!log.has(m.offset)) remaining -= 1;
          log.set(m.offset, m.value?.toString() ?? '');
        }
        if (remaining <= 0) break;
      }
    }
  } finally {
    clearTimeout(deadline);
    await consumer.close();
  }
  return logs;
}

for (const [seed, loss] of SEEDS.flatMap((seed) => [[seed, 'prefix'], [seed, 'pages']] as const)) {
  t.test(`seed ${seed}, ${loss} of the unsynced bytes kept: after a power loss every acknowledged fsync=always record is there, in order, once`, async (t) => {
    const rng = seededRng(seed);
    const disk = new SimulatedFileSystem();
    let { broker, view } = await start(disk);
    let runnel = client(broker);
    // Lost pages need segments and unsynced runs longer than a page.
    const pages = loss === 'pages';
    await runnel.admin().createTopic({ name: TOPIC, partitions: PARTITIONS, config: { fsync: 'always', 'segment.bytes': pages ? '65536' : '2048' } });

    // Produce until the seeded number of acknowledgements, then cut the power with sends still in flight.
    const crashAfter = 20 + rng.int(RECORDS - 40);
    const producer = runnel.producer({ lingerMs: rng.int(3), retries: 0, maxInFlightRequests: 1 + rng.int(5) });
    const acknowledged: { value: string; meta: RecordMetadata }[] = [];
    let powerCut!: () => void;
    const cut = new Promise<void>((resolve) => (powerCut = resolve));
    const sends: Promise<void>[] = [];
    for (let i = 0; i < RECORDS && acknowledged.length < crashAfter; i++) {
      const value = `seed${seed}-record${i}-${'v'.repeat(rng.int(pages ? 6000 : 200))}`;
      sends.push(producer.send({ topic: TOPIC, messages: [{ value, partition: i % PARTITIONS }] }).then(
        ([meta]) => {
          acknowledged.push({ value, meta: meta! });
          if (acknowledged.length === crashAfter) powerCut();
        },
        () => undefined, // failed by the crash: never acknowledged
      ));
      // Yield now and then: acknowledgements arrive while more sends queue up behind them.
      if (rng.int(6) === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.race([cut, Promise.all(sends)]);
    // A little later still, so the cut falls inside flushes and rolls, not only between acknowledgements.
    for (let i = rng.int(4); i > 0; i--) await new Promise((resolve) => setImmediate(resolve));
    const inFlight = sends.length - acknowledged.length;
    view.die();
    disk.crash({ rng, loss });
    // Answers the dead broker still sends are failures, or successes for what a completed fsync covered: all count.
    await Promise.allSettled([broker.close(), runnel.close()]);
    const kept = acknowledged;

    ({ broker, view } = await start(disk));
    t.teardown(() => broker.close());
    runnel = client(broker);
    t.teardown(() => runnel.close());
    const logs = await readEverything(runnel).catch((err: unknown) => {
      t.fail(`the restarted broker serves every partition: ${(err as Error).message}`);
      return null;
    });
    if (logs === null) return;
    const setAside = (await disk.readdir('/runnel')).filter((name) => name.includes('.set-aside-'));
    if (setAside.length > 0) t.comment(`recovery set aside what followed lost pages or a torn tail: ${setAside.join(', ')}`);
    let missing = 0;
    let outOfOrder = 0;
    const lastOffset = new Map<number, number>();
    for (const { value, meta } of kept) {
      if (logs.get(meta.partition)?.get(meta.offset) !== value) missing += 1;
      if ((lastOffset.get(meta.partition) ?? -1) >= meta.offset) outOfOrder += 1;
      lastOffset.set(meta.partition, meta.offset);
    }
    const counts = new Map<string, number>();
    for (const log of logs.values()) for (const value of log.values()) counts.set(value, (counts.get(value) ?? 0) + 1);
    const duplicated = kept.filter(({ value }) => counts.get(value) !== 1).length;
    t.ok(kept.length >= 20, `${kept.length} records were acknowledged before the power cut, ${inFlight} more were in flight`);
    t.equal(missing, 0, `every one of the ${kept.length} acknowledged records is at the offset it was given (${[...logs.values()].reduce((n, l) => n + l.size, 0)} records survived)`);
    t.equal(outOfOrder, 0, 'acknowledged in offset order per partition');
    t.equal(duplicated, 0, 'each exactly once');
    const more = await runnel.producer({ lingerMs: 0 }).send({ topic: TOPIC, messages: [{ value: 'after', partition: 0 }] });
    t.ok(more[0]!.offset >= (lastOffset.get(0) ?? -1) + 1, 'the partitions serve appends again');
  });
}
