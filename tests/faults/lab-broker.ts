/**
 * A broker process inside a lab node's network namespace: `runnel start`
 * (today's single node; `runnel broker ...` once the cluster lands, through
 * `command`) listening on the node's address, with its own data directory.
 * `kill(signal)` sends SIGKILL/SIGSTOP/SIGCONT/SIGTERM by pid; `restart()`
 * starts the same command again, same address, port and data, and waits
 * until it listens.
 */
import type { ChildProcess } from 'node:child_process';
import type { NetLab } from '../support/netns.js';
import { JsonLines } from './json-lines.js';
import { inRepo } from '../support/repo-root.js';

export const CLI = inRepo('dist', 'tools', 'cli.js');
const START_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 30_000;

export interface LabBrokerOptions {
  lab: NetLab;
  node: string;
  port: number;
  dataDir: string;
  /** CLI arguments after `node dist/tools/cli.js`; default `start --host ADDR --port P --data DIR`. */
  command?: (address: string, port: number, dataDir: string) => string[];
  /** Extra arguments (e.g. `--set`, ...). */
  args?: readonly string[];
}

export class LabBroker {
  readonly address: string;
  #child: ChildProcess | undefined;
  #lines: JsonLines | undefined;
  #stderr = '';
  #exited: Promise<void> = Promise.resolve();
  readonly #opts: LabBrokerOptions;

  constructor(opts: LabBrokerOptions) {
    this.#opts = opts;
    this.address = opts.lab.node(opts.node).address;
  }

  get bootstrap(): string {
    return `${this.address}:${this.#opts.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Everything the current process printed (for failure messages). */
  output(): string {
    return `${this.#lines?.text ?? ''}${this.#stderr === '' ? '' : `\nstderr:\n${this.#stderr}`}`;
  }

  async start(): Promise<void> {
    if (this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null) throw new Error(`broker on ${this.bootstrap} is already running`);
    const { lab, node, port, dataDir } = this.#opts;
    const command = this.#opts.command?.(this.address, port, dataDir) ?? ['start', '--host', this.address, '--port', String(port), '--data', dataDir];
    const child = lab.spawn(node, process.execPath, [CLI, ...command, ...(this.#opts.args ?? [])], {
      env: { ...process.env, RUNNEL_LOGGER_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#lines = new JsonLines(child.stdout!);
    this.#stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.#stderr += text;
      process.stderr.write(`[${node}] ${text}`);
    });
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const died = this.#exited.then(() => {
      throw new Error(`broker on ${this.bootstrap} exited (${String(child.exitCode ?? child.signalCode)}) before listening; output:\n${this.output()}`);
    });
    await Promise.race([this.#lines.next<{ event?: string }>((l) => l.event === 'listening', START_TIMEOUT_MS, `start-up line of the broker on ${this.bootstrap}`), died]);
  }

  /** Sends the signal; for SIGKILL/SIGTERM waits (bounded) until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`broker ${child.pid} still running ${EXIT_TIMEOUT_MS} ms after ${signal}`)), EXIT_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.#exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async restart(): Promise<void> {
    await this.kill('SIGKILL');
    await this.start();
  }
}
