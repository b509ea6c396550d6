#!/usr/bin/env node
// The `runnel` command (package.json "bin"): runs the built CLI. Build first: `npm run build`.
import { main } from '../dist/tools/cli.js';

await main(process.argv);
