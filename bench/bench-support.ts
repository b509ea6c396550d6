/**
 * What the broker benchmarks share: medians and number formatting, a
 * single-node broker process on a fresh data directory, fresh topics, and
 * CPU time per record (this process and, from /proc, a broker's).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Runnel } from '../client/index.js';

/** USER_HZ: the unit of /proc/<pid>/stat CPU times on Linux. */
const CLOCK_TICKS_PER_SEC = 100;
const BROKER_MAIN = fileURLToPath(new URL('../broker/main.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function fixed(value: number, digits = 1): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function spread(values: number[]): string {
  return `${fixed(Math.min(...values), 0)}..${fixed(Math.max(...values), 0)}`;
}

/** Brokers this bench started and that still run: none may outlive the bench, however it ends (Ctrl-C, `| head`, a crash). */
const liveBrokers = new Map<ChildProcess, string>();
process.once('exit', () => {
  for (const [child, dataDir] of liveBrokers) {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => process.exit(130));

/** A broker process on a fresh data directory (with `extraArgs`, e.g. `--set name=value`); resolves once it prints its listening line. */
export async function startBroker(extraArgs: readonly string[] = []): Promise<{ bootstrap: string; child: ChildProcess; dataDir: string; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-bench-'));
  // A broker given its listeners takes no --port (the two are alternatives).
  const port = extraArgs.some((arg) => arg.startsWith('listeners=')) ? [] : ['--port', '0'];
  // Node flags for the broker alone (e.g. BENCH_BROKER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'): NODE_OPTIONS refuses --cpu-prof.
  const nodeArgs = (process.env['BENCH_BROKER_NODE_ARGS'] ?? '').split(/\s+/).filter((arg) => arg !== '');
  const child = spawn(process.execPath, [...nodeArgs, BROKER_MAIN, ...port, '--data', dataDir, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  liveBrokers.set(child, dataDir);
  void exited.then(() => liveBrokers.delete(child));
  const bootstrap = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    let pending = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      output += text;
      pending += text;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const address = listeningAddress(line);
        if (address !== undefined) {
          clearTimeout(timer);
          resolve(address);
        }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (output += text));
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`broker exited before listening:\n${output}`));
    });
  });
  return {
    bootstrap,
    child,
    dataDir,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function listeningAddress(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const entry = JSON.parse(line) as { event?: unknown; host?: unknown; port?: unknown };
    if (entry.event === 'listening' && typeof entry.host === 'string' && typeof entry.port === 'number') return `${entry.host}:${entry.port}`;
  } catch {
    // not JSON
  }
  return undefined;
}

let topicSeq = 0;

export async function freshTopic(runnel: Runnel, partitions: number, config: Record<string, string> = {}, replicationFactor = 1): Promise<string> {
  topicSeq += 1;
  const name = `bench-${topicSeq}-p${partitions}`;
  await runnel.admin().createTopic({ name, partitions, replicationFactor, config });
  return name;
}

const DROP_TIMEOUT_MS = 30_000;

/**
 * Deletes `topic` and waits until every broker whose data directory is in
 * `dataDirs` has removed its partitions' files (bounded: an error after 30 s),
 * then flushes the machine's dirty pages (`sync`). A run measured right
 * after a delete otherwise paid for it: the broker applies the deletion
 * after the controller answers, and unlinking half a GB of page-cached
 * segments, like the kernel writing back the last run's pages, is CPU that
 * /proc then counts in the next run, on whichever broker it falls.
 */
export async function dropTopic(runnel: Runnel, topic: string, dataDirs: string | readonly string[]): Promise<void> {
  await runnel.admin().deleteTopic(topic);
  const deadline = Date.now() + DROP_TIMEOUT_MS;
  for (const dataDir of typeof dataDirs === 'string' ? [dataDirs] : dataDirs) {
    while (readdirSync(dataDir).some((name) => name.startsWith(`${topic}-`))) {
      if (Date.now() > deadline) throw new Error(`the broker on ${dataDir} still has files of deleted topic ${topic} after ${DROP_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  execFileSync('sync');
}

/** A broker `startBroker` started. */
export type BenchBroker = Awaited<ReturnType<typeof startBroker>>;

/** A process's CPU time so far (user + system), in microseconds, from /proc (Linux); null where there is none. */
export function processCpuUs(pid: number): number | null {
  try {
    // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (USER_HZ, 100 on Linux).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS_PER_SEC;
  } catch {
    return null;
  }
}

/** CPU time so far, in microseconds: this process, and the broker's where /proc tells it (Linux). */
function cpuNowUs(brokerPid: number | undefined): { client: number; broker: number | null } {
  const own = process.cpuUsage();
  return { client: own.user + own.system, broker: brokerPid === undefined ? null : processCpuUs(brokerPid) };
}

/** Runs `work` and returns its CPU microseconds per record on both sides. */
export async function perRecordCpu<T>(brokerPid: number | undefined, records: number, work: () => Promise<T>): Promise<{ result: T; cpu: { client: number; broker: number | null } }> {
  const before = cpuNowUs(brokerPid);
  const result = await work();
  const after = cpuNowUs(brokerPid);
  const broker = before.broker === null || after.broker === null ? null : (after.broker - before.broker) / records;
  return { result, cpu: { client: (after.client - before.client) / records, broker } };
}

export function medianCpu(samples: { client: number; broker: number | null }[]): { client: number; broker: number | null } {
  const brokers = samples.map((x) => x.broker).filter((x): x is number => x !== null);
  return { client: median(samples.map((x) => x.client)), broker: brokers.length === samples.length ? median(brokers) : null };
}

/** A bench's parsed command line: its flags' strings, and positive numbers from a flag, else an environment variable, else a default. */
export interface BenchArgs {
  quick: boolean;
  json: boolean;
  string(flag: string): string | undefined;
  /** The flag's value, else `envName`'s (if given), else `fallback`; a positive number, or an error naming the flag. */
  num(flag: string, envName: string | null, fallback: number): number;
}

/**
 * Parses a bench's flags: the ones every bench takes (--records, --runs,
 * --latency-seconds, --batch-bytes, --quick, --json, -h) and its own
 * `stringFlags`; prints `usage` and exits on --help.
 */
export function benchArgs(usage: string, stringFlags: readonly string[]): BenchArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    quick: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const flag of ['records', 'runs', 'latency-seconds', 'batch-bytes', ...stringFlags]) options[flag] = { type: 'string' };
  const values = parseArgs({ options }).values as Record<string, string | boolean | undefined>;
  if (values['help'] === true) {
    console.log(usage);
    process.exit(0);
  }
  const string = (flag: string): string | undefined => {
    const value = values[flag];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    quick: values['quick'] === true,
    json: values['json'] === true,
    string,
    num(flag, envName, fallback) {
      const raw = string(flag) ?? (envName === null ? undefined : process.env[envName]);
      const n = raw === undefined ? fallback : Number(raw);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag}${envName === null ? '' : ` (or ${envName})`}: "${raw}" is not a positive number`);
      return n;
    },
  };
}
