#!/usr/bin/env node
// Runs a test command (tap, or `npm test`, which runs tap), passes its output
// through unchanged, and ends with the one line CI reads:
//
//   N passed, N failed, N skipped
//
// Its exit status is the verdict: 0 only when the run is green by every
// measure, so nothing downstream has to combine statuses (the old pipeline in
// .ci/run did, and read the status of an assignment instead). The command is
// this script's own child, so its exit status and any signal that ended it
// are known exactly. The counts are tap's own final `# { total, pass, fail, ... }`
// comment (assertions across every file); the TAP stream itself is parsed with
// tap-parser, so a plan that was not met (a truncated stream) also counts.
//
// Red, with at least one failure counted, when any of these holds:
//   - an assertion failed (tap counts a crashed file and a timed-out file as one);
//   - the command exited non-zero or was killed by a signal (coverage, a crash of tap itself);
//   - no totals line at all (nothing ran, or the run died before the end);
//   - the top-level TAP stream is not ok (a file that failed, a bail out, an unmet plan);
//   - tap counted no assertion at all (`{ total: 0 }`: a filter matched nothing);
//   - a test file ran no test ("no tests found": it exited before its first assertion);
//   - any test was skipped or todo (CI runs everything; a filter such as TAP_GREP skips);
//   - the command outlived --deadline-ms (its whole process group is killed).
//
// Usage: node tests/support/summarize.mjs [--deadline-ms N] [--] command [args...]
// .ci/run runs the README's `npm test` through it, after checking it against
// planted streams (.ci/self-check). `npm run test:ci` does the same locally.
import { spawn } from 'node:child_process';
import { Parser } from 'tap-parser';

const TOTALS_COMMENT = /^# (\{ .*\btotal\b.*\})\s*$/;
const NO_TESTS = /no tests found/;

function parseArgs(argv) {
  let deadlineMs = 0;
  let i = 0;
  for (; i < argv.length; i++) {
    if (argv[i] === '--deadline-ms') {
      deadlineMs = Number(argv[++i]);
      if (!Number.isInteger(deadlineMs) || deadlineMs <= 0) usage(`--deadline-ms needs a positive integer, got ${argv[i]}`);
    } else if (argv[i] === '--') {
      i++;
      break;
    } else {
      break;
    }
  }
  const command = argv.slice(i);
  if (command.length === 0) usage('no command to run');
  return { deadlineMs, command };
}

function usage(problem) {
  process.stderr.write(`summarize: ${problem}\nusage: node tests/support/summarize.mjs [--deadline-ms N] [--] command [args...]\n`);
  process.exit(2);
}

/** tap's totals comment is a JS object literal (`{ total: 3, pass: 2, fail: 1 }`), not JSON. */
function parseTotals(literal) {
  const totals = {};
  for (const [, key, value] of literal.matchAll(/(\w+):\s*(\d+)/g)) totals[key] = Number(value);
  return typeof totals.total === 'number' ? totals : null;
}

/** The counts and the reasons the run is red (none when green). */
function verdict({ totals, results, exit, deadlineMs }) {
  const reasons = [];
  if (exit.error !== undefined) reasons.push(`the command could not run: ${exit.error.message}`);
  if (exit.timedOut) reasons.push(`the command did not finish within ${deadlineMs} ms and was killed`);
  else if (exit.signal !== null) reasons.push(`the command was killed by ${exit.signal}`);
  else if (exit.code !== 0 && exit.code !== null) reasons.push(`the command exited with status ${exit.code}`);
  if (totals === null) reasons.push('no totals line from tap: nothing ran, or the run died before the end');
  else if (totals.total === 0) reasons.push('tap counted no assertion at all: nothing ran (a filter, or no test files)');
  const skippedOrTodo = (totals?.skip ?? 0) + (totals?.todo ?? 0);
  if (results !== null && results.bailout !== false) reasons.push(`bail out: ${results.bailout}`);
  if (results !== null && !results.ok) {
    const names = results.failures.map((f) => f.name || f.tapError || 'unnamed').slice(0, 10);
    reasons.push(`the TAP stream is not ok: ${names.join('; ') || 'see above'}`);
  }
  const emptyFiles = results === null ? [] : results.skips.filter((s) => typeof s.skip === 'string' && NO_TESTS.test(s.skip)).map((s) => s.name);
  if (emptyFiles.length > 0) reasons.push(`test files that ran no test: ${emptyFiles.join(', ')}`);

  const skipped = Math.max(0, skippedOrTodo - emptyFiles.length);
  // CI runs every test: a skip or a todo (a grep or an `only` filter, a test
  // that skips itself when a server is missing) is a test that did not run.
  if (skipped > 0) reasons.push(`${skipped} test(s) skipped or todo: CI runs every test, so a skip is a failure here`);

  const passed = totals?.pass ?? 0;
  let failed = (totals?.fail ?? 0) + emptyFiles.length;
  if (reasons.length > 0 && failed === 0) failed = Math.max(1, results?.fail ?? 0);
  return { passed, failed, skipped, reasons };
}

async function main() {
  const { deadlineMs, command } = parseArgs(process.argv.slice(2));
  let totals = null;
  let results = null;
  const parser = new Parser();
  // Top-level comments only: a subtest's comments belong to its child parser.
  parser.on('comment', (line) => {
    const match = TOTALS_COMMENT.exec(line.trimEnd());
    if (match !== null) totals = parseTotals(match[1]) ?? totals;
  });
  parser.on('complete', (final) => {
    results = final;
  });

  // Its own process group, so a deadline or a Ctrl-C stops tap and every test process under it.
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  const killGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  let timedOut = false;
  const deadline = deadlineMs > 0 ? setTimeout(() => {
    timedOut = true;
    process.stdout.write(`\n# summarize: ${command.join(' ')} passed its deadline of ${deadlineMs} ms; killing it\n`);
    killGroup('SIGKILL');
  }, deadlineMs) : undefined;
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      killGroup(signal);
      process.exit(130);
    });
  }

  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    parser.write(chunk);
  });
  const exit = await new Promise((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error, timedOut: false }));
    child.once('close', (code, signal) => resolve({ code, signal, error: undefined, timedOut }));
  });
  clearTimeout(deadline);
  parser.end();
  if (results === null) await new Promise((resolve) => parser.once('complete', resolve));

  const { passed, failed, skipped, reasons } = verdict({ totals, results, exit, deadlineMs });
  for (const reason of reasons) process.stdout.write(`# summarize: ${reason}\n`);
  process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();
