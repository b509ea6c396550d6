/**
 * A newcomer's first ten minutes with the `runnel` command, end to end: a
 * real broker process, the real CLI entry (`node bin/runnel.js`). A bad
 * bootstrap address is one line on stderr and a non-zero exit; `-b` works
 * before and after the subcommand; a dead broker is reported in seconds by
 * every command; errors say a thing once, in command-line words, naming
 * only what the user asked for (and CLI.md's examples are what it prints);
 * the broker names a bad variable as the variable and says why it could not
 * start on stderr whatever stdout is; `bin/runnel.js` before a build says to
 * build; a build with nothing changed compiles nothing.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDataDir, startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { linesOf, RUNNEL_BIN, runnel, unusedPort, type CliResult } from './run-cli.js';
import { repoRoot } from '../support/repo-root.js';

/** Well under the 30 s `runnel offsets` used to take against a dead broker, well over the ~3 s it takes now. */
const DEAD_BROKER_BOUND_MS = 15_000;

let broker: BrokerProcess;
t.before(async () => {
  broker = await startBrokerProcess();
});
t.teardown(async () => {
  await broker?.stop();
});

const cli = (args: string[], input?: string) => runnel([...args, '--bootstrap', broker.bootstrap], input === undefined ? {} : { input });

/** A failed command: non-zero, nothing on stdout, exactly one line on stderr; returns that line. */
function oneErrorLine(t: Test, result: CliResult, what: string): string {
  t.not(result.code, 0, `${what}: exits non-zero`);
  t.equal(result.stdout, '', `${what}: nothing on stdout`);
  const lines = linesOf(result.stderr);
  t.equal(lines.length, 1, `${what}: one line on stderr: ${JSON.stringify(result.stderr)}`);
  return lines[0] ?? '';
}

t.test('a malformed --bootstrap, -b or RUNNEL_BOOTSTRAP is one line on stderr and a non-zero exit', async (t) => {
  for (const bad of ['127.0.0.1', '127.0.0.1:99999', '127.0.0.1:0', 'localhost:http', '']) {
    const flag = oneErrorLine(t, await runnel(['topic', 'list', '--bootstrap', bad]), `--bootstrap "${bad}"`);
    t.match(flag, /^error: option '-b, --bootstrap <host:port\[,host:port\]>' argument '.*' is invalid\. .*host:port/);
    t.ok(flag.includes(`'${bad}'`), 'names the value given');
    const short = oneErrorLine(t, await runnel(['offsets', 'orders', '-b', bad]), `-b "${bad}"`);
    t.match(short, /is invalid/);
    const fromEnv = oneErrorLine(t, await runnel(['topic', 'list'], { env: { RUNNEL_BOOTSTRAP: bad } }), `RUNNEL_BOOTSTRAP="${bad}"`);
    t.match(fromEnv, /value '.*' from env 'RUNNEL_BOOTSTRAP' is invalid/, 'names the variable');
  }
});

t.test('-b is --bootstrap, after the subcommand or before it', async (t) => {
  t.equal((await runnel(['topic', 'create', 'bee', '-b', broker.bootstrap])).code, 0);
  const before = await runnel(['-b', broker.bootstrap, 'topic', 'list']);
  t.equal(before.code, 0, before.stderr);
  t.ok(linesOf(before.stdout).includes('bee'), 'runnel -b host:port topic list reaches that broker');
  const nested = await runnel(['-b', broker.bootstrap, 'consume', 'bee', '--from-beginning', '--exit-at-end']);
  t.equal(nested.code, 0, nested.stderr);

  const overStaleVariable = await runnel(['-b', broker.bootstrap, 'topic', 'list'], { env: { RUNNEL_BOOTSTRAP: 'stale-without-port' } });
  t.equal(overStaleVariable.code, 0, `the flag wins and the variable is not read: ${overStaleVariable.stderr}`);

  const deadPort = await unusedPort();
  const innerWins = await runnel(['-b', broker.bootstrap, 'topic', 'list', '--bootstrap', `127.0.0.1:${deadPort}`]);
  t.match(oneErrorLine(t, innerWins, 'a --bootstrap after the subcommand'), `127.0.0.1:${deadPort}`, 'beats -b before it');

  // After a command group too, as kafka tools and kcat users type it.
  const afterGroup = await runnel(['topic', '-b', broker.bootstrap, 'list']);
  t.equal(afterGroup.code, 0, afterGroup.stderr);
  t.ok(linesOf(afterGroup.stdout).includes('bee'), 'runnel topic -b host:port list');
  const perfAfterGroup = await runnel(['perf', '-b', broker.bootstrap, 'produce', '--topic', 'bee', '--num-records', '10', '--record-size', '10', '--reporting-interval-ms', '0']);
  t.equal(perfAfterGroup.code, 0, perfAfterGroup.stderr);
  t.match(perfAfterGroup.stdout, /^10 records sent/);
  const closestWins = await runnel(['-b', broker.bootstrap, 'topic', '-b', `127.0.0.1:${deadPort}`, 'list']);
  t.match(oneErrorLine(t, closestWins, '-b after the group'), `127.0.0.1:${deadPort}`, 'beats -b before the group');

  const notABrokerCommand = oneErrorLine(t, await runnel(['-b', broker.bootstrap, 'dump-log', 'x.log']), '-b before dump-log');
  t.match(notABrokerCommand, /runnel dump-log does not talk to a broker/);
});

t.test('every client command reports a dead broker in seconds, in one line', async (t) => {
  const dead = `127.0.0.1:${await unusedPort()}`;
  for (const args of [['offsets', 'orders'], ['topic', 'describe', 'orders'], ['topic', 'list'], ['consume', 'orders', '--from-beginning'], ['topic', 'alter', 'orders', '--partitions', '9']]) {
    const result = await runnel([...args, '-b', dead]);
    const line = oneErrorLine(t, result, args.join(' '));
    t.ok(line.startsWith(`error: cannot reach a broker at ${dead} (ECONNREFUSED); start one with \`runnel start\``), line);
    t.ok(result.elapsedMs < DEAD_BROKER_BOUND_MS, `${args.join(' ')} gave up after ${Math.round(result.elapsedMs)} ms (bound ${DEAD_BROKER_BOUND_MS})`);
  }
});

t.test('errors say a thing once, in CLI words, naming only what was asked', async (t) => {
  t.equal((await cli(['topic', 'create', 'orders'])).code, 0);
  t.equal((await cli(['produce', 'orders'], 'a\nb\nc\nd\n')).code, 0);

  for (const args of [['consume', 'nope', '--from-beginning'], ['offsets', 'nope'], ['topic', 'describe', 'nope'], ['topic', 'alter', 'nope', '--partitions', '3'], ['perf', 'consume', '--topic', 'nope', '--num-records', '1']]) {
    const line = oneErrorLine(t, await cli(args), args.join(' '));
    t.equal(line, 'error: topic nope does not exist; see the topics with `runnel topic list`, or create it with `runnel topic create nope`', args.join(' '));
  }
  // The topic is looked up before stdin is read: with lines, with none at all, or with lines that never end.
  for (const input of ['x\n', '']) {
    const produced = oneErrorLine(t, await cli(['produce', 'nope'], input), `produce to a missing topic, stdin ${JSON.stringify(input)}`);
    t.equal(produced, 'error: topic nope does not exist; see the topics with `runnel topic list`, or create it with `runnel topic create nope`');
  }
  const deleted = oneErrorLine(t, await cli(['topic', 'delete', 'nope']), 'delete a missing topic');
  t.equal(deleted, 'error: topic nope does not exist; see the topics with `runnel topic list`', 'no advice to create what was being deleted');

  const twice = oneErrorLine(t, await cli(['topic', 'create', 'orders']), 'create twice');
  t.equal(twice.split('already exists').length - 1, 1, `"already exists" said once: ${twice}`);
  t.notMatch(twice, /TOPIC_ALREADY_EXISTS/, 'no wire name repeated at the user');

  const badName = oneErrorLine(t, await cli(['topic', 'create', 'or$ders']), 'a bad topic name');
  t.equal(badName, 'error: the topic name "or$ders" contains "$"; use only letters, digits, ".", "_" and "-"');

  const badSetting = oneErrorLine(t, await cli(['topic', 'alter-config', 'orders', '--config', 'retention.ms=soon']), 'a bad setting');
  t.match(badSetting, /^error: invalid topic config retention\.ms: 'soon' is not an integer; `runnel start --help` describes every topic setting/);

  const past = oneErrorLine(t, await cli(['consume', 'orders', '--offset', '9']), '--offset past the end');
  t.equal(past, 'error: orders-0 holds offsets 0 to 3, so --offset 9 is past its end; --offset 4 waits for the next record, --from-beginning reads what it holds');
  for (const line of [past, twice, badName, badSetting]) {
    t.notMatch(line, /seek to|Describing|Listing offsets|gave up/, `no SDK advice or SDK call names: ${line}`);
  }
});

/** The lines of a fenced block inside a list item, without the item's indent. */
function exampleLines(block: string | undefined): string[] {
  return linesOf(block ?? '').map((line) => line.trim()).filter((line) => line !== '');
}

t.test("CLI.md's example errors are what the command prints", async (t) => {
  const cliDoc = readFileSync(join(repoRoot, 'docs', 'CLI.md'), 'utf8');
  const block = /- \*\*Errors\.\*\*[\s\S]*?```\n([\s\S]*?)```/.exec(cliDoc);
  t.ok(block, 'CLI.md has the example block under **Errors.**');
  const examples = exampleLines(block?.[1]);
  const dead = `127.0.0.1:${await unusedPort()}`;
  const printed = [
    oneErrorLine(t, await runnel(['topic', 'list', '-b', dead]), 'no broker').replaceAll(dead, '127.0.0.1:9092'),
    oneErrorLine(t, await cli(['consume', 'absent']), 'missing topic').replaceAll('absent', 'orders'),
    oneErrorLine(t, await cli(['topic', 'create', 'orders']), 'existing topic'),
    oneErrorLine(t, await cli(['consume', 'orders', '--offset', '9']), 'offset past the end'),
    oneErrorLine(t, await cli(['topic', 'create', 'x', '--partitions', 'many']), 'bad option'),
  ];
  t.same(examples, printed, 'every example, verbatim (the address and topic name aside)');

  const startBlock = /`runnel start` reports through[\s\S]*?```\n([\s\S]*?)```/.exec(cliDoc);
  const startExamples = exampleLines(startBlock?.[1]);
  t.equal(startExamples.length, 2);
  const badVariable = await runnel(['start', '--data', freshDataDir(), '--port', '0'], { env: { RUNNEL_LOG_RETENTION_MS: 'soon' } });
  t.equal(linesOf(badVariable.stderr)[0], startExamples[0]);
  const portTaken = await runnel(['start', '--data', freshDataDir(), '--port', String(broker.port)]);
  t.equal(linesOf(portTaken.stderr)[0], startExamples[1]?.replace('127.0.0.1:9092', `127.0.0.1:${broker.port}`));
});

t.test('runnel start: a bad variable is named as the variable; fatal errors are one sentence on stderr with stdout piped', async (t) => {
  const badVariable = await runnel(['start', '--data', freshDataDir()], { env: { RUNNEL_LOG_RETENTION_MS: 'soon', RUNNEL_PORT: 'ninety' } });
  t.equal(badVariable.code, 2, 'a refused setting exits 2');
  t.same(linesOf(badVariable.stderr), [
    'runnel: invalid broker configuration:',
    '  RUNNEL_PORT (from environment, setting port): must be an integer, got "ninety"',
    '  RUNNEL_LOG_RETENTION_MS (from environment, setting log.retention.ms): \'soon\' is not an integer',
  ]);

  const badFlags = await runnel(['start', '--data', freshDataDir(), '--port', '99999', '--set', 'log.retention.ms=x']);
  t.equal(badFlags.code, 2);
  t.same(linesOf(badFlags.stderr), [
    'runnel: invalid broker configuration:',
    '  --port (from flags): must be between 0 and 65535, got 99999',
    "  --set log.retention.ms (from flags): 'x' is not an integer",
  ], 'flags are named as typed');

  const portTaken = await runnel(['start', '--data', freshDataDir(), '--port', String(broker.port)]);
  t.equal(portTaken.code, 1);
  t.same(linesOf(portTaken.stderr), [`runnel: broker failed to start: 127.0.0.1:${broker.port} is already in use (another broker?); choose another port with --port or RUNNEL_PORT`]);
  t.match(portTaken.stdout, /"level":"fatal"/, 'the JSON log on stdout still has the fatal line, with the details');

  const fileInTheWay = join(freshDataDir(), 'a-file');
  writeFileSync(fileInTheWay, 'not a directory');
  const notADirectory = await runnel(['start', '--data', join(fileInTheWay, 'data'), '--port', '0']);
  t.equal(notADirectory.code, 1);
  t.same(linesOf(notADirectory.stderr), [
    `runnel: broker failed to start: cannot use ${join(fileInTheWay, 'data')}: a part of that path is a file, not a directory (ENOTDIR); choose another data directory with --data or RUNNEL_DATA_DIR, or fix its permissions`,
  ]);

  // Node 20's recursive mkdir spins forever here; the broker must fail at once instead.
  const underProc = await runnel(['start', '--data', '/proc/runnel-data', '--port', '0']);
  t.equal(underProc.code, 1, 'a data directory that cannot be made fails the start, it does not hang');
  t.same(linesOf(underProc.stderr), [
    'runnel: broker failed to start: cannot use /proc/runnel-data: cannot create a directory there (ENOENT); choose another data directory with --data or RUNNEL_DATA_DIR, or fix its permissions',
  ]);
});

t.test('bin/runnel.js before a build says to run npm run build, not a stack trace', async (t) => {
  const clone = freshDataDir('runnel-unbuilt-');
  mkdirSync(join(clone, 'bin'));
  copyFileSync(RUNNEL_BIN, join(clone, 'bin', 'runnel.js'));
  writeFileSync(join(clone, 'package.json'), JSON.stringify({ type: 'module' }));
  const result = spawnSync(process.execPath, [join(clone, 'bin', 'runnel.js'), 'topic', 'list'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(result.status, 1);
  t.same(linesOf(result.stderr), [`runnel: the CLI is not built yet; run \`npm run build\` in ${clone}/ first (npm start builds too)`]);
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
});

t.test('a build with nothing changed compiles nothing (npm start builds first)', async (t) => {
  const build = () => spawnSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, encoding: 'utf8', timeout: 170_000 });
  const first = build(); // brings dist up to date if it was not
  t.equal(first.status, 0, first.stderr);
  const output = join(repoRoot, 'dist', 'tools', 'cli.js');
  const before = statSync(output).mtimeMs;
  const second = build();
  t.equal(second.status, 0, second.stderr);
  t.equal(statSync(output).mtimeMs, before, 'dist/tools/cli.js was not written again');
});
