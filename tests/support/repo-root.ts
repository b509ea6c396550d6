/**
 * The repository root, for tests that read docs, fixtures or built files.
 * Tests run compiled, from dist/tests/ (package.json "test"), and a
 * developer may still run a .ts file under tap's loader: both find the root
 * as the nearest directory above this file that holds package.json (dist/
 * has none), never by counting `..`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}: cannot find the repository root`);
  }
}

export const repoRoot = findRoot(dirname(fileURLToPath(import.meta.url)));

/** A path inside the repository, from its root. */
export const inRepo = (...parts: string[]): string => join(repoRoot, ...parts);

/** A built module's URL (dist/...), for a dynamic import or a child's --import. */
export const repoUrl = (...parts: string[]): string => pathToFileURL(inRepo(...parts)).href;
