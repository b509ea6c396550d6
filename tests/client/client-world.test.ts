/**
 * A whole client (admin, producer, consumer) on a simulated world: a real
 * broker on a memory network and a ManualClock. The producer's linger and
 * delivery timeout and the consumer's retry waits run on that clock, so the
 * times below are exact in simulated milliseconds; a real timer anywhere on
 * those paths would leave them unsettled (the driver moves simulated time
 * far faster than real time passes).
 */
import t from 'tap';
import { Runnel, type Message } from '../../client/index.js';
import { simulatedWorld } from '../support/simulated-world.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

t.test('linger and the delivery timeout run on the injected clock', async (t) => {
  const world = simulatedWorld(11, { minDelayMs: 1, maxDelayMs: 1 });
  const broker = await world.broker('broker-1');
  t.teardown(() => broker.close());
  const runnel = new Runnel({ bootstrap: ['broker-1:9092'], logger: silent, requestTimeoutMs: 1000, connectTimeoutMs: 1000 },
    { transport: world.network.node('client-1'), clock: world.clock, rng: world.rng });
  t.teardown(() => runnel.close());
  await world.settle(runnel.admin().createTopic({ name: 'sim', partitions: 1 }));

  const producer = runnel.producer({ lingerMs: 2000, deliveryTimeoutMs: 5000, requestTimeoutMs: 1000 });
  await world.settle(producer.send({ topic: 'sim', messages: [{ value: 'warm-up' }] }), { stepMs: 10 });
  const lingerFrom = world.clock.nowMs();
  const metas = await world.settle(producer.send({ topic: 'sim', messages: [{ value: 'lingered' }] }), { stepMs: 10 });
  const lingered = world.clock.nowMs() - lingerFrom;
  t.equal(metas[0]!.offset, 1, 'acknowledged');
  t.ok(lingered >= 2000 && lingered <= 2050, `waited out lingerMs on the simulated clock (${lingered} ms)`);

  // The broker cut off: the send fails at its deadline, in simulated time.
  world.network.partition('client-1', 'broker-1', 'hold');
  const sentAt = world.clock.nowMs();
  const error = await world.settle(producer.send({ topic: 'sim', messages: [{ value: 'lost' }] }).then(() => null, (e: unknown) => e), { stepMs: 10 });
  const waited = world.clock.nowMs() - sentAt;
  t.match(error, { errorName: 'DELIVERY_TIMEOUT' });
  t.ok(waited >= 5000 && waited <= 5050, `failed at deliveryTimeoutMs of the simulated clock (${waited} ms)`);
  world.network.heal('client-1', 'broker-1');
  await world.settle(producer.close({ timeoutMs: 0 }), { stepMs: 10 });
});

t.test('a consumer on the injected clock reads what was produced', async (t) => {
  const world = simulatedWorld(12, { minDelayMs: 1, maxDelayMs: 1 });
  const broker = await world.broker('broker-1');
  t.teardown(() => broker.close());
  const runnel = new Runnel({ bootstrap: ['broker-1:9092'], logger: silent }, { transport: world.network.node('client-1'), clock: world.clock, rng: world.rng });
  t.teardown(() => runnel.close());
  await world.settle(runnel.admin().createTopic({ name: 'c', partitions: 1 }));
  const producer = runnel.producer({ lingerMs: 0 });
  await world.settle(producer.send({ topic: 'c', messages: [{ value: 'a' }, { value: 'b' }] }));
  const consumer = runnel.consumer({ maxWaitMs: 100 });
  consumer.assign([{ topic: 'c', partition: 0, offset: 'earliest' }]);
  const it = consumer[Symbol.asyncIterator]();
  const got: Message[] = [];
  for (let i = 0; i < 2; i++) got.push((await world.settle(it.next(), { stepMs: 10 })).value as Message);
  t.same(got.map((m) => [m.offset, m.value!.toString()]), [[0, 'a'], [1, 'b']]);
  await world.settle(consumer.close());
  await world.settle(producer.close());
});
