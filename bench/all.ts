/**
 * Every benchmark in turn, each in its own process (so one's heap, worker
 * threads and broker never weigh on the next), printing their figures as
 * they come: batch codecs, wire codecs, storage against the raw file
 * system, the descriptor cache, then the broker end to end (which measures
 * raw loopback TCP in the same run), then a 3-broker cluster beside a
 * single broker, then consumer groups (rebalances under load, a static
 * member's restart, throughput through a group), then queues (share-group
 * throughput on one partition, ordering by key, delayed delivery). Figures only, never a
 * verdict on speed; the exit status is non-zero only when a benchmark
 * failed to run.
 *
 *   npm run bench [-- --quick]        (after npm run build)
 *   node dist/bench/all.js [--quick] [--only broker,storage]
 *
 * `--quick` makes each a smoke run (small counts, one run); anything else a
 * single benchmark takes, run that one directly.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** In the order they run: cheapest first, the brokers last. */
const BENCHMARKS = ['batch', 'codec', 'storage', 'handle-cache', 'broker', 'cluster', 'groups', 'queues'] as const;
/** How each is made a smoke run. */
const QUICK_ARGS: Record<string, string[]> = { 'handle-cache': ['--runs', '1', '--batches', '20000'] };

interface Outcome {
  name: string;
  seconds: number;
  status: string;
}

function runOne(name: string, args: string[]): Promise<Outcome> {
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: 'inherit' });
    const done = (status: string): void => resolve({ name, seconds: Number(process.hrtime.bigint() - started) / 1e9, status });
    child.once('error', (error) => done(`could not start: ${error.message}`));
    child.once('exit', (code, signal) => done(signal !== null ? `killed by ${signal}` : code === 0 ? 'ok' : `exited ${code}`));
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' } } });
  const chosen = values.only === undefined ? [...BENCHMARKS] : values.only.split(',').map((name) => name.trim());
  const unknown = chosen.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    process.stderr.write(`bench: no benchmark named ${unknown.join(', ')}; there are ${BENCHMARKS.join(', ')}\n`);
    return 2;
  }
  const argsOf = (name: string): string[] => (values.quick === true ? (QUICK_ARGS[name] ?? ['--quick']) : []);
  const outcomes: Outcome[] = [];
  let interrupted = false;
  // Ctrl-C reaches the running benchmark too (same process group); stop after it rather than start the next.
  process.on('SIGINT', () => {
    interrupted = true;
  });
  for (const name of chosen) {
    if (interrupted) break;
    const args = argsOf(name);
    process.stdout.write(`\n=== bench/${name}${args.length > 0 ? ` ${args.join(' ')}` : ''}\n`);
    outcomes.push(await runOne(name, args));
  }
  process.stdout.write(`\n=== ${outcomes.map((o) => `${o.name}: ${o.status} (${o.seconds.toFixed(0)} s)`).join(', ')}\n`);
  return interrupted ? 130 : outcomes.every((o) => o.status === 'ok') ? 0 : 1;
}

process.exitCode = await main();
