/**
 * Admin.createTopic when an attempt's answer is lost: the SDK retries, and
 * a retry answered TOPIC_ALREADY_EXISTS is not passed off as success (the
 * topic may be another client's, with other settings) nor as a plain
 * "exists" (it may be this call's own): the error says so. Without a lost
 * answer, TOPIC_ALREADY_EXISTS stays the plain error. A scripted broker
 * (fake-broker.ts) drops the connection instead of answering the first
 * CreateTopics.
 */
import t, { type Test } from 'tap';
import { encodeResponse } from '../../protocol/codec.js';
import { Errors } from '../../protocol/errors.js';
import { Runnel, RunnelError } from '../../client/index.js';
import { fakeBroker, metadataAnswer } from './fake-broker.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

async function brokerThatLosesFirstAnswer(t: Test, loseFirst: boolean) {
  let creates = 0;
  const broker = await fakeBroker(t, (api, correlationId, _body, socket) => {
    if (api === 'Metadata') return metadataAnswer(correlationId, broker.port, {});
    if (api !== 'CreateTopics') return null;
    creates++;
    if (creates === 1 && loseFirst) {
      // The broker made the topic, then the connection broke before its answer went out.
      socket.destroy();
      return null;
    }
    return encodeResponse('CreateTopics', 0, correlationId, { topics: [{ name: 'orders', errorCode: Errors.TOPIC_ALREADY_EXISTS.code, errorMessage: 'topic orders already exists', partitions: 1, replicationFactor: 1 }] });
  });
  const runnel = new Runnel({ bootstrap: [`127.0.0.1:${broker.port}`], logger: silent, retry: { initialBackoffMs: 10, maxBackoffMs: 50 } });
  t.teardown(() => runnel.close());
  return { runnel, creates: () => creates };
}

t.test('a retry after a lost answer that finds the topic says it may be this call\'s own', async (t) => {
  const { runnel, creates } = await brokerThatLosesFirstAnswer(t, true);
  const error = await runnel.admin().createTopic({ name: 'orders' }).then(() => null, (err: unknown) => err);
  t.equal(creates(), 2, 'the lost answer was retried');
  t.ok(error instanceof RunnelError, 'not reported as success');
  t.equal((error as RunnelError).errorName, 'TOPIC_ALREADY_EXISTS');
  t.match((error as RunnelError).message, /an earlier attempt of this same createTopic call got no answer .*may have created it itself, or another client did/);
  t.equal((error as RunnelError).retriable, false);
});

t.test('TOPIC_ALREADY_EXISTS at the first attempt is the plain error', async (t) => {
  const { runnel, creates } = await brokerThatLosesFirstAnswer(t, false);
  const error = await runnel.admin().createTopic({ name: 'orders' }).then(() => null, (err: unknown) => err);
  t.equal(creates(), 1);
  t.equal((error as RunnelError).errorName, 'TOPIC_ALREADY_EXISTS');
  t.notMatch((error as RunnelError).message, /earlier attempt/);
});
