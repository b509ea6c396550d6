/**
 * A fixture program (a .ts file under tests/) to run as its own process, as
 * the build compiled it into dist/ (`npm test` builds first). Forked as
 * plain node: no execArgv, and without the module hooks tap puts in
 * NODE_OPTIONS (they cost ~160 ms a process).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { inRepo } from './repo-root.js';

export interface BuiltFixture {
  /** The compiled entry's path. */
  readonly path: string;
  /** Forks it with an IPC channel, stdout and stderr inherited, and `env` added to this process's environment. */
  fork(env: Record<string, string>): ChildProcess;
}

/** `entry`, a .ts path relative to the repository, as built into dist/. */
export function builtFixture(entry: string): BuiltFixture {
  const path = inRepo('dist', entry.replace(/\.ts$/, '.js'));
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` (it compiles tests/ too)`);
  return {
    path,
    fork: (env) => fork(path, [], { env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] }),
  };
}
