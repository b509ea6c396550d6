/**
 * The client branches on errors by name, never by number: a response's code
 * is turned into the table's name (`errorNameOf`) and compared with names, so
 * a misspelling does not compile and a code never has to be remembered.
 *
 * Two checks keep it so. The type checks below fail `npm run lint` (which
 * compiles tests/) if `RunnelError.errorName` ever widens back to `string`:
 * every `@ts-expect-error` would then be unused, which is itself an error.
 * The scan fails if a raw numeric error-code comparison comes back in
 * client/ or tools/ (`p.errorCode === 1`, a set of codes, a code written as
 * a number).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunnelError, type RunnelErrorName } from '../../client/errors.js';
import { Errors, errorNameOf, type ErrorName } from '../../protocol/errors.js';
import { root, sourceFiles } from '../support/source-files.js';

/* ------------------------------------------------------ the type-level checks */

/** Never called: compiled by `npm run lint`, where each expected error must occur. */
export function typeChecks(err: RunnelError): boolean[] {
  // @ts-expect-error a misspelled wire name is not an error name
  const misspelled: RunnelErrorName = 'UNKNOWN_TOPIC_OR_PARTITON';
  // @ts-expect-error nor is a misspelled client-only one
  new RunnelError('DELIVERY_TIMEOUT_', 'x');
  const asWire: ErrorName = 'NOT_LEADER_OR_FOLLOWER';
  const clientOnly: RunnelErrorName = 'DELIVERY_TIMEOUT';
  return [
    misspelled === asWire,
    err.errorName === clientOnly,
    // @ts-expect-error comparing errorName with a misspelling does not compile (no overlap)
    err.errorName === 'OFFSET_OUT_OF_RANGES',
    // @ts-expect-error nor with a number: names are compared, not codes
    err.errorName === 1,
  ];
}

t.test('errorName is typed by the table and names every wire and client error', async (t) => {
  const err = RunnelError.fromCode(Errors.OFFSET_OUT_OF_RANGE.code, 'Fetching t-0');
  t.equal(err.errorName, 'OFFSET_OUT_OF_RANGE');
  t.equal(errorNameOf(0), 'NONE', 'success has a name too, so callers compare names only');
  t.equal(new RunnelError('DELIVERY_TIMEOUT', 'x').code, 1004, 'client-only names keep their own codes');
});

/* ------------------------------------------- no raw error-code comparison */

/** What a raw error-code use looks like; each says what to write instead. */
const RAW_CODE_USES: readonly { pattern: RegExp; instead: string }[] = [
  // `p.errorCode === 1`, `res.errorCode !== 0`, `err.code === 3`, `1 === p.errorCode`
  { pattern: /\b(?:errorCode|code)\s*[!=]==?\s*-?\d/, instead: "errorNameOf(code) === 'NAME'" },
  { pattern: /(?:^|[^\w.])-?\d+\s*[!=]==?\s*[\w.]*\b(?:errorCode|code)\b/, instead: "errorNameOf(code) === 'NAME'" },
  // `code === Errors.X.code`: a number comparison that hides behind the table
  { pattern: /[!=]==?\s*Errors\.[A-Z_]+\.code\b|\bErrors\.[A-Z_]+\.code\s*[!=]==?/, instead: "errorNameOf(code) === 'X'" },
  // `errorCode: 5` in an object
  { pattern: /\berrorCode\s*:\s*-?\d/, instead: 'Errors.NAME.code' },
  // `new Set([3, 5, 6])` of codes
  { pattern: /new Set(?:<number>)?\(\[\s*-?\d+\s*,/, instead: 'a set of names' },
];

/** The one place where codes become names (`fromCode`), and may be looked at as numbers. */
const EDGE = join('client', 'errors.ts');

function rawCodeUses(text: string): { line: number; text: string; instead: string }[] {
  const found: { line: number; text: string; instead: string }[] = [];
  text.split('\n').forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
    for (const { pattern, instead } of RAW_CODE_USES) {
      if (pattern.test(code)) {
        found.push({ line: i + 1, text: line.trim(), instead });
        break;
      }
    }
  });
  return found;
}

t.test('the scan recognises raw error-code comparisons and lets names through', async (t) => {
  for (const raw of ['if (p.errorCode === 1) {', 'if (res.errorCode !== 0) throw x;', 'if (0 !== t.errorCode) {', 'if (err.code === 1004) {',
    "r.errorCode === Errors.INVALID_PARTITIONS.code", "{ partition: i, errorCode: 5 }", 'const STALE = new Set([3, 5, 6]);']) {
    t.equal(rawCodeUses(raw).length, 1, `caught: ${raw}`);
  }
  for (const fine of ["if (errorNameOf(p.errorCode) === 'OFFSET_OUT_OF_RANGE') {", "if (err.code === 'EPIPE') {", 'errorCode: LEADERLESS', 'if (x.length === 0) {',
    "// was: p.errorCode === 1", "err.errorName === 'NONE'"]) {
    t.same(rawCodeUses(fine), [], `let through: ${fine}`);
  }
});

t.test('client/ and tools/ compare error names, never raw codes', async (t) => {
  const files = [...sourceFiles('client'), ...sourceFiles('tools')].filter((file) => file !== EDGE);
  t.ok(files.length > 20, `scanned ${files.length} files`);
  const uses = files.flatMap((file) => rawCodeUses(readFileSync(join(root, file), 'utf8')).map((use) => `${file}:${use.line}: ${use.text} (write ${use.instead})`));
  t.same(uses, [], 'no raw numeric error-code comparison');
});
