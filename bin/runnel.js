#!/usr/bin/env node
// The `runnel` command (package.json "bin"): runs the built CLI in dist/.
// From a fresh clone nothing is built yet: say what to run, not a stack trace.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/tools/cli.js', import.meta.url);
if (!existsSync(cli)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`runnel: the CLI is not built yet; run \`npm run build\` in ${root} first (npm start builds too)\n`);
  process.exit(1);
}
const { main } = await import(cli.href);
await main(process.argv);
