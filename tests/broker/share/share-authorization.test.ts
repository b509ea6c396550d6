/**
 * ShareFetch and ShareAcknowledge under an authorizer (handlers/share-fetch.ts):
 * without READ on the group the whole request is refused; a topic the
 * principal may not read is answered TOPIC_AUTHORIZATION_FAILED for each of
 * its partitions, its acknowledgements failed with it and never handed to
 * the share service, while the other topics are served; when every topic is
 * refused the answer comes at once, the service never asked.
 */
import t from 'tap';
import { AccessControl } from '../../../broker/acl/access.js';
import type { RequestContext } from '../../../broker/handlers/handler.js';
import { shareAcknowledgeHandler } from '../../../broker/handlers/share-acknowledge.js';
import { authorizedShareFetch } from '../../../broker/handlers/share-fetch.js';
import type { ShareContext } from '../../../broker/handlers/share-group-heartbeat.js';
import { silentLogger } from '../../../broker/log.js';
import { applyChange, EMPTY_IMAGE, type MetadataImage } from '../../../broker/metadata/image.js';
import { ConnectionSession } from '../../../broker/security/session.js';
import type { ShareService } from '../../../broker/share/service.js';
import { AcknowledgeType, type ShareAcknowledgeResponse, type ShareFetchRequest, type ShareFetchResponse } from '../../../protocol/messages.js';

const ack = (firstOffset: number, lastOffset: number) => ({ firstOffset, lastOffset, type: AcknowledgeType.ACCEPT, delayMs: 0, lockMs: -1, reason: null });

function world(): { broker: ShareContext; asked: ShareFetchRequest[]; ctx: RequestContext } {
  let image: MetadataImage = applyChange(EMPTY_IMAGE, { kind: 'clusterCreated', clusterId: 'c' }, 1);
  let version = 1;
  const grant = (resourceType: 'group' | 'topic', resourceName: string): void => {
    image = applyChange(image, { kind: 'aclCreated', resourceType, resourceName, patternType: 'literal', principal: 'User:alice', host: '*', operation: 'read', permission: 'allow' }, ++version);
  };
  grant('group', 'workers');
  grant('topic', 'open');
  const access = new AccessControl({ config: { authorizer: { enabled: true, superUsers: [], allowEveryoneIfNoAclFound: false } }, image: () => image, logger: silentLogger() });
  const asked: ShareFetchRequest[] = [];
  // The service answers each partition it is asked for with one acquired record, its acknowledgements accepted.
  const share = {
    async fetch(request: ShareFetchRequest): Promise<ShareFetchResponse> {
      asked.push(request);
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        errorMessage: null,
        acquisitionLockTimeoutMs: 30_000,
        topics: request.topics.map((topic) => ({ topic: topic.topic, partitions: topic.partitions.map((p) => ({ partition: p.partition, errorCode: 0, errorMessage: null, failedAcknowledgements: [], records: Buffer.from('batch'), acquiredRecords: [{ firstOffset: 0, lastOffset: 0, deliveryCount: 1 }] })) })),
      };
    },
  } as unknown as ShareService;
  const session = new ConnectionSession({ listener: 'SASL_PLAINTEXT', securityProtocol: 'SASL_PLAINTEXT' });
  session.authenticate('alice');
  const ctx: RequestContext = { apiVersion: 0, clientId: 't', clientHost: '127.0.0.1', signal: new AbortController().signal, logger: silentLogger(), session, ordered: async (step) => step(), whenWritable: async () => undefined, closeConnection: () => undefined, afterResponseWritten: () => undefined };
  return { broker: { access, share, controller: {} as ShareContext['controller'] }, asked, ctx };
}

const request = (groupId: string, topics: ShareFetchRequest['topics']): ShareFetchRequest => ({ groupId, memberId: 'm', memberEpoch: 1, maxWaitMs: 5000, maxRecords: 10, maxBytes: 1 << 20, topics });

t.test('a refused topic is answered per partition; the readable one is served', async (t) => {
  const { broker, asked, ctx } = world();
  const response = await authorizedShareFetch(broker, ctx, request('workers', [
    { topic: 'open', partitions: [{ partition: 0, acknowledgements: [ack(3, 4)] }] },
    { topic: 'closed', partitions: [{ partition: 0, acknowledgements: [ack(5, 9)] }, { partition: 2, acknowledgements: [] }] },
  ]));
  t.equal(response.errorCode, 0, 'no request-wide error');
  t.same(asked.map((r) => r.topics.map((topic) => topic.topic)), [['open']], 'the service is asked for the readable topic only (the refused one\'s acknowledgements never reach it)');
  t.same(asked[0]?.topics[0]?.partitions[0]?.acknowledgements, [ack(3, 4)]);
  const open = response.topics.find((topic) => topic.topic === 'open');
  t.same(open?.partitions.map((p) => [p.partition, p.errorCode, p.acquiredRecords.length]), [[0, 0, 1]], 'the readable topic is served');
  const closed = response.topics.find((topic) => topic.topic === 'closed');
  t.same(closed?.partitions.map((p) => [p.partition, p.errorCode, p.records.byteLength, p.acquiredRecords.length]), [[0, 29, 0, 0], [2, 29, 0, 0]], 'each partition of the other: TOPIC_AUTHORIZATION_FAILED (29), nothing delivered');
  t.match(closed?.partitions[0]?.errorMessage, /User:alice is not authorized to read topic "closed"/);
  t.same(closed?.partitions[0]?.failedAcknowledgements, [{ firstOffset: 5, lastOffset: 9, errorCode: 29 }], 'its acknowledgements fail with the refusal');
});

t.test('every topic refused: answered at once, the service not asked; the group refused: the whole request', async (t) => {
  const { broker, asked, ctx } = world();
  const response = await authorizedShareFetch(broker, ctx, request('workers', [{ topic: 'closed', partitions: [{ partition: 1, acknowledgements: [] }] }]));
  t.same(asked, [], 'no long poll on topics that cannot be served');
  t.same(response.topics.map((topic) => [topic.topic, topic.partitions.map((p) => p.errorCode)]), [['closed', [29]]]);
  const group = await authorizedShareFetch(broker, ctx, request('others', [{ topic: 'open', partitions: [{ partition: 0, acknowledgements: [] }] }]));
  t.equal(group.errorCode, 30, 'GROUP_AUTHORIZATION_FAILED (30) for the request');
  t.same(group.topics, []);
  t.same(asked, []);
});

t.test('ShareAcknowledge: the same rule, answered per partition', async (t) => {
  const { broker, asked, ctx } = world();
  const handler = shareAcknowledgeHandler(broker);
  const response = (await handler.handle(ctx, { groupId: 'workers', memberId: 'm', memberEpoch: 1, topics: [
    { topic: 'open', partitions: [{ partition: 0, acknowledgements: [ack(0, 0)] }] },
    { topic: 'closed', partitions: [{ partition: 0, acknowledgements: [ack(1, 2)] }] },
  ] })) as ShareAcknowledgeResponse;
  t.same(asked.map((r) => [r.maxWaitMs, r.maxRecords, r.topics.map((topic) => topic.topic)]), [[0, 0, ['open']]], 'settles the readable topic only, acquiring nothing');
  t.same(response.topics.map((topic) => [topic.topic, topic.partitions.map((p) => [p.errorCode, p.failedAcknowledgements])]), [
    ['open', [[0, []]]],
    ['closed', [[29, [{ firstOffset: 1, lastOffset: 2, errorCode: 29 }]]]],
  ]);
});
