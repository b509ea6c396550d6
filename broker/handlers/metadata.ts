/**
 * Metadata: the brokers (one, here), the cluster id, and for each topic asked
 * about (every topic when the list is null) its partitions with their leader,
 * replicas and in-sync replicas. A topic that does not exist is
 * UNKNOWN_TOPIC_OR_PARTITION, unless both the request allows auto-creation and
 * the broker has `auto.create.topics` on; an invalid name is
 * INVALID_TOPIC_EXCEPTION.
 */
import { Errors } from '../../protocol/errors.js';
import type { PartitionMetadata, TopicMetadata } from '../../protocol/messages.js';
import type { Topic } from '../controller.js';
import { topicNameProblem } from '../metadata/topic-name.js';
import { SINGLE_NODE_LEADER_EPOCH } from '../partition.js';
import type { BrokerContext } from './broker-context.js';
import { offlineErrorName, toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';

export function metadataHandler(broker: BrokerContext): ApiHandler<'Metadata'> {
  const { controller, config } = broker;
  const nodeId = config.nodeId;

  const describe = (topic: Topic): TopicMetadata => ({
    errorCode: Errors.NONE.code,
    name: topic.name,
    isInternal: false,
    partitions: topic.partitions.map((partition): PartitionMetadata => ({
      // An offline log has no one to serve it: clients see why instead of timeouts.
      errorCode: partition.serving ? Errors.NONE.code : Errors[offlineErrorName(partition.offlineReason)].code,
      partition: partition.index,
      leader: nodeId,
      leaderEpoch: SINGLE_NODE_LEADER_EPOCH,
      replicas: [nodeId],
      isr: [nodeId],
      offlineReplicas: [],
    })),
  });

  const failed = (name: string, code: number): TopicMetadata => ({ errorCode: code, name, isInternal: false, partitions: [] });

  return {
    api: 'Metadata',
    versions: { min: 0, max: 0 },
    handle: (ctx, request) =>
      ctx.ordered(async () => {
        const names = request.topics === null ? [...controller.topics()].map((topic) => topic.name).sort() : [...new Set(request.topics)];
        const topics: TopicMetadata[] = [];
        for (const name of names) {
          if (topicNameProblem(name) !== null) {
            topics.push(failed(name, Errors.INVALID_TOPIC_EXCEPTION.code));
            continue;
          }
          let topic = controller.topic(name);
          if (topic === undefined && request.allowAutoTopicCreation) {
            try {
              topic = await controller.autoCreate(name);
            } catch (error) {
              topics.push(failed(name, toWireError(error, ctx.logger, { api: 'Metadata', topic: name }).code));
              continue;
            }
          }
          topics.push(topic === undefined ? failed(name, Errors.UNKNOWN_TOPIC_OR_PARTITION.code) : describe(topic));
        }
        return {
          brokers: [{ nodeId, host: broker.endpoint.host, port: broker.endpoint.port, rack: null }],
          clusterId: controller.clusterId,
          controllerId: nodeId,
          topics,
        };
      }),
  };
}
