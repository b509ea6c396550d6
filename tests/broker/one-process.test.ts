/**
 * A real broker and a real client in one process, on one simulated network
 * and one ManualClock: no socket, no real disk (startBroker with the
 * network's transport and a SimulatedFileSystem). This is the shape the
 * seeded cluster simulation builds on. The client's connections run on the
 * simulated clock; its producer's linger and consumer's retry timers still
 * read real time (a linger of 0 needs none).
 */
import t from 'tap';
import { RunnelError } from '../../client/errors.js';
import { Runnel } from '../../client/index.js';
import { simulatedWorld } from '../support/simulated-world.js';

t.test('a broker and a client on one memory network: create, produce, consume, all on a ManualClock', async (t) => {
  const world = simulatedWorld(42);
  const { clock, network, settle } = world;
  const broker = await world.broker('broker-1');
  t.teardown(() => broker.close());
  t.same([broker.host, broker.port], ['broker-1', 9092], 'listening on the simulated network, not a socket');

  const runnel = new Runnel({ bootstrap: ['broker-1:9092'], clientId: 'sim' }, { transport: network.node('client-1'), clock, rng: world.rng });
  t.teardown(() => runnel.close());
  await settle(runnel.admin().createTopic({ name: 'orders', partitions: 2 }));

  const producer = runnel.producer({ acks: 1, lingerMs: 0 });
  const sent = await settle(producer.send({ topic: 'orders', messages: [0, 1, 2, 3, 4].map((i) => ({ key: `k${i % 2}`, value: `v${i}` })) }));
  t.equal(sent.length, 5);
  t.ok(network.openConnections >= 2, `the client's connections run over the memory network (${network.openConnections} ends open)`);

  const consumer = runnel.consumer({ maxWaitMs: 100 });
  consumer.assign([0, 1].map((partition) => ({ topic: 'orders', partition, offset: 0 })));
  const values: string[] = [];
  const read = (async () => {
    for await (const message of consumer) {
      values.push(message.value!.toString());
      if (values.length === 5) break;
    }
  })();
  await settle(read);
  t.same(values.sort(), ['v0', 'v1', 'v2', 'v3', 'v4'], 'every record produced is consumed');

  const startMs = clock.nowMs();
  const described = await settle(runnel.admin().describeTopic('orders'));
  t.equal(described.partitions.length, 2);
  t.ok(clock.nowMs() - startMs < 1_000, 'an admin request takes simulated milliseconds');
  await settle(runnel.close());
  await settle(broker.close());
});

t.test('a client held off by a partition times out on the simulated clock, and carries on after heal', async (t) => {
  const world = simulatedWorld(7);
  const { clock, network, settle } = world;
  const broker = await world.broker('broker-1');
  t.teardown(() => broker.close());
  const runnel = new Runnel({ bootstrap: ['broker-1:9092'], requestTimeoutMs: 20_000, connectTimeoutMs: 4_000, retry: { retries: 0 } }, { transport: network.node('client-1'), clock, rng: world.rng });
  t.teardown(() => runnel.close());
  const admin = runnel.admin();
  await settle(admin.createTopic({ name: 'held', partitions: 1 }));

  network.partition('client-1', 'broker-1', 'hold');
  const startMs = clock.nowMs();
  const failed = await settle(admin.describeTopic('held').then(() => null, (error: unknown) => error), { stepMs: 10, maxSteps: 5_000 });
  const tookMs = clock.nowMs() - startMs;
  t.match(failed, { errorName: 'REQUEST_TIMED_OUT' }, 'the request times out');
  t.ok(tookMs >= 20_000 && tookMs < 21_000, `after requestTimeoutMs of simulated time (${tookMs} ms)`);

  network.heal('client-1', 'broker-1');
  // The failed connects of the hold opened the client's breaker for the broker (client/resilience): with retries 0 a
  // request fails fast (BROKER_CIRCUIT_OPEN) until its cool-down lets a probe through, then the client is answered.
  let again: Awaited<ReturnType<typeof admin.describeTopic>> | null = null;
  const fastFailures: string[] = [];
  for (let attempt = 0; attempt < 40 && again === null; attempt++) {
    const outcome = await settle(admin.describeTopic('held').then((d) => d, (error: unknown) => error as RunnelError), { stepMs: 10, maxSteps: 5_000 });
    if (outcome instanceof RunnelError) {
      fastFailures.push(outcome.errorName);
      await world.run(1_000, 10);
    } else again = outcome;
  }
  t.equal(again?.partitions.length, 1, 'after heal the client reconnects and is answered');
  t.same([...new Set(fastFailures)].filter((name) => name !== 'BROKER_CIRCUIT_OPEN'), [], 'failing fast while its breaker was open, nothing else');
  await settle(runnel.close());
  await settle(broker.close());
});
