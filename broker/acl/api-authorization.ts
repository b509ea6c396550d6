/**
 * Which authorization every API needs: Kafka's operations table ("Authorization
 * and ACLs"), one rule per API, in one place. `API_RULES` is a record over
 * every API name, so a new API does not compile until it has a rule, and
 * the handler table refuses to start with a handler whose rule is missing.
 *
 * Three kinds of rule:
 * - `open`: the API is answered before anyone is known (ApiVersions, the
 *   SASL exchange), so there is nothing to authorize.
 * - `cluster`: the whole request needs `operation` on the cluster; the
 *   handler table checks it before the handler runs (`guarded`) and a
 *   refusal is the error frame CLUSTER_AUTHORIZATION_FAILED.
 * - `resources`: the handler checks each topic or group the request names
 *   (`checks` says which operation), answering TOPIC_/GROUP_AUTHORIZATION_FAILED
 *   in that resource's place of the response and going on with the others.
 *
 * With `authorizer.enabled` off every check passes (access.ts).
 */
import type { ApiName } from '../../protocol/api-keys.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { RegisteredHandler } from '../handlers/handler.js';
import type { AccessControl, RequestOperation } from './access.js';

export type ApiRule =
  | { readonly kind: 'open'; readonly why: string }
  | { readonly kind: 'cluster'; readonly operation: RequestOperation }
  | { readonly kind: 'resources'; readonly checks: string };

const open = (why: string): ApiRule => ({ kind: 'open', why });
const cluster = (operation: RequestOperation): ApiRule => ({ kind: 'cluster', operation });
const resources = (checks: string): ApiRule => ({ kind: 'resources', checks });

export const API_RULES: Readonly<Record<ApiName, ApiRule>> = {
  ApiVersions: open('answered before authentication, so a client can learn what to speak'),
  SaslHandshake: open('the authentication exchange itself'),
  SaslAuthenticate: open('the authentication exchange itself'),
  Produce: resources('WRITE on each topic'),
  Fetch: resources('a follower (replicaId >= 0): CLUSTER_ACTION on the cluster; a consumer: READ on each topic'),
  ListOffsets: resources('DESCRIBE on each topic'),
  OffsetForLeaderEpoch: resources('a follower (replicaId >= 0): CLUSTER_ACTION on the cluster; a consumer: DESCRIBE on each topic'),
  Metadata: resources('DESCRIBE on each topic (left out of an all-topics listing; a named one answers TOPIC_AUTHORIZATION_FAILED); auto-creating one: CREATE on the cluster or the topic'),
  CreateTopics: resources('CREATE on the cluster or on each topic'),
  DeleteTopics: resources('DELETE on each topic'),
  CreatePartitions: resources('ALTER on each topic'),
  DeleteRecords: resources('DELETE on each topic'),
  DescribeConfigs: resources('DESCRIBE_CONFIGS on each topic, or on the cluster for a broker'),
  AlterConfigs: resources('ALTER_CONFIGS on each topic, or on the cluster for a broker'),
  InitProducerId: resources('IDEMPOTENT_WRITE on the cluster, or WRITE on some topic'),
  FindCoordinator: resources('DESCRIBE on each group'),
  ConsumerGroupHeartbeat: resources('READ on the group'),
  ConsumerGroupDescribe: resources('DESCRIBE on each group'),
  OffsetCommit: resources('READ on the group, and READ on each topic'),
  OffsetFetch: resources('DESCRIBE on the group, and DESCRIBE on each topic (unauthorized topics left out of an all-topics answer)'),
  ListGroups: resources('DESCRIBE on the cluster lists every group; otherwise the groups with DESCRIBE'),
  DeleteGroups: resources('DELETE on each group'),
  ShareGroupHeartbeat: resources('READ on the group'),
  ShareGroupDescribe: resources('DESCRIBE on each group'),
  ShareFetch: resources('READ on the group, and READ on each topic'),
  ShareAcknowledge: resources('READ on the group, and READ on each topic'),
  ElectLeaders: cluster('alter'),
  AlterPartitionReassignments: cluster('alter'),
  ListPartitionReassignments: cluster('describe'),
  DescribeUserScramCredentials: cluster('describe'),
  AlterUserScramCredentials: cluster('alter'),
  DescribeAcls: cluster('describe'),
  CreateAcls: cluster('alter'),
  DeleteAcls: cluster('alter'),
  DescribeClientQuotas: cluster('describe_configs'),
  AlterClientQuotas: cluster('alter_configs'),
  BrokerRegistration: cluster('cluster_action'),
  BrokerHeartbeat: cluster('cluster_action'),
  AlterPartition: cluster('cluster_action'),
  AllocateProducerIds: cluster('cluster_action'),
  MetadataChanges: cluster('cluster_action'),
};

/** The handler with its API's cluster rule checked before it runs (open and per-resource rules pass through). */
export function guarded(handler: RegisteredHandler, access: AccessControl): RegisteredHandler {
  const rule = API_RULES[handler.api];
  if (rule.kind !== 'cluster') return handler;
  return {
    ...handler,
    decode(version, frame, bodyOffset) {
      const call = handler.decode(version, frame, bodyOffset);
      return Object.assign(
        async (ctx: Parameters<typeof call>[0]) => {
          if (!access.allows(ctx, rule.operation, 'cluster')) throw new ProtocolError('CLUSTER_AUTHORIZATION_FAILED', `${ctx.session.principal} may not ${rule.operation} the cluster (${handler.api}); it needs an ACL allowing ${rule.operation} on the cluster`);
          return call(ctx);
        },
        { body: call.body },
      );
    },
  };
}
