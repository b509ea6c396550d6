/**
 * Admin.listDeadLetterTopics against a scripted broker (which can stage the
 * edge cases below, such as a group deleted mid-listing): every share group ListGroups names is described at
 * its coordinator, consumer groups are not, a group without a dead-letter
 * topic is left out, one deleted between the list and the describe is
 * skipped, and each entry counts what its group dead-lettered.
 */
import t from 'tap';
import { encodeResponse } from '../../protocol/codec.js';
import { Errors } from '../../protocol/errors.js';
import type { DescribedShareGroup, RequestBodies } from '../../protocol/messages.js';
import { Runnel } from '../../client/index.js';
import { fakeBroker, metadataAnswer, type FakeBroker } from './fake-broker.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function shareGroup(groupId: string, deadLetterTopic: string, deadLettered: number[]): DescribedShareGroup {
  return {
    errorCode: 0, errorMessage: null, groupId, groupState: 'Stable', groupEpoch: 3,
    config: { visibilityTimeoutMs: 30_000, maxDeliveryAttempts: 5, deadLetterTopic, ordering: 'none' },
    members: [],
    partitions: deadLettered.map((n, partition) => ({ topic: 'orders', partition, startOffset: 0, endOffset: 0, highWatermark: 0, inFlight: 0, acquired: 0, available: 0, delayed: 0, accepted: 0, rejected: n, deadLettered: n, oldestUnsettledTimestampMs: -1 })),
  };
}

t.test('share groups\' dead-letter topics, with what each group dead-lettered', async (t) => {
  const described: string[] = [];
  const groups = new Map([
    ['billing', shareGroup('billing', 'orders-dlq', [2, 3])],
    ['audit', shareGroup('audit', 'orders-dlq', [1])],
    ['plain', shareGroup('plain', '', [4])],
  ]);
  let broker!: FakeBroker;
  broker = await fakeBroker(t, (api, correlationId, body) => {
    switch (api) {
      case 'Metadata':
        return metadataAnswer(correlationId, broker.port, {});
      case 'ListGroups':
        return encodeResponse('ListGroups', 0, correlationId, {
          throttleTimeMs: 0,
          errorCode: 0,
          groups: [
            { groupId: 'consumers', groupState: 'Stable', groupType: 'consumer' },
            ...['audit', 'billing', 'gone', 'plain'].map((groupId) => ({ groupId, groupState: 'Stable', groupType: 'share' })),
          ],
        });
      case 'FindCoordinator': {
        const req = body as RequestBodies['FindCoordinator'];
        return encodeResponse('FindCoordinator', 0, correlationId, { throttleTimeMs: 0, coordinators: req.keys.map((key) => ({ key, nodeId: 1, host: '127.0.0.1', port: broker.port, errorCode: 0, errorMessage: null })) });
      }
      case 'ShareGroupDescribe': {
        const req = body as RequestBodies['ShareGroupDescribe'];
        described.push(...req.groupIds);
        return encodeResponse('ShareGroupDescribe', 0, correlationId, {
          throttleTimeMs: 0,
          groups: req.groupIds.map((id) => groups.get(id) ?? { ...shareGroup(id, '', []), errorCode: Errors.GROUP_ID_NOT_FOUND.code, errorMessage: 'no such group' }),
        });
      }
      default:
        return null;
    }
  });
  const runnel = new Runnel({ bootstrap: [`127.0.0.1:${broker.port}`], logger: silent });
  t.teardown(() => runnel.close());
  const topics = await runnel.admin().listDeadLetterTopics();
  t.same(topics, [
    { group: 'audit', topic: 'orders-dlq', deadLettered: 1 },
    { group: 'billing', topic: 'orders-dlq', deadLettered: 5 },
  ]);
  t.same(described.sort(), ['audit', 'billing', 'gone', 'plain'], 'only share groups are described');
});
