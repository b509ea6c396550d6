/**
 * "Is this file the program node was started with?" for ESM files that are
 * both importable and runnable (the CLI, the benchmarks). Symlinks are
 * resolved, so `npx runnel` (a link into node_modules/.bin) counts.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function isMainModule(importMetaUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(importMetaUrl));
  } catch {
    return false;
  }
}
