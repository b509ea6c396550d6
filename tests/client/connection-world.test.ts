/**
 * The client's Connection runs on the world it is given: every timeout,
 * probe and backoff on the injected clock, every connect through the
 * injected transport, the backoff jitter from the injected randomness. Run
 * against a real broker on a memory network and a ManualClock, the times
 * below are exact, which they could not be if any timer were a real one.
 */
import t from 'tap';
import { Connection, type ConnectionOptions } from '../../client/connection.js';
import { backoffMs } from '../../client/backoff.js';
import type { RunnelError } from '../../client/errors.js';
import type { ClientTransport } from '../../client/transport.js';
import { seededRng } from '../../broker/world/rng.js';
import { simulatedWorld, type SimulatedWorld } from '../support/simulated-world.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function connectionOn(world: SimulatedWorld, transport: ClientTransport, opts: Partial<ConnectionOptions> = {}): Connection {
  return new Connection({
    host: 'broker-1',
    port: 9092,
    clientId: 'sim',
    connectTimeoutMs: 1_000,
    requestTimeoutMs: 10_000,
    maxInFlightRequests: 5,
    maxFrameBytes: 1 << 20,
    reconnect: { initialBackoffMs: 100, maxBackoffMs: 1_000 },
    logger: silent,
    world: { transport, clock: world.clock, rng: world.rng },
    ...opts,
  });
}

/** A transport that notes the simulated time of every connect attempt. */
function counting(world: SimulatedWorld, host: string): { transport: ClientTransport; attempts: number[] } {
  const inner = world.network.node(host);
  const attempts: number[] = [];
  return {
    attempts,
    transport: {
      connect: (opts) => {
        attempts.push(world.clock.nowMs());
        return inner.connect(opts);
      },
    },
  };
}

const failureOf = (promise: Promise<unknown>): Promise<RunnelError> => promise.then(() => { throw new Error('expected a failure'); }, (error: RunnelError) => error);

t.test('a connect that gets no answer fails after exactly connectTimeoutMs of the injected clock', async (t) => {
  const world = simulatedWorld(1, { minDelayMs: 1, maxDelayMs: 1 });
  const broker = await world.broker('broker-1');
  t.teardown(() => broker.close());
  const conn = connectionOn(world, world.network.node('client-1'));
  world.network.partition('client-1', 'broker-1', 'hold');
  const startMs = world.clock.nowMs();
  const error = await world.settle(failureOf(conn.connect()));
  t.match(error, { errorName: 'CONNECTION_FAILED', message: /took longer than 1000 ms/ });
  t.equal(world.clock.nowMs() - startMs, 1_000, 'timed on the simulated clock, to the millisecond');
  world.network.heal('client-1', 'broker-1');
  await world.settle(conn.connect());
  t.ok(conn.isConnected, 'connects once the path is back');
  await conn.close();
});

t.test('refused connects back off on the injected clock, with jitter from the injected rng', async (t) => {
  const world = simulatedWorld(2, { minDelayMs: 1, maxDelayMs: 1 });
  const { transport, attempts } = counting(world, 'client-1');
  const conn = connectionOn(world, transport, { world: { transport, clock: world.clock, rng: seededRng(99) } });
  const expected = seededRng(99);
  const policy = { initialBackoffMs: 100, maxBackoffMs: 1_000 };
  for (let i = 0; i < 3; i++) {
    const error = await world.settle(failureOf(conn.connect()));
    t.match(error, { errorName: 'CONNECTION_FAILED', message: /refused/ }, 'nothing listens: refused');
  }
  t.equal(attempts.length, 3);
  // The SYN and the refusal take 1 ms each way; then the backoff, exactly as backoffMs draws it from the same seed.
  for (let i = 1; i < attempts.length; i++) {
    t.equal(attempts[i]! - attempts[i - 1]!, 2 + backoffMs(policy, i - 1, () => expected.next()), `attempt ${i + 1} waited its backoff`);
  }
  await conn.close();
});

t.test('a silent broker: reported connectTimeoutMs after it last spoke, and the request timed out at its own timeout', async (t) => {
  const world = simulatedWorld(3, { minDelayMs: 0, maxDelayMs: 0 });
  const broker = await world.broker('broker-1');
  t.teardown(() => broker.close());
  const troubles: { reason: string; silentMs: number }[] = [];
  const conn = connectionOn(world, world.network.node('client-1'), {
    onTrouble: (_error, reason, sinceMs) => troubles.push({ reason, silentMs: world.clock.nowMs() - sinceMs }),
  });
  await world.settle(conn.connect());
  world.network.partition('client-1', 'broker-1', 'hold');
  const sentMs = world.clock.nowMs();
  const error = await world.settle(failureOf(conn.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false })), { stepMs: 10 });
  t.match(error, { errorName: 'REQUEST_TIMED_OUT' });
  t.equal(world.clock.nowMs() - sentMs, 10_000, 'the request timer ran on the simulated clock');
  t.same(troubles[0], { reason: 'connected, but it answers nothing', silentMs: 1_000 },
    'the watchdog probed and reported the silence 1000 ms after the broker last spoke, on the simulated clock');
  await conn.close();
});

t.test('a request that expects no answer resolves once delivered, and fails if the link dies before', async (t) => {
  const world = simulatedWorld(4, { minDelayMs: 1, maxDelayMs: 1 });
  const broker = await world.broker('broker-1');
  t.teardown(() => broker.close());
  const conn = connectionOn(world, world.network.node('client-1'));
  await world.settle(conn.connect());
  await world.settle(conn.sendOnly('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false }));
  t.pass('delivered');
  world.network.partition('client-1', 'broker-1', 'hold');
  const stuck = failureOf(conn.sendOnly('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false }));
  await world.run(100);
  // A reset (not the held kill, whose RST would wait for the heal too) kills the link with the request unsent.
  world.network.partition('client-1', 'broker-1', 'reset');
  const error = await world.settle(stuck);
  t.match(error, { errorName: 'NETWORK_EXCEPTION', message: /ECONNRESET/ }, 'failed with the reset, not left hanging');
  await conn.close();
});
