/**
 * Runs a built benchmark (dist/bench/<name>.js) as its own process for a
 * smoke test: its exit code and everything it printed, or a failure once
 * it has run longer than `timeoutMs` (it is stopped then).
 */
import { spawn } from 'node:child_process';
import { inRepo } from '../support/repo-root.js';

export function runBench(name: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = inRepo('dist', 'bench', `${name}.js`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`bench/${name} ran longer than ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
