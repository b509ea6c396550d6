/**
 * ListOffsets: per partition, the earliest offset (timestamp -2: the log
 * start), the latest (-1: the high watermark, the offset the next committed
 * record will get), or the first offset whose record timestamp is at or after
 * a given time, found through the time index. A time after every committed
 * record answers offset -1, as Kafka does. Each partition is reached through
 * `ReplicaManager.partitionOrError`, as its leader; the earliest and latest
 * answers carry the partition's current leader epoch, a time lookup the
 * epoch of the batch found.
 */
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type ListOffsetsResponse } from '../../protocol/messages.js';
import { Errors, ProtocolError } from '../../protocol/errors.js';
import type { Partition } from '../partition.js';
import type { BrokerContext } from './broker-context.js';
import { toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';
import { accessOf } from '../acl/access.js';

type PartitionOffset = ListOffsetsResponse['topics'][number]['partitions'][number];

async function offsetFor(partition: Partition, timestamp: number): Promise<Omit<PartitionOffset, 'partition'>> {
  const found = (offset: number, timestampMs = -1, leaderEpoch = partition.leaderEpoch) => ({ errorCode: Errors.NONE.code, timestamp: timestampMs, offset, leaderEpoch });
  if (timestamp === LATEST_TIMESTAMP) return found(partition.highWatermark);
  if (timestamp === EARLIEST_TIMESTAMP) return found(partition.logStartOffset);
  if (timestamp < 0) throw new ProtocolError('INVALID_REQUEST', `timestamp ${timestamp} is neither -1 (latest), -2 (earliest) nor a time in ms since the epoch`);
  const hit = await partition.offsetForTimestamp(timestamp);
  return hit === null ? found(-1) : found(hit.offset, hit.timestamp, hit.leaderEpoch);
}

export function listOffsetsHandler(broker: BrokerContext): ApiHandler<'ListOffsets'> {
  const { replicas } = broker;
  const access = accessOf(broker);
  return {
    api: 'ListOffsets',
    versions: { min: 0, max: 1 },
    handle: (ctx, request) =>
      ctx.ordered(async () => ({
        topics: await Promise.all(
          request.topics.map(async (topicRequest) => ({
            name: topicRequest.name,
            partitions: await Promise.all(
              topicRequest.partitions.map(async (entry): Promise<PartitionOffset> => {
                const { partition: index, timestamp } = entry;
                try {
                  const refused = access.refusal(ctx, 'describe', 'topic', topicRequest.name);
                  if (refused !== null) throw refused;
                  const partition = replicas.partitionOrError(topicRequest.name, index, { role: 'leader', currentLeaderEpoch: entry.currentLeaderEpoch });
                  if (partition instanceof Error) throw partition;
                  return { partition: index, ...(await offsetFor(partition, timestamp)) };
                } catch (error) {
                  const wire = toWireError(error, ctx.logger, { api: 'ListOffsets', topic: topicRequest.name, partition: index });
                  return { partition: index, errorCode: wire.code, timestamp: -1, offset: -1, leaderEpoch: -1 };
                }
              }),
            ),
          })),
        ),
      })),
  };
}
