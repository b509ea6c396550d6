/** The repository's own TypeScript sources, for tests that read code as text (layering, error-name scans). */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './repo-root.js';

/** The repository root. */
export const root = repoRoot;

/** Every .ts file (not .d.ts) below `dir`, as paths relative to the root. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}
