/**
 * Every send() settles within the producer's deliveryTimeoutMs, whatever
 * happens to the broker: never reachable, stopped under un-awaited sends,
 * SIGKILLed under hundreds of sends in flight (and what it acknowledged is in
 * its log after a restart), or SIGSTOPped so that requests on the wire get no
 * answer. The errors say what the send was waiting for and why; flush() and
 * close() settle too, and nothing the producer armed keeps a process alive
 * after close(). The consumer says when its broker is unreachable, once per
 * outage, and when it is back.
 *
 * "Within the bound" is deliveryTimeoutMs plus SLACK_MS for timers that fire
 * late on a loaded 2-core machine; the request timeouts are set well above
 * that, so a send that only settled when its request timed out would fail.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { unusedPort } from '../support/unused-port.js';
import { Runnel, RunnelError, type BrokerReachableEvent, type BrokerUnreachableEvent, type Message, type Producer, type RecordMetadata } from '../../client/index.js';
import { repoUrl } from '../support/repo-root.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const SLACK_MS = 1500;

interface Outcome {
  sentAtMs: number;
  settledAtMs?: number;
  metas?: RecordMetadata[];
  error?: unknown;
}

/** Sends without awaiting, and remembers when and how each send settled. */
function track(outcomes: Outcome[], send: Promise<RecordMetadata[]>): void {
  const outcome: Outcome = { sentAtMs: Date.now() };
  outcomes.push(outcome);
  send.then(
    (metas) => Object.assign(outcome, { settledAtMs: Date.now(), metas }),
    (error: unknown) => Object.assign(outcome, { settledAtMs: Date.now(), error }),
  );
}

/** Resolves when every outcome has settled, or rejects past `deadlineMs` (a hang fails the test, it does not stall it). */
async function allSettled(outcomes: Outcome[], deadlineMs: number): Promise<void> {
  while (outcomes.some((o) => o.settledAtMs === undefined)) {
    if (Date.now() > deadlineMs) {
      throw new Error(`${outcomes.filter((o) => o.settledAtMs === undefined).length} of ${outcomes.length} sends never settled`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The slowest send's time to settle, in ms. */
const slowestMs = (outcomes: Outcome[]): number => Math.max(...outcomes.map((o) => o.settledAtMs! - o.sentAtMs));

/** Resolves with how long `promise` took, or rejects if it took longer than `limitMs`. */
async function within<T>(what: string, limitMs: number, promise: Promise<T>): Promise<number> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle within ${limitMs} ms`)), limitMs)));
  try {
    await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
  return Date.now() - started;
}

t.test('no broker ever reachable: 64 un-awaited sends all fail by their deadline, saying why; flush and close settle', async (t) => {
  const port = await unusedPort();
  const runnel = new Runnel({ bootstrap: [`127.0.0.1:${port}`], logger: silent });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ deliveryTimeoutMs: 2000, requestTimeoutMs: 1000 });
  // Before the client's close (teardowns run last first): a hang a test finds must not stall the file.
  t.teardown(() => producer.close({ timeoutMs: 0 }));
  const outcomes: Outcome[] = [];
  for (let i = 0; i < 64; i++) track(outcomes, producer.send({ topic: 'never', messages: [{ value: `m${i}` }] }));
  const flushing = producer.flush();
  await allSettled(outcomes, Date.now() + 2000 + SLACK_MS + 5000);
  t.equal(outcomes.filter((o) => o.error !== undefined).length, 64, 'every send was rejected');
  t.ok(slowestMs(outcomes) <= 2000 + SLACK_MS, `each within deliveryTimeoutMs (slowest ${slowestMs(outcomes)} ms)`);
  t.ok(outcomes.every((o) => o.settledAtMs! - o.sentAtMs >= 1900), 'none gave up before its deadline (it kept retrying until then)');
  const err = outcomes[63]!.error as RunnelError;
  t.ok(err instanceof RunnelError);
  t.match(err, { errorName: 'DELIVERY_TIMEOUT', code: 1004, retriable: false });
  t.match(err.message, new RegExp(`after 2000 ms waiting for the metadata of topic "never": broker 127\\.0\\.0\\.1:${port} unreachable for \\d+ s \\(ECONNREFUSED\\)`));
  t.match(err.cause, { errorName: 'CONNECTION_FAILED' }, 'the cause is the connection failure');
  await within('flush()', SLACK_MS, flushing);
  await within('close()', SLACK_MS, producer.close());
  await t.rejects(producer.send({ topic: 'never', messages: [{ value: 'late' }] }), { name: 'RunnelError', errorName: 'CLIENT_CLOSED' });
});

/** Runs `body` (ES module code with `Runnel` imported from the build) in a fresh node process; its stdout and how long it ran. */
async function runScript(t: Test, body: string): Promise<{ code: number | null; stdout: string; stderr: string; ranMs: number }> {
  const client = repoUrl('dist', 'client', 'index.js');
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import { Runnel } from ${JSON.stringify(client)};\n${body}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const ranMs = await within('the script', 30_000, exited);
  return { code: await exited, stdout, stderr, ranMs };
}

t.test('nothing the client armed keeps a process alive: after close() with retries pending, or once sends settle without close()', async (t) => {
  // A separate process, so tap's own handles do not count. Backoffs of 5 s make sure that when close() comes, the
  // producer's topic lookup and the consumer's metadata retry are both asleep: a timer close() failed to clear
  // would keep the process alive seconds longer, and show in what is left.
  const port = await unusedPort();
  const closed = await runScript(t, `
    const runnel = new Runnel({ bootstrap: ['127.0.0.1:${port}'], retry: { initialBackoffMs: 5000, maxBackoffMs: 5000 } });
    const producer = runnel.producer({ deliveryTimeoutMs: 60000 });
    const sends = Array.from({ length: 20 }, (_, i) => producer.send({ topic: 'gone', messages: [{ value: String(i) }] }).catch((e) => e.errorName));
    const consumer = runnel.consumer();
    consumer.assign([{ topic: 'gone', partition: 0, offset: 0 }]);
    const iterating = (async () => { for await (const m of consumer) void m; })();
    await new Promise((resolve) => setTimeout(resolve, 700));
    await producer.close({ timeoutMs: 0 });
    await runnel.close();
    await iterating;
    const names = await Promise.all(sends);
    process.stdout.write(JSON.stringify({ names: [...new Set(names)], left: process.getActiveResourcesInfo() }) + '\\n');
  `);
  t.equal(closed.code, 0, closed.stderr);
  const report = JSON.parse(closed.stdout) as { names: string[]; left: string[] };
  t.same(report.names, ['CLIENT_CLOSED'], 'the pending sends failed at close');
  // Its stdout and stderr pipes and a pending setImmediate end by themselves; a timer or a socket would not.
  t.same(report.left.filter((r) => r !== 'PipeWrap' && r !== 'TTYWrap' && r !== 'Immediate'), [], `no timer or socket left after close() (${report.left.join(', ')})`);
  t.ok(closed.ranMs < 4000, `the process ended by itself at once (${closed.ranMs} ms in all)`);

  // An app that forgets close(): once its sends are acknowledged, nothing waits for the 120 s delivery deadline.
  const broker = await startBrokerProcess({ args: ['--set', 'auto.create.topics=true'] });
  t.teardown(() => broker.kill('SIGKILL'));
  const forgot = await runScript(t, `
    const runnel = new Runnel({ bootstrap: ['${broker.bootstrap}'] });
    const producer = runnel.producer();
    const metas = await Promise.all(Array.from({ length: 20 }, (_, i) => producer.send({ topic: 'forgot', messages: [{ value: String(i) }] })));
    process.stdout.write(metas.length + ' acknowledged at ' + Math.round(performance.now()) + ' ms\\n');
  `);
  t.equal(forgot.code, 0, forgot.stderr);
  t.match(forgot.stdout, /^20 acknowledged/);
  t.ok(forgot.ranMs < 10_000, `without close() it still exits once its sends settle (${forgot.ranMs} ms; ${forgot.stdout.trim()})`);
});

t.test('a broker stopped under 64 un-awaited sends: every one settles, once, by its deadline', async (t) => {
  const broker = await startBrokerProcess();
  t.teardown(() => broker.kill('SIGKILL'));
  const runnel = new Runnel({ bootstrap: [broker.bootstrap], logger: silent });
  t.teardown(() => runnel.close());
  await runnel.admin().createTopic({ name: 'p', partitions: 2 });
  // Linger holds the first 64 in open batches until after the broker is gone.
  const producer = runnel.producer({ deliveryTimeoutMs: 2000, requestTimeoutMs: 1200, lingerMs: 500 });
  // Before the client's close (teardowns run last first): a hang a test finds must not stall the file.
  t.teardown(() => producer.close({ timeoutMs: 0 }));
  await producer.send({ topic: 'p', messages: [{ value: 'warm' }] });

  // Appended with the metadata cached, then the broker goes: the batches must wait for a leader that never comes.
  const queued: Outcome[] = [];
  for (let i = 0; i < 64; i++) track(queued, producer.send({ topic: 'p', messages: [{ key: `k${i}`, value: `q${i}` }] }));
  await broker.kill('SIGINT');
  // And sent after it went (no metadata: they wait for a lookup that keeps failing).
  const late: Outcome[] = [];
  for (let i = 0; i < 64; i++) track(late, producer.send({ topic: 'p', messages: [{ value: `l${i}` }] }));
  await allSettled([...queued, ...late], Date.now() + 2000 + SLACK_MS + 5000);
  t.ok(slowestMs([...queued, ...late]) <= 2000 + SLACK_MS, `all 128 settled within deliveryTimeoutMs (slowest ${slowestMs([...queued, ...late])} ms)`);
  const failed = late.filter((o) => o.error !== undefined);
  t.equal(failed.length, 64, 'the sends made after the broker stopped all failed');
  t.ok(failed.every((o) => (o.error as RunnelError).errorName === 'DELIVERY_TIMEOUT'), 'with DELIVERY_TIMEOUT');
  t.match((failed[0]!.error as Error).message, new RegExp(`broker ${broker.bootstrap.replace(/\./g, '\\.')} unreachable`));
  const queuedFailures = queued.filter((o) => o.error !== undefined).map((o) => o.error as RunnelError);
  t.equal(queuedFailures.length, 64, 'so did the 64 lingering when it stopped');
  t.ok(queuedFailures.every((e) => e.errorName === 'DELIVERY_TIMEOUT'), 'with DELIVERY_TIMEOUT');
  t.match(queuedFailures[0]!.message, /waiting (for the leader of|to send) p-\d/, 'saying what they waited for');
  await within('flush()', SLACK_MS, producer.flush());
  await within('close()', SLACK_MS, producer.close());
});

t.test('SIGKILL under hundreds of sends in flight: each settles by its deadline, and each acknowledged record is in the log after a restart', async (t) => {
  let broker: BrokerProcess = await startBrokerProcess();
  t.teardown(() => broker.kill('SIGKILL'));
  const { port, dataDir } = broker;
  const runnel = new Runnel({ bootstrap: [broker.bootstrap], logger: silent });
  t.teardown(() => runnel.close());
  const PARTITIONS = 3;
  await runnel.admin().createTopic({ name: 'kill', partitions: PARTITIONS, config: { fsync: 'always' } });
  const DELIVERY_MS = 3000;
  // Records of 1 KiB in batches of 16 KiB: the burst below takes many requests, one per partition at a time.
  const producer = runnel.producer({ deliveryTimeoutMs: DELIVERY_MS, requestTimeoutMs: 2500, lingerMs: 2, batchBytes: 16 * 1024 });
  // Before the client's close (teardowns run last first): a hang a test finds must not stall the file.
  t.teardown(() => producer.close({ timeoutMs: 0 }));

  const outcomes: Outcome[] = [];
  const valuesOf: string[][] = [];
  const send = (): void => {
    const i = valuesOf.length;
    const values = Array.from({ length: 5 }, (_, j) => `v${i}-${j}-`.padEnd(1024, 'x'));
    valuesOf.push(values);
    track(outcomes, producer.send({ topic: 'kill', messages: values.map((value, j) => ({ key: `k${(i + j) % 7}`, value })) }));
  };
  const acknowledged = (): number => outcomes.filter((o) => o.metas !== undefined).length;
  // A steady start, until it is all acknowledged.
  for (let i = 0; i < 100; i++) {
    send();
    if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const deadline = Date.now() + 20_000;
  while (acknowledged() < 100 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  // A burst, a turn of the event loop for the sender to write its requests, and the kill: hundreds on the wire or queued.
  for (let i = 0; i < 400; i++) send();
  await new Promise((resolve) => setImmediate(resolve));
  const pendingAtKill = outcomes.filter((o) => o.settledAtMs === undefined).length;
  await broker.kill('SIGKILL');
  // And more after it.
  for (let i = 0; i < 100; i++) send();
  const SENDS = valuesOf.length;
  t.ok(pendingAtKill >= 300, `${pendingAtKill} sends pending when the broker was killed`);
  await allSettled(outcomes, Date.now() + DELIVERY_MS + SLACK_MS + 5000);
  t.ok(slowestMs(outcomes) <= DELIVERY_MS + SLACK_MS, `all ${SENDS} settled within deliveryTimeoutMs (slowest ${slowestMs(outcomes)} ms)`);
  const acked = outcomes.filter((o) => o.metas !== undefined);
  const failed = outcomes.filter((o) => o.error !== undefined);
  t.ok(acked.length > 0 && failed.length > 0, `${acked.length} acknowledged, ${failed.length} failed`);
  t.same([...new Set(failed.map((o) => (o.error as RunnelError).errorName))], ['DELIVERY_TIMEOUT'], 'every failure is DELIVERY_TIMEOUT');
  await within('close()', SLACK_MS, producer.close());

  broker = await startBrokerProcess({ dataDir, args: ['--port', String(port)] });
  const reader = new Runnel({ bootstrap: [broker.bootstrap], logger: silent });
  t.teardown(() => reader.close());
  const ends = await reader.admin().listOffsets('kill');
  const consumer = reader.consumer({ maxWaitMs: 100 });
  consumer.assign(ends.map((e) => ({ topic: 'kill', partition: e.partition, offset: 'earliest' as const })));
  const total = ends.reduce((n, e) => n + e.latest - e.earliest, 0);
  const found = new Map<string, string>();
  const values: string[] = [];
  for await (const m of consumer as AsyncIterable<Message>) {
    found.set(`${m.partition}/${m.offset}`, m.value!.toString());
    values.push(m.value!.toString());
    if (values.length >= total) break;
  }
  await consumer.close();
  const misplaced: string[] = [];
  outcomes.forEach((o, i) => o.metas?.forEach((meta, j) => {
    if (found.get(`${meta.partition}/${meta.offset}`) !== valuesOf[i]![j]) misplaced.push(`v${i}-${j} at ${meta.partition}/${meta.offset}`);
  }));
  t.same(misplaced, [], `every one of ${acked.length * 5} acknowledged records is in the log where its RecordMetadata says`);
  t.equal(new Set(values).size, values.length, `no record written twice (${values.length} in the log; nothing was retried after the kill)`);
});

t.test('a SIGSTOPped broker: sends on the wire settle at their deadline, not when their request times out', async (t) => {
  const broker = await startBrokerProcess();
  t.teardown(async () => {
    await broker.kill('SIGCONT');
    await broker.kill('SIGKILL');
  });
  const runnel = new Runnel({ bootstrap: [broker.bootstrap], logger: silent });
  t.teardown(() => runnel.close());
  await runnel.admin().createTopic({ name: 'stall', partitions: 1 });
  // A Produce request waits requestTimeoutMs + 5 s (the broker may hold it that long) = 7.5 s before it times out.
  const producer = runnel.producer({ deliveryTimeoutMs: 3000, requestTimeoutMs: 2500 });
  // Before the client's close (teardowns run last first): a hang a test finds must not stall the file.
  t.teardown(() => producer.close({ timeoutMs: 0 }));
  await producer.send({ topic: 'stall', messages: [{ value: 'warm' }] });
  await broker.kill('SIGSTOP');
  const outcomes: Outcome[] = [];
  for (let i = 0; i < 50; i++) track(outcomes, producer.send({ topic: 'stall', messages: [{ value: `s${i}` }] }));
  const flushing = producer.flush();
  await allSettled(outcomes, Date.now() + 3000 + SLACK_MS + 10_000);
  t.ok(slowestMs(outcomes) <= 3000 + SLACK_MS, `all settled within deliveryTimeoutMs (slowest ${slowestMs(outcomes)} ms)`);
  const errors = outcomes.map((o) => o.error as RunnelError);
  t.ok(errors.every((e) => e?.errorName === 'DELIVERY_TIMEOUT'), 'all DELIVERY_TIMEOUT');
  t.match(errors[0]!.message, new RegExp(`waiting for broker 0 \\(${broker.bootstrap.replace(/\./g, '\\.')}\\) to answer a Produce request for stall-0 sent \\d+ (ms|s) ago`));
  await within('flush()', SLACK_MS, flushing);
  // The broker wakes up: the producer carries on.
  await broker.kill('SIGCONT');
  const [meta] = await producer.send({ topic: 'stall', messages: [{ value: 'after' }] });
  t.ok(meta!.offset >= 1, `a send after SIGCONT is acknowledged (offset ${meta!.offset})`);
});

t.test('close({ timeoutMs: 0 }) fails what is pending at once; options are checked', async (t) => {
  const port = await unusedPort();
  const runnel = new Runnel({ bootstrap: [`127.0.0.1:${port}`], logger: silent });
  t.teardown(() => runnel.close());
  t.throws(() => runnel.producer({ deliveryTimeoutMs: 1000, requestTimeoutMs: 1000, lingerMs: 5 }), {
    errorName: 'INVALID_ARGUMENT',
    message: /deliveryTimeoutMs \(1000\) must be at least lingerMs \+ requestTimeoutMs \(5 \+ 1000 = 1005\)/,
  });
  t.throws(() => runnel.producer({ deliveryTimeoutMs: 0 }), { errorName: 'INVALID_ARGUMENT', message: /deliveryTimeoutMs/ });
  const producer: Producer = runnel.producer({ deliveryTimeoutMs: 60_000 });
  // Before the client's close (teardowns run last first): a hang a test finds must not stall the file.
  t.teardown(() => producer.close({ timeoutMs: 0 }));
  await t.rejects(producer.close({ timeoutMs: -1 }), { name: 'RunnelError', errorName: 'INVALID_ARGUMENT' });
  const outcomes: Outcome[] = [];
  for (let i = 0; i < 10; i++) track(outcomes, producer.send({ topic: 'x', messages: [{ value: String(i) }] }));
  await new Promise((resolve) => setTimeout(resolve, 100));
  await within('close({ timeoutMs: 0 })', SLACK_MS, producer.close({ timeoutMs: 0 }));
  await allSettled(outcomes, Date.now() + SLACK_MS);
  t.ok(outcomes.every((o) => (o.error as RunnelError)?.errorName === 'CLIENT_CLOSED'), 'every pending send failed CLIENT_CLOSED');
  t.match((outcomes[0]!.error as Error).message, /closed before these records were acknowledged/);
});

t.test("the consumer says when its broker is unreachable (once an outage) and when it is back, and keeps reading", async (t) => {
  let broker = await startBrokerProcess();
  t.teardown(() => broker.kill('SIGKILL'));
  const { port, dataDir } = broker;
  const runnel = new Runnel({ bootstrap: [broker.bootstrap], logger: silent, retry: { initialBackoffMs: 20, maxBackoffMs: 100 } });
  t.teardown(() => runnel.close());
  await runnel.admin().createTopic({ name: 'watch', partitions: 1, config: { fsync: 'always' } });
  const consumer = runnel.consumer({ maxWaitMs: 100 });
  const unreachable: BrokerUnreachableEvent[] = [];
  const reachable: BrokerReachableEvent[] = [];
  consumer.on('broker-unreachable', (e) => unreachable.push(e)).on('broker-reachable', (e) => reachable.push(e));
  t.throws(() => consumer.on('nonsense' as 'broker-reachable', () => {}), { errorName: 'INVALID_ARGUMENT', message: /'broker-unreachable', 'broker-reachable'/ });
  consumer.assign([{ topic: 'watch', partition: 0, offset: 'earliest' }]);
  const seen: string[] = [];
  const reading = (async () => {
    for await (const m of consumer) seen.push(m.value!.toString());
  })();
  const producer = runnel.producer();
  // Before the client's close (teardowns run last first): a hang a test finds must not stall the file.
  t.teardown(() => producer.close({ timeoutMs: 0 }));
  await producer.send({ topic: 'watch', messages: [{ value: 'before' }] });
  const waitFor = async (what: string, cond: () => boolean): Promise<void> => {
    const deadline = Date.now() + 20_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  await waitFor('the first record', () => seen.includes('before'));
  t.same(unreachable, [], 'no event while the broker is up');

  await broker.kill('SIGKILL');
  await waitFor('broker-unreachable', () => unreachable.length > 0);
  // Fetching goes on retrying (every 100 ms at most); the event is not repeated per retry.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.equal(unreachable.length, 1, 'one event for the outage, not one per retry');
  t.match(unreachable[0], { broker: broker.bootstrap, reason: 'ECONNREFUSED', error: { errorName: 'CONNECTION_FAILED' } });
  t.equal(reachable.length, 0);

  broker = await startBrokerProcess({ dataDir, args: ['--port', String(port)] });
  await waitFor('broker-reachable', () => reachable.length > 0);
  t.equal(reachable.length, 1);
  t.match(reachable[0], { broker: broker.bootstrap });
  t.ok(reachable[0]!.unreachableMs >= 900, `unreachable for ${reachable[0]!.unreachableMs} ms`);
  await producer.send({ topic: 'watch', messages: [{ value: 'after' }] });
  await waitFor('a record after the restart', () => seen.includes('after'));
  await consumer.close();
  await reading;
});
