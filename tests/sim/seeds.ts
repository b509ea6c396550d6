/**
 * The CI share of the simulation: one tap test per seed range, run as part
 * of the suite (seeds-*.test.ts split the range so that tap runs them on
 * both cores). Each range runs in a child process on the compiled runner
 * (`dist/tests/sim/main.js`, built by `npm run build`, which `npm test`
 * runs first): a seed costs about half the CPU it costs under tap's
 * TypeScript loader and source maps, and the 10,000 seeds must fit in CI's
 * time. A failing seed fails the test with the runner's FAIL line, which
 * names the seed, the invariant, and the command that replays it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Test } from 'tap';
import type { FaultKind } from './faults.js';
import { inRepo } from '../support/repo-root.js';

const RUNNER = inRepo('dist', 'tests', 'sim', 'main.js');

/** What a seed runs besides the cluster and its clients: a consumer group (`--groups`), a share group (`--share`). */
export type SeedFlag = '--groups' | '--share';

/** Runs seeds `from`..`from + count - 1`; the child is killed past `timeoutMs`. */
export async function simulateSeeds(t: Test, from: number, count: number, kinds?: readonly FaultKind[], timeoutMs = 9 * 60_000, flags: readonly SeedFlag[] = []): Promise<void> {
  if (!existsSync(RUNNER)) {
    t.fail(`the compiled simulation runner ${RUNNER} is missing: run \`npm run build\` first (npm test does)`);
    return;
  }
  const args = [RUNNER, '--from', String(from), '--seeds', String(count), ...(kinds === undefined ? [] : ['--faults', kinds.join(',')]), ...flags];
  const { code, signal, stdout, stderr } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (exitCode, exitSignal) => {
      clearTimeout(timer);
      resolve({ code: exitCode, signal: exitSignal, stdout: out, stderr: err });
    });
  });
  const lines = stdout.split('\n').filter((line) => line !== '');
  for (const line of lines) if (line.startsWith('FAIL ')) t.fail(line.slice('FAIL '.length));
  const summary = lines.find((line) => /^\d+ seeds \(/.test(line));
  t.equal(signal, null, `the runner was not killed${signal === null ? '' : ` (${signal}, after ${timeoutMs} ms?)`}`);
  t.equal(code, 0, `the runner exits 0${code === 0 ? '' : `; stderr: ${stderr.slice(-2000)}`}`);
  t.match(summary ?? '', new RegExp(`^${count} seeds \\(${from}\\.\\.${from + count - 1}\\)`), `ran seeds ${from}..${from + count - 1}`);
  if (summary !== undefined) t.comment(summary);
}
