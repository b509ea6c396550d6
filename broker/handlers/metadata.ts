/**
 * Metadata (v0-v1): the live brokers (registered and not fenced), the
 * controller's id, the cluster id, and for each topic asked
 * about (every topic when the list is null) its partitions with their leader,
 * leader epoch, replicas and in-sync replicas, from the metadata this broker
 * serves (`ReplicaManager.image`). A topic that does not exist is
 * UNKNOWN_TOPIC_OR_PARTITION, unless both the request allows auto-creation and
 * the broker has `auto.create.topics` on; an invalid name is
 * INVALID_TOPIC_EXCEPTION. A partition this broker hosts whose log is offline
 * carries CORRUPT_SEGMENT or KAFKA_STORAGE_ERROR, so clients see why.
 *
 * Internal topics (names starting with `__`) are left out of "every topic"
 * unless the request sets `includeInternal` (Metadata v1); named, they are
 * described like any other. A v0 request reads as false: it never sees them.
 */
import { Errors } from '../../protocol/errors.js';
import type { MetadataRequest, PartitionMetadata, TopicMetadata } from '../../protocol/messages.js';
import type { TopicImage } from '../metadata/image.js';
import { unfencedBrokers } from '../metadata/queries.js';
import { topicNameProblem } from '../metadata/topic-name.js';
import type { ServingContext } from './broker-context.js';
import { offlineErrorName, toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';
import { accessOf, createRefusal } from '../acl/access.js';
import { localEndpointFor, registeredEndpointFor } from '../security/endpoints.js';

export function metadataHandler(broker: ServingContext): ApiHandler<'Metadata'> {
  const { controller, replicas, config } = broker;
  const nodeId = config.nodeId;
  const access = accessOf(broker);

  const describe = (topic: TopicImage): TopicMetadata => ({
    errorCode: Errors.NONE.code,
    name: topic.name,
    isInternal: topic.internal,
    partitions: Array.from({ length: topic.partitions }, (_, index): PartitionMetadata => {
      const state = topic.partitionStates[index]!;
      const hosted = replicas.partition(topic.name, index);
      // An offline log has no one to serve it: clients see why instead of timeouts.
      const offline = hosted === undefined || hosted.serving ? null : offlineErrorName(hosted.offlineReason);
      // Replicas on fenced (or never registered) brokers are offline as clients see them; the embedded node before it registers is not.
      const offlineReplicas = state.replicas.filter((id) => (id === nodeId ? offline !== null : replicas.image.brokers.get(id)?.fenced !== false));
      return {
        errorCode: offline === null ? (state.leader === -1 ? Errors.LEADER_NOT_AVAILABLE.code : Errors.NONE.code) : Errors[offline].code,
        partition: index,
        leader: state.leader,
        leaderEpoch: state.leaderEpoch,
        replicas: [...state.replicas],
        isr: [...state.isr],
        offlineReplicas,
      };
    }),
  });

  const failed = (name: string, code: number): TopicMetadata => ({ errorCode: code, name, isInternal: false, partitions: [] });

  const everyTopic = (request: MetadataRequest): string[] => {
    const topics = [...replicas.image.topics.values()];
    return (request.includeInternal ? topics : topics.filter((topic) => !topic.internal)).map((topic) => topic.name).sort();
  };

  return {
    api: 'Metadata',
    versions: { min: 0, max: 1 },
    handle: (ctx, request) =>
      ctx.ordered(async () => {
        // A listing of every topic leaves out those the requester may not describe; a named one says so.
        const names = request.topics === null ? everyTopic(request).filter((name) => access.allows(ctx, 'describe', 'topic', name)) : [...new Set(request.topics)];
        const topics: TopicMetadata[] = [];
        for (const name of names) {
          if (topicNameProblem(name) !== null) {
            topics.push(failed(name, Errors.INVALID_TOPIC_EXCEPTION.code));
            continue;
          }
          const refused = access.refusal(ctx, 'describe', 'topic', name) ?? (replicas.image.topics.has(name) || !request.allowAutoTopicCreation ? null : createRefusal(access, ctx, name));
          if (refused !== null) {
            topics.push(failed(name, refused.code));
            continue;
          }
          if (!replicas.image.topics.has(name) && request.allowAutoTopicCreation) {
            try {
              await controller.autoCreate(name);
            } catch (error) {
              topics.push(failed(name, toWireError(error, ctx.logger, { api: 'Metadata', topic: name }).code));
              continue;
            }
          }
          const topic = replicas.image.topics.get(name);
          topics.push(topic === undefined ? failed(name, Errors.UNKNOWN_TOPIC_OR_PARTITION.code) : describe(topic));
        }
        // Each broker at its endpoint on the listener this request came in through (security/endpoints.ts).
        const listener = ctx.session.listener;
        const live = unfencedBrokers(replicas.image).flatMap((b) => {
          const at = b.id === nodeId ? localEndpointFor(broker.endpoint, listener) : registeredEndpointFor(b, listener);
          return at === null ? [] : [{ nodeId: b.id, host: at.host, port: at.port, rack: b.rack }];
        });
        const self = localEndpointFor(broker.endpoint, listener) ?? broker.endpoint;
        // The embedded node lists itself before its registration is committed (and with logs from before brokers registered).
        const brokers = live.length > 0 || broker.controllerId !== undefined ? live : [{ nodeId, host: self.host, port: self.port, rack: null }];
        return {
          brokers,
          clusterId: controller.clusterId,
          controllerId: broker.controllerId?.() ?? nodeId,
          topics,
        };
      }),
  };
}
