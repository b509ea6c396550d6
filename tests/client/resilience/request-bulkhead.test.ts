/**
 * The request bulkhead and the breaker on one connection to a scripted
 * broker: with one request in flight and one waiting for the slot, a third
 * fails at once with the retriable BROKER_BULKHEAD_FULL instead of joining
 * an unbounded queue behind a hung broker; a refused broker opens the
 * breaker after the threshold and the next request fails fast with
 * BROKER_CIRCUIT_OPEN, without a connect attempt.
 */
import t from 'tap';
import { fakeBroker, metadataAnswer } from '../fake-broker.js';
import { CircuitBreaker } from '../../../client/resilience/circuit-breaker.js';
import { GuardedConnection } from '../../../client/resilience/guarded-connection.js';
import { systemClock } from '../../../client/clock.js';
import type { ConnectionOptions } from '../../../client/connection.js';
import { RunnelError, systemCodeOf } from '../../../client/errors.js';
import { unusedPort } from '../../tools/run-cli.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function options(port: number): ConnectionOptions {
  return {
    host: '127.0.0.1', port, clientId: 'bulkhead', connectTimeoutMs: 2000, requestTimeoutMs: 10_000, maxInFlightRequests: 1,
    maxFrameBytes: 1 << 20, reconnect: { initialBackoffMs: 10, maxBackoffMs: 20 }, logger: silent,
  };
}

t.test('past maxInFlightRequests + maxQueuedRequests, a request fails fast with BROKER_BULKHEAD_FULL', async (t) => {
  const broker = await fakeBroker(t, (api, correlationId) => (api === 'Metadata' ? metadataAnswer(correlationId, 0, {}) : null));
  const refusals: number[] = [];
  const conn = new GuardedConnection(options(broker.port), { breaker: null, maxQueuedRequests: 1, onBulkheadFull: (n) => refusals.push(n) });
  t.teardown(() => conn.close());
  await conn.connect();
  broker.hang();
  const first = conn.request('Metadata', { topics: [], allowAutoTopicCreation: false, includeInternal: false });
  const second = conn.request('Metadata', { topics: [], allowAutoTopicCreation: false, includeInternal: false });
  const third = await conn.request('Metadata', { topics: [], allowAutoTopicCreation: false, includeInternal: false }).catch((e: unknown) => e);
  t.ok(third instanceof RunnelError && third.errorName === 'BROKER_BULKHEAD_FULL' && third.retriable, `the third fails at once, retriable (${String(third)})`);
  t.same(refusals, [2], 'announced with the 2 outstanding');
  t.equal(conn.bulkheadRejected, 1);
  broker.resume();
  await Promise.all([first, second]);
  t.equal(conn.outstandingRequests, 0, 'the two admitted were answered');
  await conn.request('Metadata', { topics: [], allowAutoTopicCreation: false, includeInternal: false });
});

t.test('a refused broker opens the breaker; then requests fail fast without connecting', async (t) => {
  const port = await unusedPort();
  let refusedConnects = 0;
  const breaker = new CircuitBreaker({ failureThreshold: 2, openMs: 60_000, maxOpenMs: 60_000 }, systemClock, () => 0.5, { opened() {}, halfOpened() {}, closed() {} });
  t.teardown(() => breaker.close());
  const conn = new GuardedConnection({ ...options(port), onTrouble: () => void refusedConnects++ }, { breaker, maxQueuedRequests: 10 });
  t.teardown(() => conn.close());
  // Each refused connect attempt is one failure of the connection.
  for (let i = 0; i < 2; i++) {
    const err = await conn.request('Metadata', { topics: [], allowAutoTopicCreation: false, includeInternal: false }).catch((e: unknown) => e);
    t.match(err, { errorName: 'CONNECTION_FAILED' }, `attempt ${i + 1} refused`);
  }
  t.equal(breaker.state, 'open');
  const before = refusedConnects;
  const started = performance.now();
  const err = await conn.request('Metadata', { topics: [], allowAutoTopicCreation: false, includeInternal: false }).catch((e: unknown) => e);
  t.match(err, { errorName: 'BROKER_CIRCUIT_OPEN', retriable: true, message: /circuit breaker for 127\.0\.0\.1:\d+ is open.*the last failure: .*refused/ });
  t.equal(systemCodeOf(err), 'ECONNREFUSED', 'its cause is the last failure');
  t.ok(performance.now() - started < 50, 'at once');
  t.equal(refusedConnects, before, 'no connect attempt while open');
});
