/**
 * A .ts fixture ready to fork as plain node. Forked under tap's loader, each
 * process transpiles every module again (~3 s a process on this machine), so
 * the fixture and every relative import it reaches are transpiled once, into
 * a fresh directory under .tap/ inside the repository (so node_modules still
 * resolves), and forked from there as plain node: no execArgv, and without
 * the module hooks tap puts in NODE_OPTIONS (they cost ~160 ms a process).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from './repo-root.js';


export interface TranspiledFixture {
  /** The entry's .js path. */
  readonly path: string;
  /** Forks it with an IPC channel, stdout and stderr inherited, and `env` added to this process's environment. */
  fork(env: Record<string, string>): ChildProcess;
  /** Deletes the transpiled tree. */
  remove(): void;
}

/** Transpiles `entry` (a path relative to the repository) and every relative import it reaches. */
export function transpiledFixture(entry: string): TranspiledFixture {
  mkdirSync(path.join(repoRoot, '.tap'), { recursive: true });
  const outRoot = mkdtempSync(path.join(repoRoot, '.tap', `${path.basename(entry, '.ts')}-`));
  const source = path.join(repoRoot, entry);
  const pending = [source];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (done.has(file)) continue;
    done.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from\s+|import\()'(\.{1,2}\/[^']+)\.js'/g)) {
      pending.push(path.resolve(path.dirname(file), `${match[1]}.ts`));
    }
    const { outputText } = ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } });
    const out = path.join(outRoot, path.relative(repoRoot, file)).replace(/\.ts$/, '.js');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  const entryPath = path.join(outRoot, path.relative(repoRoot, source)).replace(/\.ts$/, '.js');
  return {
    path: entryPath,
    fork: (env) => fork(entryPath, [], { env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] }),
    remove: () => rmSync(outRoot, { recursive: true, force: true }),
  };
}
