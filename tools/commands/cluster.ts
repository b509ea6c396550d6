/**
 * `runnel cluster up|status|down|kill|start`: a local multi-process cluster
 * for development and tests (one controller process and N brokers on
 * loopback), and fault drills on it. The work is in tools/cluster/; this
 * file is the command line and what it prints.
 */
import { Command, Option } from 'commander';
import { addressOf, nodeName } from '../cluster/cluster-state.js';
import { bootstrapOf, down, DRILL_SIGNALS, kill, start, status, up, type DrillSignal } from '../cluster/cluster-ops.js';
import { CliError } from '../cli-error.js';
import { intOption, withJson } from '../options.js';
import { formatTable, printJson, printLine } from '../output.js';

export const DEFAULT_CLUSTER_DIR = 'runnel-cluster';
/** The controller listens here and broker i on this + i, so the default bootstrap (127.0.0.1:9092) is broker 1. */
export const DEFAULT_BASE_PORT = 9091;
const DEFAULT_START_TIMEOUT_MS = 30_000;
const DEFAULT_GRACE_MS = 15_000;

const dataOption = (): Option => new Option('--data <dir>', 'the cluster\'s directory: its state file, and a data directory and log per node').default(DEFAULT_CLUSTER_DIR);
const timeoutOption = (): Option => new Option('--timeout-ms <ms>', 'how long to wait for a node to listen').argParser(intOption(1)).default(DEFAULT_START_TIMEOUT_MS);
const graceOption = (): Option => new Option('--grace-ms <ms>', 'how long a node has to shut down after SIGTERM before SIGKILL').argParser(intOption(0)).default(DEFAULT_GRACE_MS);
const brokerOption = (): Option => new Option('--broker <id>', 'the node id: 1..N for a broker, 0 for the controller process (or etcd)').argParser(intOption(0)).makeOptionMandatory();

interface DataOptions {
  data: string;
}

export function clusterCommand(): Command {
  const cluster = new Command('cluster').description('a local cluster of processes on this machine (a controller and N brokers on 127.0.0.1), and fault drills on it');

  cluster
    .command('up')
    .description('start a controller and N brokers, each its own process, and wait until every one listens')
    .addOption(new Option('--brokers <n>', 'number of brokers').argParser(intOption(1, 64)).makeOptionMandatory())
    .addOption(dataOption())
    .addOption(new Option('--base-port <port>', 'the controller\'s port; broker i listens on this + i').argParser(intOption(1, 65534)).default(DEFAULT_BASE_PORT))
    .option('--rack-per-broker', 'put each broker in its own rack (rack-1, rack-2, ...)')
    .option('--etcd', 'run an etcd server (on the base port, data under --data) instead of a controller process: the metadata lives in etcd and every broker is a controller candidate (needs the etcd binary: apt-get install etcd-server)')
    .addOption(timeoutOption())
    .addOption(graceOption())
    .action(async (opts: DataOptions & { brokers: number; basePort: number; rackPerBroker?: boolean; etcd?: boolean; timeoutMs: number; graceMs: number }) => {
      const state = await up({ brokers: opts.brokers, dataDir: opts.data, basePort: opts.basePort, rackPerBroker: opts.rackPerBroker === true, etcd: opts.etcd === true, timeoutMs: opts.timeoutMs, graceMs: opts.graceMs });
      for (const node of state.nodes) await printLine(`started ${nodeName(node)} on ${addressOf(node)} (pid ${node.process!.pid}${node.rack === null ? '' : `, ${node.rack}`}), log ${node.logPath}`);
      await printLine(`bootstrap: ${bootstrapOf(state)}`);
    });

  withJson(
    cluster.command('status').description('each node of the cluster: id, address, pid and state (running, stopped by SIGSTOP, or dead)').addOption(dataOption()),
    'print { "brokers": [ { "id", "address", "pid", "state", "role", "controller" } ] } (on etcd, "controller" marks the broker elected)',
  ).action(async (opts: DataOptions & { json?: boolean }) => {
    const nodes = await status(opts.data);
    if (opts.json) return printJson({ brokers: nodes });
    const rows = nodes.map((n) => [n.id, n.role === 'broker' && n.controller ? 'broker (controller)' : n.role, n.address, n.pid ?? '-', n.state]);
    await printLine(formatTable(['ID', 'ROLE', 'ADDRESS', 'PID', 'STATE'], rows));
  });

  cluster
    .command('down')
    .description('stop every process the cluster started (SIGTERM, SIGKILL after the grace), never another process that reused a pid; the data stays')
    .addOption(dataOption())
    .addOption(graceOption())
    .action(async (opts: DataOptions & { graceMs: number }) => {
      const results = await down(opts.data, opts.graceMs);
      const said: Record<string, string> = { stopped: 'stopped', killed: `killed (did not stop within ${opts.graceMs} ms of SIGTERM)`, 'not-running': 'was not running', survived: 'still running after SIGKILL' };
      for (const r of results) await printLine(`${nodeName(r.node)}${r.pid === null || r.outcome === 'not-running' ? '' : ` (pid ${r.pid})`}: ${said[r.outcome]}`);
      const survivors = results.filter((r) => r.outcome === 'survived');
      if (survivors.length > 0) throw new CliError(`${survivors.map((r) => `pid ${r.pid}`).join(', ')} survived SIGKILL; see \`ps -o pid,stat,cmd -p PID\``);
    });

  cluster
    .command('kill')
    .description('fault drill: send a signal to one node (KILL crashes it, STOP pauses it, CONT resumes it, TERM stops it cleanly) and wait until it has acted')
    .addOption(brokerOption())
    .addOption(new Option('--signal <name>', 'the signal').choices(DRILL_SIGNALS).default('KILL'))
    .addOption(dataOption())
    .addOption(graceOption())
    .action(async (opts: DataOptions & { broker: number; signal: DrillSignal; graceMs: number }) => {
      const { node, pid } = await kill(opts.data, opts.broker, opts.signal, opts.graceMs);
      const now = { KILL: 'dead', TERM: 'shut down', STOP: 'paused (stopped)', CONT: 'running again' }[opts.signal];
      await printLine(`${nodeName(node)} (pid ${pid}): SIG${opts.signal} sent; it is ${now}`);
    });

  cluster
    .command('start')
    .description('start a node that was killed or stopped again, with its own id, address and data, and wait until it listens')
    .addOption(brokerOption())
    .addOption(dataOption())
    .addOption(timeoutOption())
    .addOption(graceOption())
    .action(async (opts: DataOptions & { broker: number; timeoutMs: number; graceMs: number }) => {
      const { node, pid, already } = await start(opts.data, opts.broker, opts.timeoutMs, opts.graceMs);
      await printLine(already ? `${nodeName(node)} is already running (pid ${pid}); nothing to do` : `started ${nodeName(node)} on ${addressOf(node)} (pid ${pid})`);
    });

  return cluster;
}
