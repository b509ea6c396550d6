#!/usr/bin/env node
// Passes tap's raw TAP output through unchanged and ends it with one line CI
// reads: "N passed, N failed, N skipped". The counts are tap's own final
// `# { total, pass, fail, ... }` comment; a non-zero exit of the test run
// (a crashed file, a timeout) with no failed assertion still counts as one
// failure, so the line never reads green over a red run.
// Usage: tap ... | node tests/support/summarize.mjs <exit-code-file>
import { createInterface } from 'node:readline';
import { readFileSync, existsSync } from 'node:fs';

let totals = null;
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  process.stdout.write(line + '\n');
  const match = /^# (\{ .*total.*\})\s*$/.exec(line);
  if (match) {
    try {
      totals = Function(`"use strict"; return (${match[1]});`)();
    } catch {
      // not tap's summary object; keep the previous one
    }
  }
});
lines.on('close', () => {
  const exitFile = process.argv[2];
  const exitCode = exitFile && existsSync(exitFile) ? Number(readFileSync(exitFile, 'utf8').trim()) : 0;
  const pass = totals?.pass ?? 0;
  let fail = totals?.fail ?? 0;
  const skip = (totals?.skip ?? 0) + (totals?.todo ?? 0);
  if (exitCode !== 0 && fail === 0) fail = 1;
  if (totals === null && exitCode === 0) fail = 1; // no totals at all: nothing ran
  process.stdout.write(`${pass} passed, ${fail} failed, ${skip} skipped\n`);
  process.exitCode = fail > 0 ? 1 : 0;
});
