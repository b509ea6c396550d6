/**
 * Every API has an authorization rule (acl/api-authorization.ts), so a new
 * API cannot slip through unchecked, and a cluster rule is enforced by the
 * handler table before the handler runs: a principal without the operation
 * gets CLUSTER_AUTHORIZATION_FAILED and the handler never sees the request.
 */
import t from 'tap';
import { ApiKey, type ApiName } from '../../../protocol/api-keys.js';
import { encodeRequest } from '../../../protocol/codec.js';
import { decodeRequestHeader } from '../../../protocol/request-header.js';
import { API_RULES, guarded } from '../../../broker/acl/api-authorization.js';
import { AccessControl } from '../../../broker/acl/access.js';
import { registered, type RequestContext } from '../../../broker/handlers/handler.js';
import { silentLogger } from '../../../broker/log.js';
import { applyChange, EMPTY_IMAGE } from '../../../broker/metadata/image.js';
import { ConnectionSession, internalSession } from '../../../broker/security/session.js';
import { ProtocolError } from '../../../protocol/errors.js';

t.test('every API has a rule', async (t) => {
  for (const api of Object.keys(ApiKey) as ApiName[]) t.ok(API_RULES[api] !== undefined, `${api} has an authorization rule`);
  t.same(Object.keys(API_RULES).sort(), Object.keys(ApiKey).sort(), 'and no rule names an API that does not exist');
  const open = Object.entries(API_RULES).filter(([, rule]) => rule.kind === 'open').map(([api]) => api).sort();
  t.same(open, ['ApiVersions', 'SaslAuthenticate', 'SaslHandshake'], 'only the APIs answered before authentication are open');
});

t.test('a cluster rule refuses before the handler runs; super users, granted principals and internal requests pass', async (t) => {
  let image = applyChange(EMPTY_IMAGE, { kind: 'clusterCreated', clusterId: 'c' }, 1);
  const access = new AccessControl({ config: { authorizer: { enabled: true, superUsers: ['User:admin'], allowEveryoneIfNoAclFound: false } }, image: () => image, logger: silentLogger() });
  let ran = 0;
  const handler = guarded(registered({ api: 'DescribeAcls', versions: { min: 0, max: 0 }, handle: async () => { ran += 1; return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, resources: [] }; } }, { fatal: (e) => { throw e; } }), access);
  // The connection hands the handler the frame after its length prefix.
  const frame = Buffer.concat(encodeRequest('DescribeAcls', 0, 1, 'c', { resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 })).subarray(4);
  const { bodyOffset } = decodeRequestHeader(frame);
  const sessionOf = (user: string): ConnectionSession => {
    const session = new ConnectionSession({ listener: 'SASL_PLAINTEXT', securityProtocol: 'SASL_PLAINTEXT' });
    session.authenticate(user);
    return session;
  };
  const ctx = (session: ConnectionSession): RequestContext => ({ apiVersion: 0, clientId: 't', clientHost: '127.0.0.1', signal: new AbortController().signal, logger: silentLogger(), session, ordered: async (step) => step(), whenWritable: async () => undefined, closeConnection: () => undefined, afterResponseWritten: () => undefined });
  const call = (session: ConnectionSession) => handler.decode(0, frame, bodyOffset)(ctx(session));
  const refused = await call(sessionOf('alice')).then(() => null, (e: unknown) => e);
  t.type(refused, ProtocolError);
  t.equal((refused as ProtocolError).errorName, 'CLUSTER_AUTHORIZATION_FAILED');
  t.match((refused as ProtocolError).message, /User:alice may not describe the cluster \(DescribeAcls\)/);
  t.equal(ran, 0, 'the handler never ran');
  await call(sessionOf('admin'));
  await call(internalSession());
  t.equal(ran, 2, 'a super user and an internal request pass');
  image = applyChange(image, { kind: 'aclCreated', resourceType: 'cluster', resourceName: 'runnel-cluster', patternType: 'literal', principal: 'User:alice', host: '*', operation: 'describe', permission: 'allow' }, 2);
  await call(sessionOf('alice'));
  t.equal(ran, 3, 'granted describe on the cluster (the authorizer follows the image), alice passes');
  image = applyChange(image, { kind: 'aclDeleted', resourceType: 'cluster', resourceName: 'runnel-cluster', patternType: 'literal', principal: 'User:alice', host: '*', operation: 'describe', permission: 'allow' }, 3);
  const again = await call(sessionOf('alice')).then(() => null, (e: unknown) => e);
  t.equal((again as ProtocolError | null)?.errorName, 'CLUSTER_AUTHORIZATION_FAILED', 'the grant removed from the image, she is refused again (no stale cache)');
  t.equal(ran, 3);
});

