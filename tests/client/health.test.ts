/**
 * How the SDK tells a broker's trouble, against a scripted broker that plays
 * the faults exactly (tests/client/fake-broker.ts): a broker that hangs is
 * reported connectTimeoutMs after it last answered, long before any request
 * times out, in words that say what got no answer, and its outage counts
 * from its first silence; a broker reached under two names (the bootstrap
 * `localhost:P`, the metadata's `127.0.0.1:P`) is one outage, one event each
 * way, whichever connections noticed.
 *
 * The request timeouts here are 20 s or more, so a report that only came
 * when a request timed out would miss every bound.
 */
import t, { type Test } from 'tap';
import { Runnel, RunnelError, type BrokerReachableEvent, type BrokerUnreachableEvent } from '../../client/index.js';
import { describeError } from '../../tools/cli-error.js';
import { fakeBroker, metadataAnswer, produceAnswer, type FakeBroker } from './fake-broker.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
/** Timers fire late on a loaded 2-core machine. */
const SLACK_MS = 1500;

async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!cond()) {
    if (Date.now() - started > timeoutMs) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

/** A broker with topic `t` (partitions as `counts.t` says, changeable) that acknowledges every produce. */
async function healthyBroker(t: Test, counts: Record<string, number> = { t: 2 }): Promise<FakeBroker> {
  const broker: FakeBroker = await fakeBroker(t, (api, id, body) => {
    if (api === 'Metadata') return metadataAnswer(id, broker.port, counts);
    if (api === 'Produce') return produceAnswer(id, body);
    return null;
  });
  return broker;
}

function watch(source: { on(e: 'broker-unreachable', l: (e: BrokerUnreachableEvent) => void): unknown; on(e: 'broker-reachable', l: (e: BrokerReachableEvent) => void): unknown }) {
  const down: BrokerUnreachableEvent[] = [];
  const up: BrokerReachableEvent[] = [];
  source.on('broker-unreachable', (e) => down.push(e));
  source.on('broker-reachable', (e) => up.push(e));
  return { down, up };
}

t.test('a broker that hangs is reported connectTimeoutMs after it went quiet, as answering nothing, and its outage counts from its silence', async (t) => {
  const broker = await healthyBroker(t);
  const runnel = new Runnel({ bootstrap: [`127.0.0.1:${broker.port}`], connectTimeoutMs: 1000, requestTimeoutMs: 20_000, logger: silent });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ lingerMs: 0, deliveryTimeoutMs: 60_000 });
  t.teardown(() => producer.close({ timeoutMs: 0 }));
  const events = watch(producer);
  await producer.send({ topic: 't', messages: [{ value: 'before' }] });

  const connectionsBefore = broker.connections();
  broker.hang();
  const hungAtMs = Date.now();
  const pending = producer.send({ topic: 't', messages: [{ value: 'during' }] });
  pending.catch(() => undefined);
  const noticedMs = await waitFor('broker-unreachable', () => events.down.length > 0, 1000 + SLACK_MS + 1000);
  t.ok(noticedMs <= 1000 + SLACK_MS, `reported ${noticedMs} ms after it stopped answering (request timeout 20000 ms)`);
  t.match(events.down[0], { broker: `127.0.0.1:${broker.port}`, reason: 'connected, but it answers nothing' });
  t.ok(broker.requests('ApiVersions') >= 2, 'it was probed (an ApiVersions beyond the handshake)');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.equal(events.down.length, 1, 'one event for the outage, however long it lasts');

  broker.resume();
  const resumedAtMs = Date.now();
  await waitFor('broker-reachable', () => events.up.length > 0, 1000 + SLACK_MS + 1000);
  t.equal(events.up.length, 1);
  const silentMs = resumedAtMs - hungAtMs;
  t.ok(events.up[0]!.unreachableMs >= silentMs - 100, `the outage counts from the silence: ${events.up[0]!.unreachableMs} ms for ${silentMs} ms without an answer`);
  // The probe reset nothing: the request the broker sat on is answered once it goes on, and its send succeeds.
  t.equal((await pending).length, 1, 'the send made while it hung is acknowledged');
  t.equal(broker.connections(), connectionsBefore, 'on the connection it had: none was reset');
});

t.test('a broker that accepts the connection but never answers the handshake says so, not "no answer to connect"', async (t) => {
  const broker = await healthyBroker(t);
  broker.hang();
  const runnel = new Runnel({ bootstrap: [`127.0.0.1:${broker.port}`], connectTimeoutMs: 500, retry: { retries: 0 }, logger: silent });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ deliveryTimeoutMs: 60_000 });
  t.teardown(() => producer.close({ timeoutMs: 0 }));
  const events = watch(producer);
  const err = await producer.partitionsFor('t').catch((e: unknown) => e);
  t.match(err, { name: 'RunnelError', errorName: 'CONNECTION_FAILED', reason: 'connected, but no answer to the version handshake within 500 ms' });
  t.match((err as Error).message, /Connected to 127\.0\.0\.1:\d+, but it did not answer the version handshake within 500 ms/);
  t.match(events.down[0], { reason: 'connected, but no answer to the version handshake within 500 ms' });
  t.equal(
    describeError(err, { bootstrap: `127.0.0.1:${broker.port}` }),
    `error: cannot reach a broker at 127.0.0.1:${broker.port} (connected, but no answer to the version handshake within 500 ms); start one with \`runnel start\`, or point --bootstrap (or RUNNEL_BOOTSTRAP) at a running broker`,
  );
});

t.test('one broker reached as localhost (bootstrap) and as 127.0.0.1 (metadata) is one outage: one event each way, none left over', async (t) => {
  const broker = await healthyBroker(t);
  const runnel = new Runnel({ bootstrap: [`localhost:${broker.port}`], retry: { initialBackoffMs: 20, maxBackoffMs: 100 }, logger: silent });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ lingerMs: 0, deliveryTimeoutMs: 30_000 });
  t.teardown(() => producer.close({ timeoutMs: 0 }));
  const events = watch(producer);
  await producer.send({ topic: 't', messages: [{ value: 'before' }] });

  await broker.stop();
  const stoppedAtMs = Date.now();
  const during = producer.send({ topic: 't', messages: [{ value: 'during' }] });
  await waitFor('broker-unreachable', () => events.down.length > 0, 10_000);
  // Both addresses are tried meanwhile (the sender's, and the metadata lookups' round of every connection).
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.same(events.down.map((e) => e.broker), [`127.0.0.1:${broker.port}`], 'one outage, of the broker as the metadata names it');
  t.match(events.down[0], { reason: 'ECONNREFUSED' });

  await broker.restart();
  const restartedAtMs = Date.now();
  t.same((await during).map((m) => m.partition).length, 1, 'the send made during the outage is acknowledged once it is over');
  await waitFor('broker-reachable', () => events.up.length > 0, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(events.up.map((e) => e.broker), [`127.0.0.1:${broker.port}`], 'one event for its end');
  t.ok(events.up[0]!.unreachableMs >= restartedAtMs - stoppedAtMs, `unreachable for ${events.up[0]!.unreachableMs} ms, stopped for ${restartedAtMs - stoppedAtMs} ms`);
});

t.test('a produce error about a partition names it: CORRUPT_SEGMENT gives the real recover command', async (t) => {
  const broker: FakeBroker = await fakeBroker(t, (api, id, body) => {
    if (api === 'Metadata') return metadataAnswer(id, broker.port, { orders: 2 });
    if (api === 'Produce') return produceAnswer(id, body, 14, 'The partition\'s log on disk is damaged and was taken offline at 00000000000000000000.log byte 3681.');
    return null;
  });
  const runnel = new Runnel({ bootstrap: [`127.0.0.1:${broker.port}`], logger: silent });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ lingerMs: 0 });
  const err = await producer.send({ topic: 'orders', messages: [{ value: 'x', partition: 1 }] }).catch((e: unknown) => e);
  t.match(err, { name: 'RunnelError', errorName: 'CORRUPT_SEGMENT', retriable: false, topicPartition: { topic: 'orders', partition: 1 } });
  const line = describeError(err, { topic: 'orders' });
  t.equal(line, 'error: CORRUPT_SEGMENT on orders-1: The partition\'s log on disk is damaged and was taken offline at 00000000000000000000.log byte 3681; stop the broker and run `runnel recover <data.dir>/orders-1` to cut the log at the last good batch (what follows is set aside, not deleted)');
  t.ok(err instanceof RunnelError);
});

t.test('a send that times out says what it waited for: behind an unanswered request, or in a batch with an earlier send', async (t) => {
  const broker: FakeBroker = await fakeBroker(t, (api, id) => (api === 'Metadata' ? metadataAnswer(id, broker.port, { t: 1 }) : null));
  const runnel = new Runnel({ bootstrap: [`127.0.0.1:${broker.port}`], logger: silent });
  t.teardown(() => runnel.close());
  const producer = runnel.producer({ lingerMs: 0, deliveryTimeoutMs: 2000, requestTimeoutMs: 1500 });
  t.teardown(() => producer.close({ timeoutMs: 0 }));
  await producer.partitionsFor('t');
  // The first goes out at once and is never answered; the next two wait behind it, in one batch.
  const first = producer.send({ topic: 't', messages: [{ value: 'a' }] }).catch((e: unknown) => e);
  await waitFor('the first Produce on the wire', () => broker.requests('Produce') > 0, 5000);
  const second = producer.send({ topic: 't', messages: [{ value: 'b' }] }).catch((e: unknown) => e);
  await new Promise((resolve) => setTimeout(resolve, 600));
  const third = producer.send({ topic: 't', messages: [{ value: 'c' }] }).catch((e: unknown) => e);
  const [e1, e2, e3] = (await Promise.all([first, second, third])) as RunnelError[];
  t.match(e1, { errorName: 'DELIVERY_TIMEOUT', message: /^DELIVERY_TIMEOUT: Delivery timed out after 2000 ms waiting for broker 1 \(127\.0\.0\.1:\d+\) to answer a Produce request for t-0 sent \d+ s ago\.$/ });
  t.match(e2!.message, /^DELIVERY_TIMEOUT: Delivery timed out after 2000 ms waiting behind a Produce request for t-0 that broker 1 \(127\.0\.0\.1:\d+\) has not answered since it was sent \d+ s ago\.$/, `why the second waited: ${e2!.message}`);
  t.match(e3!.message, /^DELIVERY_TIMEOUT: Delivery timed out 1 s after this send, before its own 2000 ms were up: its records were in a batch with an earlier send's, whose deadline passed, waiting behind a Produce request for t-0/, `the third was not 2000 ms old: ${e3!.message}`);
});
