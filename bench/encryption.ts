/**
 * Encryption at rest, what it costs: produce and consume throughput of
 * 1 KiB records (acks=1, one partition) to a plain topic and to one with
 * encryption.enabled, in the same run, alternating the kinds so all see
 * the same machine. Encrypted topics run three times: on a broker with the
 * plaintext cache (encryption.cache.bytes, large enough for a run's
 * records, so the consumer reading right after the producer is served the
 * cached tail, as consumers that keep up are), on one without it
 * (encryption.cache.bytes=0: every read decrypts from disk, as for a
 * consumer catching up on older records), and, produce only, on one with
 * the default settings whose topic nobody reads while it is produced
 * (the cache stops copying it once its first batches are pushed out
 * unread: plaintext-cache.ts). Each of those brokers runs a plain topic
 * too, and each encrypted kind's ratio is against the plain topic on its
 * own broker: broker processes differ among themselves (KINDS).
 * Each kind runs once unmeasured first, and each run starts the kinds one
 * further along; between runs the bench waits for
 * the broker to remove the deleted topic's files and flushes the page
 * cache's dirty pages (bench-support.ts dropTopic). Figures only: medians of the
 * runs, their spread, and the encrypted/plain ratios; the broker
 * process's CPU per MB of each (from /proc), whose ratio is what
 * throughput would be where the broker's core is the limit. Before them,
 * the cipher alone in this process: CPU µs per MiB sealed and opened in
 * 16 KiB and 64 KiB batches, by the native addon the broker uses (on its
 * own VAES code where the CPU has VAES, and then also on OpenSSL's, for
 * comparison) and by node:crypto (storage/encryption/aes-gcm.ts).
 *
 *   npm run build && node dist/bench/encryption.js [--records N] [--runs N] [--quick] [--json]
 */
import { randomBytes } from 'node:crypto';
import { nativeAesGcm, nodeAesGcm, type AesGcm } from '../broker/storage/encryption/aes-gcm.js';
import { Runnel } from '../client/index.js';
import { isMainModule } from '../tools/main-module.js';
import { runConsumePerf } from '../tools/perf/consume-perf.js';
import { runProducePerf } from '../tools/perf/produce-perf.js';
import { benchArgs, dropTopic, type BenchBroker, fixed, freshTopic, median, perRecordCpu, spread, startBroker } from './bench-support.js';

const USAGE = `Usage: node dist/bench/encryption.js [--records N] [--runs N] [--quick] [--json]   (build first)
  --records N   1 KiB records per run and topic kind (default 500,000; --quick 10,000)
  --runs N      runs of each kind (default 3; --quick 1)`;

const RECORD_BYTES = 1024;
/**
 * Half a GB a run: about a second of produce. Runs of 100k records (0.2-0.3 s)
 * were mostly ramp-up, where plain topics had not reached their rate yet:
 * they put encrypted produce at 73-93% of plain where runs of 1M records,
 * with the broker's core the limit, measured 56-59%.
 */
const RECORDS_PER_RUN = 500_000;

interface KindFigures {
  produceMbPerSec: number[];
  consumeMbPerSec: number[];
  /** The broker process's CPU µs per MB (10^6 B) of records, from /proc: what the ratio would be where the broker's core is the limit. */
  produceBrokerUsPerMb: number[];
  consumeBrokerUsPerMb: number[];
}

const emptyFigures = (): KindFigures => ({ produceMbPerSec: [], consumeMbPerSec: [], produceBrokerUsPerMb: [], consumeBrokerUsPerMb: [] });

/** One produce run of `records` to a fresh topic, then (when `consume`) one consume of them all. */
async function oneRun(runnel: Runnel, broker: BenchBroker, records: number, config: Record<string, string>, consume: boolean, into: KindFigures): Promise<void> {
  const brokerPid = broker.child.pid;
  const topic = await freshTopic(runnel, 1, config);
  const perMb = 1_000_000 / RECORD_BYTES;
  const produced = await perRecordCpu(brokerPid, records, () => runProducePerf(runnel, { topic, numRecords: records, recordSize: RECORD_BYTES, producer: { acks: 1 } }));
  if (produced.result.errors > 0) throw new Error(`run on ${topic} lost records: ${produced.result.errors} produce errors`);
  into.produceMbPerSec.push(produced.result.mbPerSec);
  if (produced.cpu.broker !== null) into.produceBrokerUsPerMb.push(produced.cpu.broker * perMb);
  if (consume) {
    const consumed = await perRecordCpu(brokerPid, records, () => runConsumePerf(runnel, { topic, numRecords: records }));
    if (consumed.result.errors > 0) throw new Error(`run on ${topic} lost records: ${consumed.result.errors} not consumed`);
    into.consumeMbPerSec.push(consumed.result.mbPerSec);
    if (consumed.cpu.broker !== null) into.consumeBrokerUsPerMb.push(consumed.cpu.broker * perMb);
  }
  await dropTopic(runnel, topic, broker.dataDir);
}

/** CPU µs per MiB for `gcm` to seal then open `mib` MiB in `chunk`-byte pieces, as the broker does a batch at a time. */
function cipherCost(gcm: AesGcm, chunk: number, mib: number): { seal: number; open: number } {
  const key = gcm.key(randomBytes(32));
  const nonce = randomBytes(12);
  const aad = randomBytes(80);
  const plain = randomBytes(chunk);
  const sealed = new Uint8Array(chunk);
  const opened = new Uint8Array(chunk);
  const tag = new Uint8Array(16);
  const rounds = Math.ceil((mib * 1024 * 1024) / chunk);
  const cpu = (work: () => void): number => {
    const before = process.cpuUsage();
    for (let i = 0; i < rounds; i++) work();
    const used = process.cpuUsage(before);
    return (used.user + used.system) / mib;
  };
  const seal = cpu(() => key.seal(nonce, aad, plain, sealed, tag));
  const open = cpu(() => {
    if (!key.open(nonce, aad, sealed, opened, tag)) throw new Error('the bench cipher did not open its own bytes');
  });
  return { seal, open };
}

function printCipherCosts(runs: number): void {
  const native = nativeAesGcm();
  const portable = nativeAesGcm({ portable: true });
  // The addon's own VAES code where this CPU has it, the addon on OpenSSL's, and node:crypto.
  const impls: AesGcm[] = native === null || portable === null ? [nodeAesGcm] : native.engine === 'vaes' ? [native, portable, nodeAesGcm] : [native, nodeAesGcm];
  if (native === null) console.log('# the native AES-GCM addon is not built: the broker uses node:crypto');
  else console.log(`# the broker's cipher: native, ${native.engine}`);
  for (const chunk of [16 * 1024, 64 * 1024]) {
    const cells = impls.map((gcm) => {
      const costs = Array.from({ length: runs }, () => cipherCost(gcm, chunk, 64));
      return `${gcm.name === 'native' ? `native ${gcm.engine}` : gcm.name} seal ${fixed(median(costs.map((c) => c.seal)), 0)} open ${fixed(median(costs.map((c) => c.open)), 0)}`;
    });
    console.log(`cipher   ${chunk / 1024} KiB batches, CPU us/MiB (median of ${runs}): ${cells.join('; ')}`);
  }
}

/**
 * Each kind of topic measured, the broker it runs on, and the plain kind
 * on that same broker its ratio is taken against: two identical brokers
 * side by side measured 45% apart on this machine (their system CPU per MB
 * of the kernel's page-cache writes: 566 against 1,055), so a ratio across
 * broker processes carries that too.
 */
const KINDS = [
  { name: 'plain', label: 'plain', broker: 'cached', config: {}, consume: true, baseline: null },
  { name: 'cached', label: 'encrypted, tail from the plaintext cache', broker: 'cached', config: { 'encryption.enabled': 'true' }, consume: true, baseline: 'plain' },
  { name: 'plainUncached', label: 'plain, on the cache-off broker', broker: 'uncached', config: {}, consume: true, baseline: null },
  { name: 'disk', label: 'encrypted, decrypted from disk (cache off)', broker: 'uncached', config: { 'encryption.enabled': 'true' }, consume: true, baseline: 'plainUncached' },
  { name: 'plainDefaults', label: 'plain, on the default broker', broker: 'defaults', config: {}, consume: false, baseline: null },
  { name: 'unread', label: 'encrypted, default settings, tail unread', broker: 'defaults', config: { 'encryption.enabled': 'true' }, consume: false, baseline: 'plainDefaults' },
] as const;

type KindName = (typeof KINDS)[number]['name'];

async function runBench(records: number, runs: number, json: boolean): Promise<void> {
  printCipherCosts(Math.max(runs, 3));
  const keyring = `bench=${randomBytes(32).toString('base64')}`;
  // The broker's default (128 MiB), or room for one run's records and their batch headers when --records asks for more.
  // Not more: the first pass over the ring faults its pages in (about 1 ms of CPU per MB, once in a broker's life), and a
  // ring larger than a run would make every run a first pass, where a broker that has run a while has its ring warm.
  const cacheBytes = Math.max(128 * 1024 * 1024, Math.ceil(1.2 * records * RECORD_BYTES));
  const brokers = {
    cached: await startBroker(['--set', `encryption.keys=${keyring}`, '--set', `encryption.cache.bytes=${cacheBytes}`]),
    uncached: await startBroker(['--set', `encryption.keys=${keyring}`, '--set', 'encryption.cache.bytes=0']),
    defaults: await startBroker(['--set', `encryption.keys=${keyring}`]),
  };
  const names = ['cached', 'uncached', 'defaults'] as const;
  const clients = Object.fromEntries(names.map((name) => [name, new Runnel({ bootstrap: [brokers[name].bootstrap] })])) as Record<(typeof names)[number], Runnel>;
  const figures = Object.fromEntries(KINDS.map((kind) => [kind.name, emptyFigures()])) as Record<KindName, KindFigures>;
  try {
    // A first run of each kind, not counted: every kind's first run measured 2-3x the CPU per MB of the next ones (code
    // not yet optimized, memory touched for the first time), which put whichever kind had more slow runs behind.
    // Each run starts the kinds one further along: what ran just before a run sways it (on this machine a kind
    // measured 1.7x the broker CPU per MB after one neighbour than after another), so every kind gets every place.
    for (let run = -1; run < runs; run++) {
      for (let i = 0; i < KINDS.length; i++) {
        const kind = KINDS[(i + Math.max(run, 0)) % KINDS.length]!;
        await oneRun(clients[kind.broker], brokers[kind.broker], records, kind.config, kind.consume, run < 0 ? emptyFigures() : figures[kind.name]);
      }
    }
  } finally {
    await Promise.all(names.map((name) => clients[name].close()));
    await Promise.all(names.map((name) => brokers[name].stop()));
  }
  console.log(`# ${runs} runs x ${records} records of ${RECORD_BYTES} B, acks=1, 1 partition; medians [min..max]; ratios against plain on the same broker`);
  for (const [what, pick] of [['produce', (f: KindFigures) => f.produceMbPerSec], ['consume', (f: KindFigures) => f.consumeMbPerSec]] as const) {
    for (const kind of KINDS) {
      const values = pick(figures[kind.name]);
      if (values.length === 0) continue;
      const ratio = kind.baseline === null ? '' : `  ratio ${fixed((100 * median(values)) / median(pick(figures[kind.baseline])), 0)}%`;
      console.log(`${what.padEnd(8)} ${kind.label.padEnd(44)} ${fixed(median(values)).padStart(7)} MB/s [${spread(values)}]${ratio}`);
    }
  }
  for (const [what, pick] of [['produce', (f: KindFigures) => f.produceBrokerUsPerMb], ['consume', (f: KindFigures) => f.consumeBrokerUsPerMb]] as const) {
    if (pick(figures.plain).length === 0) {
      console.log(`${what.padEnd(8)} broker CPU: not measured (no /proc)`);
      continue;
    }
    const cells = KINDS.filter((kind) => pick(figures[kind.name]).length > 0).map((kind) => {
      const values = pick(figures[kind.name]);
      const ratio = kind.baseline === null ? '' : ` (plain/this ${fixed((100 * median(pick(figures[kind.baseline]))) / median(values), 0)}%)`;
      return `${kind.name} ${fixed(median(values), 0)}${ratio}`;
    });
    console.log(`${what.padEnd(8)} broker CPU us/MB: ${cells.join('; ')}`);
  }
  if (json) console.log(JSON.stringify({ records, runs, cacheBytes, ...figures }));
}

if (isMainModule(import.meta.url)) {
  const args = benchArgs(USAGE, []);
  await runBench(Math.floor(args.num('records', 'BENCH_RECORDS', args.quick ? 10_000 : RECORDS_PER_RUN)), Math.floor(args.num('runs', 'BENCH_RUNS', args.quick ? 1 : 3)), args.json);
}
