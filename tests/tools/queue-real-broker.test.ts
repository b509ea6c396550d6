/**
 * `runnel queue` against a real broker process (its share-group
 * coordinator): what receive settles is what describe then reports.
 */
import t from 'tap';
import { Runnel } from '../../client/index.js';
import { startBrokerProcess } from '../support/broker-process.js';
import { linesOf, runnel } from './run-cli.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

const broker = await startBrokerProcess();
t.teardown(() => broker.stop());
t.test('receive settles on a real coordinator; describe reports it', async (t) => {
  const client = new Runnel({ bootstrap: [broker.bootstrap], logger: silent });
  await client.admin().createTopic({ name: 'jobs', partitions: 1 });
  const producer = client.producer({ lingerMs: 0 });
  await producer.send({ topic: 'jobs', messages: ['a', 'b', 'c', 'd'].map((value) => ({ value })) });
  await client.close();
  const b = ['-b', broker.bootstrap];

  const accepted = await runnel(['queue', 'receive', 'jobs', '-g', 'workers', '--max', '2', '--ack', 'accept', '--json', ...b]);
  t.equal(accepted.code, 0, accepted.stderr);
  t.match(linesOf(accepted.stdout).map((l) => JSON.parse(l) as unknown), [{ offset: 0, value: 'a', deliveryCount: 1 }, { offset: 1, value: 'b', deliveryCount: 1 }]);
  const rejected = await runnel(['queue', 'receive', 'jobs', '-g', 'workers', '--max', '1', '--ack', 'reject', ...b]);
  t.equal(rejected.code, 0, rejected.stderr);
  const released = await runnel(['queue', 'receive', 'jobs', '-g', 'workers', '--max', '1', '--ack', 'release', '--json', ...b]);
  t.match(JSON.parse(released.stdout), { offset: 3, deliveryCount: 1 });

  const described = await runnel(['queue', 'describe', 'workers', '--json', ...b]);
  t.equal(described.code, 0, described.stderr);
  t.match(JSON.parse(described.stdout), {
    group: 'workers',
    state: 'Empty',
    members: [],
    partitions: [{ topic: 'jobs', partition: 0, startOffset: 3, highWatermark: 4, accepted: 2, rejected: 1, acquired: 0, available: 1 }],
    totals: { accepted: 2, rejected: 1, available: 1 },
  });
});
