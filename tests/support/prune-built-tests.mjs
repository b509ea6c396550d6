// Tests run compiled, from dist/tests/ (package.json "test", after the build of
// "pretest"). tsc never deletes what it emitted for a source that is gone, so a
// test file deleted or renamed in tests/ would still run from dist/tests/: this
// removes every file there whose .ts source no longer exists.
import { readdirSync, rmSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const built = join(root, 'dist', 'tests');

function sourceOf(file) {
  const rel = relative(built, file).replace(/(\.d\.ts|\.js\.map|\.js)$/, '');
  return join(root, 'tests', `${rel}.ts`);
}

function prune(dir) {
  if (!existsSync(dir)) return 0;
  let removed = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) removed += prune(path);
    else if (/(\.d\.ts|\.js\.map|\.js)$/.test(entry.name) && !existsSync(sourceOf(path))) {
      rmSync(path);
      removed++;
    }
  }
  return removed;
}

const removed = prune(built);
if (removed > 0) console.error(`prune-built-tests: removed ${removed} built file(s) of tests/ sources that no longer exist`);
