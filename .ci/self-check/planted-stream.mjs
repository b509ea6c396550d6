// Prints a canned tap output and ends as tap would in that case, so CI's
// self-check can push every kind of red run (and a green one) through the
// same summarizer and exit handling the real run uses. Each stream is what
// tap 21 prints for that case, cut down.
//
// Usage: node .ci/self-check/planted-stream.mjs <case>
const file = (n, name, body, ok = true) => [
  `# Subtest: ${name}`,
  ...body.map((line) => `    ${line}`),
  `${ok ? 'ok' : 'not ok'} ${n} - ${name} # time=12.3ms`,
  '',
];

const passing = file(1, 'tests/a.test.ts', ['ok 1 - one', 'ok 2 - two', '1..2', '# time=10ms']);
const failing = file(2, 'tests/b.test.ts', ['ok 1 - one', 'not ok 2 - planted', '  ---', '  at: x', '  ...', '1..2'], false);

const cases = {
  // green: every assertion passed, tap exited 0
  pass: { lines: ['TAP version 14', '1..1', ...passing, '# { total: 2, pass: 2 }', '# time=20ms'], exit: 0 },
  // one failing assertion, tap exits 1 (what the audit tried)
  fail: { lines: ['TAP version 14', '1..2', ...passing, ...failing, '# { total: 4, pass: 3, fail: 1 }', '# time=20ms'], exit: 1 },
  // the same stream with a lying exit status
  'fail-exit-0': { lines: ['TAP version 14', '1..2', ...passing, ...failing, '# { total: 4, pass: 3, fail: 1 }', '# time=20ms'], exit: 0 },
  // every assertion passed but tap exited 1 (a coverage threshold, a file that crashed after its last assertion)
  'green-exit-1': { lines: ['TAP version 14', '1..1', ...passing, '# { total: 2, pass: 2 }', '# time=20ms'], exit: 1 },
  // a file that failed with no failed assertion counted (its process was killed)
  'file-killed': { lines: ['TAP version 14', '1..2', ...passing, ...file(2, 'tests/c.test.ts', ['ok 1 - one'], false), '# { total: 3, pass: 3 }', '# time=20ms'], exit: 0 },
  // a test file that ran nothing
  'no-tests': { lines: ['TAP version 14', '1..2', ...passing, '# Subtest: tests/d.test.ts', '    1..0 # no tests found', 'ok 2 - tests/d.test.ts # SKIP no tests found', '', '# { total: 3, pass: 2, skip: 1 }', '# time=20ms'], exit: 0 },
  // a filter matched nothing: tap says total 0 and exits 0
  'zero-total': { lines: ['TAP version 14', '1..0', '# { total: 0, pass: 0 }', '# time=20ms'], exit: 0 },
  // a subtest skipped (TAP_GREP, t.skip, a missing server), everything else green
  skipped: { lines: ['TAP version 14', '1..1', ...file(1, 'tests/a.test.ts', ['ok 1 - one', 'ok 2 - two # SKIP filtered out', '1..2']), '# { total: 2, pass: 1, skip: 1 }', '# time=20ms'], exit: 0 },
  // no totals: the run stopped before its end, status 0
  'no-totals': { lines: ['TAP version 14', '1..2', ...passing], exit: 0 },
  // nothing at all
  silent: { lines: [], exit: 0 },
  // killed mid-stream by a signal
  killed: { lines: ['TAP version 14', '1..2', ...passing], signal: 'SIGKILL' },
  // never ends: only the deadline stops it
  hang: { lines: ['TAP version 14', '1..2', ...passing], hang: true },
};

const name = process.argv[2];
const planted = cases[name];
if (planted === undefined) {
  process.stderr.write(`planted-stream: unknown case ${name}; known: ${Object.keys(cases).join(', ')}\n`);
  process.exit(2);
}
process.stdout.write(planted.lines.map((line) => `${line}\n`).join(''), () => {
  if (planted.hang === true) setInterval(() => undefined, 60_000);
  else if (planted.signal !== undefined) process.kill(process.pid, planted.signal);
  else process.exit(planted.exit);
});
