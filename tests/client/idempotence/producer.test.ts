/**
 * The idempotent producer against a real broker process: InitProducerId
 * (new ids are distinct, an epoch bump keeps the id, transactions refused),
 * the option's rules (on by default with acks=all; `true` with acks 0/1
 * refused; acks 1 alone turns it off), and KIP-360's recovery: a batch the
 * broker refused after it was numbered leaves a gap, the next batch gets
 * OUT_OF_ORDER_SEQUENCE_NUMBER, and the producer bumps its epoch, numbers
 * again from 0 and delivers it.
 */
import t from 'tap';
import { Runnel, RunnelError } from '../../../client/index.js';
import { startBrokerProcess, type BrokerProcess } from '../../support/broker-process.js';
import { RawClient } from '../../support/raw-client.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
let broker: BrokerProcess;
let runnel: Runnel;

t.before(async () => {
  broker = await startBrokerProcess();
  runnel = new Runnel({ bootstrap: [broker.bootstrap], logger: silent, requestTimeoutMs: 10_000 });
});
t.teardown(async () => {
  await runnel.close();
  await broker.stop();
});

t.test('InitProducerId: distinct new ids, an epoch bump keeps the id, transactions are refused', async (t) => {
  const raw = await RawClient.connect(broker.host, broker.port);
  t.teardown(() => raw.close());
  const fresh = { transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1 };
  const a = await raw.request('InitProducerId', fresh);
  const b = await raw.request('InitProducerId', fresh);
  t.match(a, { errorCode: 0, producerEpoch: 0 });
  t.not(a.producerId, b.producerId, 'two producers, two ids');
  t.match(await raw.request('InitProducerId', { ...fresh, producerId: a.producerId, producerEpoch: 4 }), { errorCode: 0, producerId: a.producerId, producerEpoch: 5 }, 'a bump: same id, next epoch');
  const max = await raw.request('InitProducerId', { ...fresh, producerId: a.producerId, producerEpoch: 32767 });
  t.ok(max.errorCode === 0 && max.producerId !== a.producerId && max.producerEpoch === 0, 'past the last epoch: a new id');
  t.match(await raw.request('InitProducerId', { ...fresh, transactionalId: 'tx' }), { errorCode: 42, producerId: -1 }, 'INVALID_REQUEST for a transactional id');
});

t.test('the option: idempotent by default with acks=all; true with acks 0 or 1 is refused saying why', async (t) => {
  t.throws(() => runnel.producer({ acks: 1, idempotent: true }), /idempotent: true needs acks 'all'/);
  t.throws(() => runnel.producer({ acks: 0, idempotent: true }), RunnelError);
  await runnel.admin().createTopic({ name: 'opt' });
  const producer = runnel.producer({ acks: 1 });
  await producer.send({ topic: 'opt', messages: [{ value: 'acks=1 works, without idempotence' }] });
  await producer.close();
});

t.test('KIP-360: after a numbered batch was refused, the gap is answered OUT_OF_ORDER and the producer bumps its epoch and delivers', async (t) => {
  await runnel.admin().createTopic({ name: 'gap', partitions: 1, config: { 'max.message.bytes': '2000' } });
  const producer = runnel.producer({ lingerMs: 0 });
  t.teardown(() => producer.close());
  const [first] = await producer.send({ topic: 'gap', messages: [{ value: 'one' }] });
  const refused = await producer.send({ topic: 'gap', messages: [{ value: 'x'.repeat(5000) }] }).catch((e: unknown) => e);
  t.match(refused, { name: 'RunnelError', message: /MESSAGE_TOO_LARGE/ }, 'the big batch is refused by the broker, after it was numbered');
  const [third] = await producer.send({ topic: 'gap', messages: [{ value: 'three' }] });
  t.same([first!.offset, third!.offset], [0, 1], 'the next batch, numbered after the gap, is delivered under a new epoch');
});
