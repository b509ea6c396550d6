/**
 * The command line when the broker goes away: `runnel produce` and `runnel
 * perf produce` fail within --delivery-timeout-ms with one error line, `perf`
 * prints its summary (errors counted) on failure and on Ctrl-C, `runnel
 * consume` says on stderr that it cannot reach the broker (once, not per
 * retry) and carries on, and `runnel perf consume` ends instead of looping
 * silently. Real broker processes, killed by pid; the CLI run as a user runs it.
 */
import t, { type Test } from 'tap';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { errorLines, feedForever, spawnCli as cli, unusedPort } from './run-cli.js';
import { Runnel } from '../../client/index.js';

/** Added to every bound for a loaded 2-core machine (process start-up included). */
const SLACK_MS = 4000;

async function brokerWithTopic(t: Test, topic: string): Promise<BrokerProcess> {
  const broker = await startBrokerProcess();
  t.teardown(() => broker.kill('SIGKILL'));
  const created = cli(t, ['topic', 'create', topic, '--partitions', '2', '--bootstrap', broker.bootstrap]);
  t.equal((await created.exited).code, 0, created.stderr());
  return broker;
}

t.test('`yes hello | runnel produce` with the broker killed: exit 1 within --delivery-timeout-ms, one error line', async (t) => {
  const broker = await brokerWithTopic(t, 'lines');
  const produce = cli(t, ['produce', 'lines', '--delivery-timeout-ms', '3000', '--bootstrap', broker.bootstrap]);
  feedForever(produce.child, 'hello\n');
  // Once records are landing, take the broker away.
  const client = new Runnel({ bootstrap: [broker.bootstrap] });
  const admin = client.admin();
  const deadline = Date.now() + 30_000;
  while ((await admin.listOffsets('lines')).every((p) => p.latest === 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  await client.close();
  await broker.kill('SIGKILL');
  const killedAtMs = Date.now();
  const { code, atMs } = await produce.exited;
  t.equal(code, 1, 'exits 1');
  t.ok(atMs - killedAtMs <= 3000 + SLACK_MS, `within the delivery timeout (${atMs - killedAtMs} ms after the kill)`);
  const errors = errorLines(produce.stderr());
  t.equal(errors.length, 1, `one error line: ${produce.stderr()}`);
  t.match(errors[0], new RegExp(`^error: line \\d+ was not sent: delivery timed out after 3000 ms waiting .*: broker ${broker.bootstrap.replace(/\./g, '\\.')} unreachable for \\d+ m?s \\(ECONNREFUSED\\); start one with \`runnel start\`.* \\(\\d+ of \\d+ lines read were acknowledged`));
  t.match(produce.stderr(), /warning: cannot reach the broker at .* records wait for it up to --delivery-timeout-ms \(3000 ms\)/, 'and it said so while waiting');
  t.equal(produce.stdout(), '', 'nothing on stdout');
});

t.test('`runnel produce` with no broker at all fails in seconds, like every other command', async (t) => {
  const port = await unusedPort();
  const produce = cli(t, ['produce', 'x', '--bootstrap', `127.0.0.1:${port}`]);
  produce.child.stdin.end('one\n');
  const started = Date.now();
  const { code, atMs } = await produce.exited;
  t.equal(code, 1);
  t.ok(atMs - started < 15_000, `${atMs - started} ms, not the 120 s delivery timeout`);
  t.match(produce.stderr(), new RegExp(`^error: cannot reach a broker at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
  const tooShort = cli(t, ['produce', 'x', '--delivery-timeout-ms', '5', '--linger-ms', '5', '--bootstrap', `127.0.0.1:${port}`]);
  t.equal((await tooShort.exited).code, 1);
  t.match(tooShort.stderr(), /^error: --delivery-timeout-ms \(5\) must be more than --linger-ms \(5\)/);
});

t.test('`runnel perf produce` with the broker killed: the summary counts the errors, then one error line, exit 1', async (t) => {
  const broker = await brokerWithTopic(t, 'perfdead');
  const perf = cli(t, ['perf', 'produce', '--topic', 'perfdead', '--num-records', '100000000', '--record-size', '100', '--throughput', '5000',
    '--delivery-timeout-ms', '3000', '--reporting-interval-ms', '500', '--json', '--bootstrap', broker.bootstrap]);
  await perf.printed(/[1-9]\d* records sent/);
  await broker.kill('SIGKILL');
  const killedAtMs = Date.now();
  const { code, atMs } = await perf.exited;
  t.equal(code, 1);
  // It stops sending at the first failure (one delivery timeout) and waits out what is pending (one more at most).
  t.ok(atMs - killedAtMs <= 2 * 3000 + SLACK_MS, `ended ${atMs - killedAtMs} ms after the kill`);
  const summary = JSON.parse(perf.stdout().trim().split('\n').at(-1)!) as { records: number; errors: number };
  t.ok(summary.records > 0 && summary.errors > 0, `summary: ${summary.records} records, ${summary.errors} errors`);
  const errors = errorLines(perf.stderr());
  t.equal(errors.length, 1, perf.stderr());
  t.match(errors[0], new RegExp(`^error: delivery timed out after 3000 ms .*unreachable .*\\(ECONNREFUSED\\); start one .*\\(the summary above covers the records before it; ${summary.errors} counted as errors\\)`));
});

t.test('`runnel perf produce` stopped with Ctrl-C prints its summary and exits 130', async (t) => {
  const broker = await brokerWithTopic(t, 'perfint');
  const perf = cli(t, ['perf', 'produce', '--topic', 'perfint', '--num-records', '100000000', '--record-size', '100', '--throughput', '5000',
    '--reporting-interval-ms', '500', '--bootstrap', broker.bootstrap]);
  await perf.printed(/[1-9]\d* records sent/);
  // With the broker gone, what is pending would wait for the delivery timeout (120 s): Ctrl-C must not.
  await broker.kill('SIGKILL');
  await perf.printed(/warning: cannot reach the broker/);
  perf.child.kill('SIGINT');
  const sentAtMs = Date.now();
  const { code, atMs } = await perf.exited;
  t.equal(code, 130, perf.stderr());
  t.ok(atMs - sentAtMs < SLACK_MS, `ended ${atMs - sentAtMs} ms after Ctrl-C`);
  t.match(perf.stdout().trim().split('\n').at(-1), /^\d+ records sent, .* ms 99\.9th\. [1-9]\d* errors\.$/, 'the summary, pending records counted as errors');
  t.match(perf.stderr(), /Interrupted: the summary above covers what was measured before Ctrl-C/);
});

t.test('`runnel consume` says once that it cannot reach the broker, keeps trying, and reads on after a restart', async (t) => {
  let broker = await brokerWithTopic(t, 'watched');
  const { port, dataDir } = broker;
  const put = async (value: string): Promise<void> => {
    const p = cli(t, ['produce', 'watched', '--bootstrap', broker.bootstrap]);
    p.child.stdin.end(`${value}\n`);
    t.equal((await p.exited).code, 0, p.stderr());
  };
  await put('before');
  const consume = cli(t, ['consume', 'watched', '--from-beginning', '--bootstrap', broker.bootstrap]);
  await consume.printed(/^before$/m);
  await broker.kill('SIGKILL');
  await consume.printed(/warning: cannot reach the broker at 127\.0\.0\.1:\d+ \(ECONNREFUSED\); still trying \(Ctrl-C to stop\)/);
  // It retries several times a second: still one line.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.equal(consume.stderr().split('\n').filter((l) => l.includes('cannot reach')).length, 1, 'one line, not one per retry');
  broker = await startBrokerProcess({ dataDir, args: ['--port', String(port)] });
  t.teardown(() => broker.kill('SIGKILL'));
  await consume.printed(/reachable again after \d+ s/);
  await put('after');
  // The record's own line: /after/ alone also matches "reachable again after N s" above.
  await consume.printed(/^after$/m);
  consume.child.kill('SIGINT');
  t.equal((await consume.exited).code, 0);
  t.same(consume.stdout().split('\n').filter(Boolean), ['before', 'after']);
  t.match(consume.stderr(), /Processed a total of 2 messages/);
});

t.test('`runnel perf consume` on a broker that dies ends at --timeout-ms, naming the broker, not in an endless silent loop', async (t) => {
  const broker = await brokerWithTopic(t, 'readdead');
  const perf = cli(t, ['perf', 'consume', '--topic', 'readdead', '--num-records', '1000', '--timeout-ms', '4000', '--reporting-interval-ms', '200', '--bootstrap', broker.bootstrap]);
  // Once it is reading (the topic is empty: its first progress line), the broker dies.
  await perf.printed(/0 records received/);
  await broker.kill('SIGKILL');
  const killedAtMs = Date.now();
  const { code, atMs } = await perf.exited;
  t.equal(code, 1);
  t.ok(atMs - killedAtMs <= 4000 + SLACK_MS, `ended ${atMs - killedAtMs} ms after the kill`);
  t.match(perf.stderr(), /warning: cannot reach the broker/);
  t.match(errorLines(perf.stderr())[0], /only 0 of 1000 records arrived \(nothing arrived for 4000 ms: the broker at 127\.0\.0\.1:\d+ has been unreachable for \d+ s \(ECONNREFUSED\)\)/);
});

t.test('`runnel consume --timeout-ms` while the broker is unreachable fails naming it, rather than ending as if the topic were quiet', async (t) => {
  const broker = await brokerWithTopic(t, 'quiet');
  const put = cli(t, ['produce', 'quiet', '--bootstrap', broker.bootstrap]);
  put.child.stdin.end('one\n');
  t.equal((await put.exited).code, 0, put.stderr());
  const consume = cli(t, ['consume', 'quiet', '--from-beginning', '--timeout-ms', '3000', '--bootstrap', broker.bootstrap]);
  await consume.printed(/^one$/m);
  await broker.kill('SIGKILL');
  const { code } = await consume.exited;
  t.equal(code, 1, 'exit 1, not 0');
  t.equal(consume.stdout(), 'one\n', 'what it read is on stdout');
  t.same(errorLines(consume.stderr()), [
    `error: nothing arrived for --timeout-ms 3000 ms because the broker at ${broker.bootstrap} has been unreachable for ${/unreachable for (\d+ s)/.exec(consume.stderr())?.[1]} (ECONNREFUSED), after 1 record; check that the broker is running, or point --bootstrap (or RUNNEL_BOOTSTRAP) at one that is`,
  ]);
  t.notMatch(consume.stderr(), /Processed a total/, 'no normal end');

  // A quiet topic with the broker up still ends normally.
  const server = await startBrokerProcess();
  t.teardown(() => server.kill('SIGKILL'));
  t.equal((await cli(t, ['topic', 'create', 'calm', '--bootstrap', server.bootstrap]).exited).code, 0);
  const calm = cli(t, ['consume', 'calm', '--timeout-ms', '1000', '--bootstrap', server.bootstrap]);
  t.equal((await calm.exited).code, 0);
  t.match(calm.stderr(), /^Processed a total of 0 messages\.$/m);
});

t.test('a broker reached as localhost, killed and restarted, is one warning and one "reachable again", whatever name each connection used', async (t) => {
  let broker = await brokerWithTopic(t, 'named');
  const { port, dataDir } = broker;
  // One record read back proves the consumer is past its start-up (bootstrap, metadata) before the kill, however slow the machine.
  const client = new Runnel({ bootstrap: [broker.bootstrap] });
  await client.producer().send({ topic: 'named', messages: [{ value: 'ready' }] });
  await client.close();
  const consume = cli(t, ['consume', 'named', '--from-beginning', '--bootstrap', `localhost:${port}`]);
  await consume.printed(/^ready$/m);
  await broker.kill('SIGKILL');
  const killedAtMs = Date.now();
  await consume.printed(/warning: cannot reach the broker/);
  // It retries every connection it has (the bootstrap address's among them) several times a second.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  broker = await startBrokerProcess({ dataDir, args: ['--port', String(port)] });
  t.teardown(() => broker.kill('SIGKILL'));
  await consume.printed(/reachable again after \d+ s/);
  const awayMs = Date.now() - killedAtMs;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  consume.child.kill('SIGINT');
  t.equal((await consume.exited).code, 0);
  const lines = consume.stderr().split('\n').filter(Boolean);
  t.same(lines.map((l) => l.replace(/\d+ s$/, 'N s')), [
    `warning: cannot reach the broker at 127.0.0.1:${port} (ECONNREFUSED); still trying (Ctrl-C to stop)`,
    `the broker at 127.0.0.1:${port} is reachable again after N s`,
    'Processed a total of 1 message.',
  ], 'one outage, one warning, one return (nothing about localhost left over)');
  const back = Number(/after (\d+) s/.exec(consume.stderr())![1]);
  t.ok(back * 1000 >= awayMs - 2500, `away ${back} s by its count (${awayMs} ms from the kill until it saw the broker back)`);
});
