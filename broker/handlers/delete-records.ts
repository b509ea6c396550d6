/**
 * DeleteRecords (21): per partition, its leader moves the log start offset
 * forward (Partition.deleteRecordsBefore): records below it can no longer
 * be read (OFFSET_OUT_OF_RANGE, ListOffsets earliest says the new start),
 * and segments wholly below it are deleted by the retention path at once.
 * The move is durable (the log's `log-start-offset` file) before anything
 * is answered. A partition is answered once every in-sync follower has
 * moved its start too (replication/log-start-sync.ts); if that takes longer
 * than the request's `timeoutMs`, REQUEST_TIMED_OUT with the leader's new
 * start in `lowWatermark` (the leader moved; followers will follow).
 *
 * Offsets: -1 means the high watermark (everything committed goes); above
 * the high watermark, or below -1, OFFSET_OUT_OF_RANGE; at or below the log
 * start, nothing to do (answered with the start). Internal topics (`__`
 * names: the coordinator's state) are refused with POLICY_VIOLATION. Each
 * partition is reached through `ReplicaManager.partitionOrError` as its
 * leader, for a replicated write (a fenced broker answers NOT_LEADER_OR_FOLLOWER).
 */
import { Errors, ProtocolError } from '../../protocol/errors.js';
import type { DeleteRecordsResponse } from '../../protocol/messages.js';
import { isInternalTopic } from '../metadata/topic-name.js';
import type { BrokerContext } from './broker-context.js';
import { toWireError } from './errors.js';
import type { ApiHandler, RequestContext } from './handler.js';
import { accessOf } from '../acl/access.js';

type PartitionResult = DeleteRecordsResponse['topics'][number]['partitions'][number];

export function deleteRecordsHandler(broker: BrokerContext): ApiHandler<'DeleteRecords'> {
  const { replicas, clock } = broker;
  const access = accessOf(broker);

  const failed = (ctx: RequestContext, topic: string, index: number, error: unknown, lowWatermark = -1): PartitionResult => {
    const wire = toWireError(error, ctx.logger, { api: 'DeleteRecords', topic, partition: index });
    return { partition: index, lowWatermark, errorCode: wire.code, errorMessage: wire.message };
  };

  /** Checked and started in the ordered step (so a DeleteRecords sees earlier produces on its connection); awaited after. */
  const start = (ctx: RequestContext, topic: string, index: number, offset: number, timeoutMs: number): Promise<PartitionResult> => {
    const refused = access.refusal(ctx, 'delete', 'topic', topic);
    if (refused !== null) return Promise.resolve(failed(ctx, topic, index, refused));
    if (isInternalTopic(topic)) {
      return Promise.resolve(failed(ctx, topic, index, new ProtocolError('POLICY_VIOLATION', `topic ${topic} is internal to the broker; its records are the broker's own state and cannot be deleted`)));
    }
    const partition = replicas.partitionOrError(topic, index, { role: 'leader', write: 'replicated' });
    if (partition instanceof Error) return Promise.resolve(failed(ctx, topic, index, partition));
    const highWatermark = partition.highWatermark;
    if (offset < -1 || offset > highWatermark) {
      return Promise.resolve(failed(ctx, topic, index, new ProtocolError('OFFSET_OUT_OF_RANGE', `offset ${offset} is past ${topic}-${index}'s high watermark ${highWatermark}; records can be deleted below the high watermark only (-1: all of them)`)));
    }
    const target = offset === -1 ? highWatermark : offset;
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<PartitionResult>((resolve) => {
      timer = clock.schedule(Math.max(0, timeoutMs), () =>
        resolve(failed(ctx, topic, index, new ProtocolError('REQUEST_TIMED_OUT', `${topic}-${index}'s leader moved its log start to ${partition.logStartOffset}; its in-sync followers had not followed within ${timeoutMs} ms (they will)`), partition.logStartOffset)),
      );
    });
    const done = partition.deleteRecordsBefore(target).then(
      (lowWatermark): PartitionResult => ({ partition: index, lowWatermark, errorCode: Errors.NONE.code, errorMessage: null }),
      (error: unknown) => failed(ctx, topic, index, error),
    );
    return Promise.race([done, timeout]).finally(() => timer?.cancel());
  };

  return {
    api: 'DeleteRecords',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      const started = await ctx.ordered(async () =>
        request.topics.map((topic) => ({ name: topic.name, partitions: topic.partitions.map((p) => start(ctx, topic.name, p.partition, p.offset, request.timeoutMs)) })),
      );
      return {
        throttleTimeMs: 0,
        topics: await Promise.all(started.map(async (topic) => ({ name: topic.name, partitions: await Promise.all(topic.partitions) }))),
      };
    },
  };
}
