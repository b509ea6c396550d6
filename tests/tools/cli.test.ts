/**
 * The `runnel` command end to end: a real broker process on an OS-picked
 * port, and the CLI run as a user runs it (`node bin/runnel.js ...`, built
 * code), checking what it prints and how it exits.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { CLI_TIMEOUT_MS, RUNNEL_BIN, runCliProcess } from '../support/cli-process.js';
import { lastLine, unusedPort } from './run-cli.js';

/** The CLI as a user runs it (built code), bounded in time: tests/support/cli-process.ts. */
const runnel = runCliProcess;

let broker: BrokerProcess;

t.before(async () => {
  broker = await startBrokerProcess();
});
t.teardown(async () => {
  await broker?.stop();
});

/** A client command against the test broker. */
const cli = (args: string[], input?: string) =>
  runnel([...args, '--bootstrap', broker.bootstrap], input === undefined ? {} : { input });

t.test('--help on the program and on a subcommand', async (t) => {
  const top = await runnel(['--help']);
  t.equal(top.code, 0);
  for (const name of ['start', 'topic', 'produce', 'consume', 'offsets', 'perf', 'dump-log']) t.match(top.stdout, name);
  const create = await runnel(['topic', 'create', '--help']);
  t.equal(create.code, 0);
  t.match(create.stdout, '--partitions');
  t.match(create.stdout, '--bootstrap');
});

t.test('topic create, list, describe, alter-config and delete', async (t) => {
  const created = await cli(['topic', 'create', 'orders', '--partitions', '3', '--config', 'retention.ms=86400000']);
  t.equal(created.code, 0, created.stderr);
  t.match(created.stdout, 'Created topic orders');

  const list = await cli(['topic', 'list', '--json']);
  t.equal(list.code, 0, list.stderr);
  t.ok((JSON.parse(list.stdout) as string[]).includes('orders'), 'list --json names the topic');
  t.ok((await cli(['topic', 'list'])).stdout.split('\n').includes('orders'), 'plain list: one name a line');

  const described = await cli(['topic', 'describe', 'orders', '--json']);
  t.equal(described.code, 0, described.stderr);
  const description = JSON.parse(described.stdout) as { name: string; partitions: { partition: number }[]; settings: { name: string; value: string; source: string }[] };
  t.equal(description.name, 'orders');
  t.same(description.partitions.map((p) => p.partition).sort(), [0, 1, 2]);
  t.match(description.settings.find((s) => s.name === 'retention.ms'), { value: '86400000', source: 'topic' });
  const text = await cli(['topic', 'describe', 'orders']);
  t.match(text.stdout, /PartitionCount: 3/);
  t.match(text.stdout, /retention\.ms=86400000/);

  const altered = await cli(['topic', 'alter-config', 'orders', '--config', 'retention.ms=3600000']);
  t.equal(altered.code, 0, altered.stderr);
  const after = JSON.parse((await cli(['topic', 'describe', 'orders', '--json'])).stdout) as typeof description;
  t.equal(after.settings.find((s) => s.name === 'retention.ms')?.value, '3600000');

  t.equal(altered.stderr, '', 'no warning for an ordinary setting');
  const unclean = await cli(['topic', 'alter-config', 'orders', '--config', 'unclean.leader.election.enable=true']);
  t.equal(unclean.code, 0, unclean.stderr);
  t.match(unclean.stderr, /^warning: unclean\.leader\.election\.enable=true on topic orders: .*Records it lacks are lost, even ones acknowledged with acks=all/, 'turning unclean election on warns what it can lose');
  const uncleanCreate = await cli(['topic', 'create', 'risky', '--config', 'unclean.leader.election.enable=true']);
  t.equal(uncleanCreate.code, 0, uncleanCreate.stderr);
  t.match(uncleanCreate.stderr, /^warning: unclean\.leader\.election\.enable=true on topic risky/, 'so does creating a topic with it');

  const deleted = await cli(['topic', 'delete', 'orders']);
  t.equal(deleted.code, 0, deleted.stderr);
  t.notOk((JSON.parse((await cli(['topic', 'list', '--json'])).stdout) as string[]).includes('orders'), 'gone after delete');
});

t.test('produce stdin lines, consume them back, list offsets, dump the segment', async (t) => {
  t.equal((await cli(['topic', 'create', 'lines'])).code, 0);
  const lines = ['first line', 'second, with spaces', 'третья строка', ''.padEnd(300, 'x')];
  const produced = await cli(['produce', 'lines', '--acks', '1'], `${lines.join('\n')}\n`);
  t.equal(produced.code, 0, produced.stderr);

  const consumed = await cli(['consume', 'lines', '--from-beginning', '--max-messages', String(lines.length)]);
  t.equal(consumed.code, 0, consumed.stderr);
  t.equal(consumed.stdout, `${lines.join('\n')}\n`, 'exactly the lines, in order');

  const withOffsets = await cli(['consume', 'lines', '--offset', '-2', '--timeout-ms', '1500', '--print-offset']);
  t.equal(withOffsets.code, 0, withOffsets.stderr);
  t.equal(withOffsets.stdout, `Offset:2\t${lines[2]}\nOffset:3\t${lines[3]}\n`, '--offset -2 starts two before the end; --timeout-ms stops it');

  const offsets = await cli(['offsets', 'lines', '--json']);
  t.equal(offsets.code, 0, offsets.stderr);
  t.same(JSON.parse(offsets.stdout), { topic: 'lines', partitions: [{ partition: 0, earliest: 0, latest: 4, records: 4 }], totalRecords: 4 });

  const partitionDir = join(broker.dataDir, 'lines-0');
  const logName = readdirSync(partitionDir).find((name) => name.endsWith('.log'));
  t.equal(logName, '00000000000000000000.log');
  const dumped = await runnel(['dump-log', join(partitionDir, logName!), '--json']);
  t.equal(dumped.code, 0, dumped.stderr);
  const entries = dumped.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const batches = entries.filter((e) => e['type'] === 'batch');
  t.ok(batches.length >= 1, 'at least one batch');
  t.ok(batches.every((b) => b['crcValid'] === true), 'every CRC valid');
  t.equal(batches.reduce((sum, b) => sum + (b['recordCount'] as number), 0), 4);
  t.equal(batches[0]?.['baseOffset'], 0);
  t.equal(batches[batches.length - 1]?.['lastOffset'], 3);
  t.match(entries[entries.length - 1], { type: 'summary', records: 4, firstOffset: 0, lastOffset: 3, crcFailures: 0, problem: null });
  const text = await runnel(['dump-log', join(partitionDir, logName!)]);
  t.match(text.stdout, /baseOffset: 0 lastOffset: \d+ .*crcValid: true/);
});

t.test('keys with --key-separator land by key and print with --print-key', async (t) => {
  t.equal((await cli(['topic', 'create', 'keyed', '--partitions', '3'])).code, 0);
  const input = ['k1:v1', 'k2:v2', 'k3:v3', 'k1:v4'];
  const produced = await cli(['produce', 'keyed', '--key-separator', ':'], `${input.join('\n')}\n`);
  t.equal(produced.code, 0, produced.stderr);
  const consumed = await cli(['consume', 'keyed', '--from-beginning', '--max-messages', '4', '--print-key', '--print-partition']);
  t.equal(consumed.code, 0, consumed.stderr);
  const rows = consumed.stdout.trim().split('\n').map((line) => line.split('\t'));
  t.same(rows.map((r) => `${r[1]}:${r[2]}`).sort(), [...input].sort());
  const partitionOf = new Map(rows.map((r) => [r[2], r[0]]));
  t.equal(partitionOf.get('v1'), partitionOf.get('v4'), 'the same key goes to the same partition');

  const bad = await cli(['produce', 'keyed', '--key-separator', ':'], 'no separator here\n');
  t.not(bad.code, 0, 'a line without the separator fails');
  t.equal(bad.stderr.trim().split('\n').length, 1);
  t.match(bad.stderr, /line 1/);
});

t.test('perf produce and perf consume print a Kafka-style summary; --json ends with one JSON object', async (t) => {
  t.equal((await cli(['topic', 'create', 'perf', '--partitions', '2'])).code, 0);
  const produced = await cli(['perf', 'produce', '--topic', 'perf', '--num-records', '3000', '--record-size', '100', '--json']);
  t.equal(produced.code, 0, produced.stderr);
  const summary = JSON.parse(lastLine(produced.stdout)) as Record<string, unknown>;
  for (const key of ['records', 'bytes', 'elapsedMs', 'recordsPerSec', 'mbPerSec', 'latencyAvgMs', 'latencyMaxMs', 'latencyP50Ms', 'latencyP95Ms', 'latencyP99Ms', 'latencyP999Ms', 'errors']) {
    t.type(summary[key], 'number', key);
  }
  t.equal(summary['records'], 3000);
  t.equal(summary['bytes'], 300_000);
  t.equal(summary['errors'], 0);
  t.ok((summary['latencyP50Ms'] as number) <= (summary['latencyP99Ms'] as number), 'p50 <= p99');
  t.ok((summary['latencyP99Ms'] as number) <= (summary['latencyMaxMs'] as number) * 1.001, 'p99 <= max');

  const text = await cli(['perf', 'produce', '--topic', 'perf', '--num-records', '1000', '--record-size', '10', '--throughput', '20000']);
  t.equal(text.code, 0, text.stderr);
  t.match(lastLine(text.stdout), /^1000 records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, [\d.]+ ms 50th, [\d.]+ ms 95th, [\d.]+ ms 99th, [\d.]+ ms 99\.9th\.$/);

  const consumed = await cli(['perf', 'consume', '--topic', 'perf', '--num-records', '4000', '--json']);
  t.equal(consumed.code, 0, consumed.stderr);
  t.match(JSON.parse(lastLine(consumed.stdout)), { kind: 'consume', records: 4000, errors: 0 });
});

t.test('runnel start runs a broker that serves clients and stops cleanly on SIGTERM', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-cli-start-'));
  const child = spawn(process.execPath, [RUNNEL_BIN, 'start', '--port', '0', '--data', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  const bootstrap = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no listening line within ${CLI_TIMEOUT_MS} ms:\n${text}`)), CLI_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      const match = /"event":"listening","host":"([^"]+)","port":(\d+)/.exec(text);
      if (match !== null) {
        clearTimeout(timer);
        resolve(`${match[1]}:${match[2]}`);
      }
    });
    void exited.then((code) => reject(new Error(`runnel start exited with ${String(code)}:\n${text}`)));
  });
  const created = await runnel(['topic', 'create', 'started', '--bootstrap', bootstrap]);
  t.equal(created.code, 0, created.stderr);
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'clean shutdown exits 0');
  const refused = await runnel(['start', '--no-such-flag']);
  t.equal(refused.code, 2, 'a setting the broker refuses exits 2');
  t.match(refused.stderr, /no-such-flag/);
});

t.test('errors: one line on stderr, non-zero exit', async (t) => {
  for (const args of [
    ['consume', 'no-such-topic', '--from-beginning', '--max-messages', '1'],
    ['topic', 'describe', 'no-such-topic'],
    ['offsets', 'no-such-topic'],
  ]) {
    const result = await cli(args);
    t.not(result.code, 0, `${args.join(' ')} fails`);
    t.equal(result.stdout, '', 'nothing on stdout');
    t.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
    t.match(result.stderr, /^error: .*(no-such-topic|UNKNOWN_TOPIC)/);
  }
  const twice = await cli(['topic', 'create', 'lines']);
  t.equal(twice.code, 1);
  t.equal(twice.stderr.trim().split('\n').length, 1);
  t.match(twice.stderr, /^error: .*already exists.*runnel topic delete/);

  const perfMissing = await cli(['perf', 'produce', '--topic', 'no-such-topic', '--num-records', '10', '--record-size', '10']);
  t.equal(perfMissing.code, 1);
  t.equal(perfMissing.stdout, '', 'no summary when nothing was measured');
  t.match(perfMissing.stderr, /^error: .*no-such-topic/);

  const badOption = await runnel(['topic', 'create', 'x', '--partitions', 'many']);
  t.not(badOption.code, 0);
  t.equal(badOption.stderr.trim().split('\n').length, 1);
  t.match(badOption.stderr, /--partitions/);

  const closedPort = await unusedPort();
  const refused = await runnel(['topic', 'list', '--bootstrap', `127.0.0.1:${closedPort}`]);
  t.equal(refused.code, 1);
  t.equal(refused.stderr.trim().split('\n').length, 1);
  t.match(refused.stderr, new RegExp(`^error: cannot reach a broker at 127\\.0\\.0\\.1:${closedPort} .*runnel start`));
  const fromEnv = await runnel(['topic', 'list'], { env: { RUNNEL_BOOTSTRAP: broker.bootstrap } });
  t.equal(fromEnv.code, 0, 'RUNNEL_BOOTSTRAP is read when --bootstrap is absent');

  const notASegment = await runnel(['dump-log', '/etc/hostname']);
  t.equal(notASegment.code, 1);
  t.match(notASegment.stderr, /^error: hostname is not a segment file/);
});
