#!/usr/bin/env bash
# CI checks its own verdict before it trusts it: each planted run goes through
# `.ci/run --suite-only`, the very final step the real run ends on (the same
# summarizer, the same exit handling), and must come out as it should: a
# green run with status 0, every kind of red run with a non-zero status, and
# each ending with the `N passed, N failed` line. Two of the runs are real tap
# runs of planted test files, so a tap upgrade that changes what tap prints
# is caught here too. Exits non-zero, naming what went wrong, if any check fails.
set -uo pipefail
cd "$(dirname "$0")/../.."

failures=0
TOTALS_LINE='^[0-9]+ passed, [0-9]+ failed'

# expect zero|nonzero LAST_LINE_PATTERN LABEL -- CMD...
expect() {
  local want=$1 pattern=$2 label=$3
  shift 4
  local out status last
  out=$(RUNNEL_CI_DEADLINE_MS=${deadline_ms:-60000} bash .ci/run --suite-only "$@" 2>&1)
  status=$?
  last=$(printf '%s\n' "$out" | tail -n 1)
  local verdict=ok
  if [[ $want == zero && $status -ne 0 ]]; then verdict="exited $status, should be 0"; fi
  if [[ $want == nonzero && $status -eq 0 ]]; then verdict="exited 0, should be non-zero"; fi
  if ! [[ $last =~ $TOTALS_LINE ]]; then verdict="last line '$last' is not a totals line"; fi
  if ! [[ $last =~ $pattern ]]; then verdict="last line '$last' does not match /$pattern/"; fi
  if [[ $verdict == ok ]]; then
    printf 'self-check ok: %-58s -> status %d, %s\n' "$label" "$status" "$last"
  else
    printf 'SELF-CHECK FAILED: %s: %s\n--- its output:\n%s\n---\n' "$label" "$verdict" "$out"
    failures=$((failures + 1))
  fi
}

planted() { echo node .ci/self-check/planted-stream.mjs "$1"; }

# shellcheck disable=SC2046
{
  expect zero '^2 passed, 0 failed' 'a green run' -- $(planted pass)
  expect nonzero '^3 passed, 1 failed' 'one failing assertion, tap exits 1' -- $(planted fail)
  expect nonzero '^3 passed, 1 failed' 'one failing assertion, exit status 0' -- $(planted fail-exit-0)
  expect nonzero '^2 passed, 1 failed' 'every assertion passed, tap exits 1' -- $(planted green-exit-1)
  expect nonzero ' 1 failed' 'a file failed with no failed assertion' -- $(planted file-killed)
  expect nonzero ' 1 failed' 'a test file that ran no test' -- $(planted no-tests)
  expect nonzero ' 1 failed' 'tap counted nothing (total 0), exit status 0' -- $(planted zero-total)
  expect nonzero ' 1 failed, 1 skipped' 'a skipped subtest, everything else green' -- $(planted skipped)
  TAP_GREP=beta expect nonzero '^1 passed, 1 failed, 0 skipped' 'real tap, a TAP_GREP filter in the environment is ignored' -- npx tap --disable-coverage .ci/self-check/grep.test.mjs
  expect nonzero ' 1 failed' 'no totals line, exit status 0' -- $(planted no-totals)
  expect nonzero ' 1 failed' 'no output at all' -- $(planted silent)
  expect nonzero ' 1 failed' 'killed by SIGKILL mid-stream' -- $(planted killed)
  deadline_ms=1500 expect nonzero ' 1 failed' 'a run that never ends (deadline)' -- $(planted hang)
  expect zero '^2 passed, 0 failed' 'real tap, a passing test file' -- npx tap --disable-coverage .ci/self-check/passing.test.mjs
  expect nonzero '^1 passed, 1 failed' 'real tap, one planted failing assertion' -- npx tap --disable-coverage .ci/self-check/failing.test.mjs
}

if ((failures > 0)); then
  echo "SELF-CHECK FAILED: $failures planted run(s) got the wrong verdict" >&2
  exit 1
fi
echo "self-check: every planted run got the right verdict"
