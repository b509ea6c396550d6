/**
 * Fetch: whole record batches from each partition asked for, starting at the
 * batch that holds `fetchOffset`, below the high watermark (a consumer never
 * sees records a crash could take back), sent as slices of the segment reads
 * with no copy or re-encoding.
 *
 * Sizes, as in Kafka: each partition returns at most `partitionMaxBytes` and
 * the response at most `maxBytes` (capped by the broker's `fetch.max.bytes`), except that the first partition with data
 * always returns at least one whole batch, so a batch bigger than the limits
 * cannot stall a consumer.
 *
 * Long poll: when the first read finds fewer than `minBytes`, the request
 * waits, without polling, until the partitions' high watermarks have moved by
 * enough bytes (each partition wakes its waiters as it advances), or
 * `maxWaitMs` passes (a Clock timer), or the connection closes, and then
 * reads again. The wait happens outside the connection's ordered step, so it
 * never holds back a produce on the same connection.
 *
 * Each partition is reached through `ReplicaManager.partitionOrError`, as
 * its leader, checking the leader epoch the request states (if any).
 *
 * Followers (v1, `replicaId` >= 0): the replica must be in the partition's
 * assignment, and its broker epoch (`replicaEpoch`) no older than its
 * registration in the metadata (STALE_BROKER_EPOCH: a follower from before
 * a restart). Its fetch offset is its log end: it is recorded with the
 * leader before the read (LeaderState), which may move the high watermark
 * and so wake acks=all produces and consumers' long polls. A follower
 * reads up to the log end, not just the high watermark, and its long poll
 * wakes on any append, and on the high watermark moving (which it learns
 * from the response; a move its own fetch caused counts too, since the
 * follower has not heard of it): that wake waits `FOLLOWER_WATERMARK_WAKE_MS`
 * first, so that under a stream of appends the new high watermark rides
 * with the next records instead of costing an empty response and another
 * fetch (a third of all replica fetches at 1000 produce requests/s). A
 * follower still learns it within those few ms when nothing more is appended.
 *
 * A replica that a reassignment is adding is served within the
 * reassignment throttle (replication/reassignment-throttle.ts): its reads
 * take at most what the broker-wide bucket holds, and while the bucket is
 * empty its appends do not wake the long poll: the bucket's refill does
 * (other partitions of the same fetch still wake it as usual).
 *
 * Reads run in the ordered step, after `whenWritable()`: one fetch at a time
 * per connection fills memory with records, and only while the client keeps
 * reading its responses. They read into recycled buffers (read-buffers.ts),
 * taken back once the response is written.
 */
import { Errors, ProtocolError } from '../../protocol/errors.js';
import { NotLeaderError } from '../errors.js';
import type { FetchPartitionResult, FetchRequest, FetchResponse } from '../../protocol/messages.js';
import { Partition } from '../partition.js';
import { ReassignmentThrottle } from '../replication/reassignment-throttle.js';
import type { ReadBufferSource } from '../storage/segment.js';
import type { BrokerContext } from './broker-context.js';
import { toWireError, type WireError } from './errors.js';
import type { ApiHandler, RequestContext } from './handler.js';
import { accessOf } from '../acl/access.js';
import { ReadBufferPool } from './read-buffers.js';
import { recordsIn } from '../metrics/batch-records.js';

/** A consumer's default per-partition limit (Kafka's too): the usual size of a read that keeps up. */
const READ_BUFFER_BYTES = 1024 * 1024;
/** Idle read buffers the broker keeps. */
const READ_BUFFERS_SPARE_MAX = 16;
/**
 * How long a waiting follower fetch holds a high-watermark-only wake for
 * records to come with it (see the file comment). Far below any timeout
 * that reads a follower's high watermark; no bound on acks=all latency,
 * which follows the leader's high watermark, not the follower's.
 */
export const FOLLOWER_WATERMARK_WAKE_MS = 5;

interface Target {
  topic: string;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  resolved: Partition | WireError;
  /**
   * The partition's high watermark before this request: a follower's fetch
   * may move it (its log end is recorded first), and has not told it yet.
   */
  watermarkBefore: number;
  /** The leader epoch it was resolved in: a read after a long poll serves only that leadership (see `readPartition`). */
  resolvedEpoch: number;
}

interface ReadPass {
  topics: FetchResponse['topics'];
  sizeBytes: number;
  failed: boolean;
  /** Partitions that got nothing because the reassignment throttle's bucket was empty. */
  throttled: Set<Partition>;
}

export function fetchHandler(broker: BrokerContext): ApiHandler<'Fetch'> {
  const { replicas, clock, config } = broker;
  const readBuffers = new ReadBufferPool(READ_BUFFER_BYTES, READ_BUFFERS_SPARE_MAX);
  const throttle = new ReassignmentThrottle(clock);
  /** The reassignment throttle's rate when `replicaId` is being added to the partition by a reassignment, else 0 (not throttled). */
  const throttleRate = (topic: string, partition: number, replicaId: number): number => {
    if (replicaId < 0) return 0;
    const image = replicas.image;
    const adding = image.topics.get(topic)?.partitionStates[partition]?.addingReplicas;
    return adding?.includes(replicaId) === true ? (image.reassignmentThrottle ?? 0) : 0;
  };

  /** The partition as a follower may fetch it (recording its position, and in `before` the high watermark it had), or why not. */
  const forFollower = (request: FetchRequest, topic: string, p: FetchRequest['topics'][number]['partitions'][number], before: Map<Partition, number>): Partition | Error => {
    const found = replicas.partitionOrError(topic, p.partition, { role: 'leader', currentLeaderEpoch: p.currentLeaderEpoch });
    if (!(found instanceof Partition)) return found;
    const { replicaId, replicaEpoch } = request;
    if (found.leadership?.replicas.includes(replicaId) !== true) {
      return new NotLeaderError(topic, p.partition, found.leader, `broker ${replicaId} is not a replica of ${topic}-${p.partition} (replicas ${found.leadership?.replicas.join(',') ?? 'unknown'}); refresh metadata`);
    }
    const registered = replicas.image.brokers.get(replicaId)?.epoch;
    if (replicaEpoch >= 0 && registered !== undefined && replicaEpoch < registered) {
      return new ProtocolError('STALE_BROKER_EPOCH', `broker ${replicaId} fetched with broker epoch ${replicaEpoch}, older than its registration's ${registered}`);
    }
    if (!before.has(found)) before.set(found, found.highWatermark);
    try {
      replicas.recordFollowerFetch(found, replicaId, p.fetchOffset);
    } catch (error) {
      return error as Error;
    }
    return found;
  };

  const access = accessOf(broker);
  const resolve = (ctx: RequestContext, request: FetchRequest): Target[] => {
    const before = new Map<Partition, number>();
    const refusals = new Map<string, ProtocolError | null>();
    const readRefusal = (c: RequestContext, topic: string): ProtocolError | null => {
      if (!refusals.has(topic)) refusals.set(topic, access.refusal(c, 'read', 'topic', topic));
      return refusals.get(topic)!;
    };
    return request.topics.flatMap((topicRequest) =>
      topicRequest.partitions.map((p): Target => {
        let resolved: Partition | WireError;
        const refused = request.replicaId >= 0 ? null : readRefusal(ctx, topicRequest.name);
        if (refused !== null) {
          resolved = toWireError(refused, ctx.logger);
        } else if (p.partitionMaxBytes <= 0) {
          resolved = toWireError(new ProtocolError('INVALID_FETCH_SIZE', `partitionMaxBytes is ${p.partitionMaxBytes}; it must be positive`), ctx.logger);
        } else {
          const found = request.replicaId >= 0
            ? forFollower(request, topicRequest.name, p, before)
            : replicas.partitionOrError(topicRequest.name, p.partition, { role: 'leader', currentLeaderEpoch: p.currentLeaderEpoch });
          resolved = found instanceof Partition ? found : toWireError(found, ctx.logger, { api: 'Fetch', topic: topicRequest.name, partition: p.partition });
        }
        const watermarkBefore = resolved instanceof Partition ? (before.get(resolved) ?? resolved.highWatermark) : -1;
        const resolvedEpoch = resolved instanceof Partition ? resolved.leaderEpoch : -1;
        return { topic: topicRequest.name, partition: p.partition, fetchOffset: p.fetchOffset, partitionMaxBytes: p.partitionMaxBytes, resolved, watermarkBefore, resolvedEpoch };
      }),
    );
  };

  const readOnce = async (ctx: RequestContext, targets: readonly Target[], maxBytes: number, allocate: ReadBufferSource, replicaId: number): Promise<ReadPass> => {
    const topics: FetchResponse['topics'] = [];
    let sizeBytes = 0;
    let failed = false;
    const throttled = new Set<Partition>();
    for (const target of targets) {
      let entry = topics.at(-1);
      if (entry === undefined || entry.name !== target.topic) {
        entry = { name: target.topic, partitions: [] };
        topics.push(entry);
      }
      const rate = throttleRate(target.topic, target.partition, replicaId);
      const allowed = rate === 0 ? Number.POSITIVE_INFINITY : throttle.available(rate);
      const result = await readPartition(ctx, target, Math.min(maxBytes - sizeBytes, allowed), sizeBytes === 0 && allowed > 0, allocate, replicaId >= 0);
      if (result.errorCode !== Errors.NONE.code) failed = true;
      let bytes = 0;
      for (const batch of result.records) bytes += batch.byteLength;
      if (rate > 0) {
        throttle.spent(bytes);
        if (bytes === 0 && allowed === 0 && target.resolved instanceof Partition) throttled.add(target.resolved);
      }
      sizeBytes += bytes;
      entry.partitions.push(result);
    }
    return { topics, sizeBytes, failed, throttled };
  };

  const readPartition = async (ctx: RequestContext, target: Target, remainingBytes: number, first: boolean, allocate: ReadBufferSource, follower: boolean): Promise<FetchPartitionResult> => {
    const { resolved } = target;
    if (!(resolved instanceof Partition)) return errorResult(target.partition, resolved);
    const partition = resolved;
    // The leadership may have ended while the request waited (Kafka's DelayedFetch checks the same): a deposed leader, now a
    // follower of another, must not serve its new log (truncated and refilled in a later epoch) as the old leadership's.
    const still = replicas.partitionOrError(target.topic, target.partition, { role: 'leader', currentLeaderEpoch: target.resolvedEpoch });
    if (still !== partition) {
      const error = still instanceof Partition ? new NotLeaderError(target.topic, target.partition, still.leader, `${target.topic}-${target.partition} changed leadership while the fetch waited; refresh metadata`) : still;
      return errorResult(target.partition, toWireError(error, ctx.logger, { api: 'Fetch', topic: target.topic, partition: target.partition }));
    }
    const result = (records: Uint8Array[]): FetchPartitionResult => ({
      partition: target.partition,
      errorCode: Errors.NONE.code,
      leaderEpoch: partition.leaderEpoch,
      highWatermark: partition.highWatermark,
      logStartOffset: partition.logStartOffset,
      records,
    });
    if (!first && remainingBytes <= 0) return result([]);
    try {
      const limit = Math.max(1, Math.min(target.partitionMaxBytes, remainingBytes));
      const read = await (follower ? partition.readForFollower(target.fetchOffset, limit, allocate) : partition.read(target.fetchOffset, limit, allocate));
      // Past the first partition with data, a batch that does not fit waits for the next fetch.
      if (!first && read.sizeBytes > remainingBytes) return result([]);
      return result(read.records);
    } catch (error) {
      return errorResult(target.partition, toWireError(error, ctx.logger, { api: 'Fetch', topic: target.topic, partition: target.partition }));
    }
  };

  /** Resolves once enough bytes became readable, the wait expired, or the request was abandoned. */
  const waitForData = (ctx: RequestContext, targets: readonly Target[], haveBytes: number, request: FetchRequest, throttled: ReadonlySet<Partition>): Promise<void> =>
    new Promise((done) => {
      // A throttled partition does not wake the wait with its appends (it could not send them); the bucket's refill does.
      const partitions = [...new Set(targets.flatMap((t) => (t.resolved instanceof Partition && !throttled.has(t.resolved) ? [t.resolved] : [])))];
      // A follower waits for anything appended (it reads to the log end) or a new high watermark to learn.
      const follower = request.replicaId >= 0;
      const bytesOf = (p: Partition): number => (follower ? p.appendedBytesTotal : p.visibleBytesTotal);
      const baseline = partitions.map(bytesOf);
      // What the follower knows: a high watermark its own fetch moved is news to it too.
      const watermarks = partitions.map((p) => Math.min(...targets.filter((t) => t.resolved === p).map((t) => t.watermarkBefore)));
      // A moved log start (DeleteRecords) is news a follower must hear at once: the leader's answer waits for it.
      const starts = partitions.map((p) => p.logStartOffset);
      const unsubscribes: (() => void)[] = [];
      let finished = false;
      /** A follower's high-watermark-only wake, armed once (see FOLLOWER_WATERMARK_WAKE_MS). */
      let watermarkWake: { cancel(): void } | null = null;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        timer.cancel();
        watermarkWake?.cancel();
        for (const unsubscribe of unsubscribes) unsubscribe();
        ctx.signal.removeEventListener('abort', finish);
        done();
      };
      const check = (): void => {
        let bytes = haveBytes;
        partitions.forEach((p, i) => {
          bytes += bytesOf(p) - baseline[i]!;
        });
        if (bytes >= request.minBytes || partitions.some((p) => p.deleted) || (follower && partitions.some((p, i) => p.logStartOffset !== starts[i]))) finish();
        else if (follower && watermarkWake === null && partitions.some((p, i) => p.highWatermark !== watermarks[i])) watermarkWake = clock.schedule(FOLLOWER_WATERMARK_WAKE_MS, finish);
      };
      const timer = clock.schedule(throttled.size === 0 ? request.maxWaitMs : Math.min(request.maxWaitMs, throttleRefillMs(request)), finish);
      for (const partition of partitions) unsubscribes.push(partition.onAdvance(check));
      ctx.signal.addEventListener('abort', finish);
      if (ctx.signal.aborted) finish();
      else check();
    });

  /** How long until the throttle's bucket lets a throttled partition of this fetch have something (at least 1 ms). */
  const throttleRefillMs = (request: FetchRequest): number => {
    const rates = request.topics.flatMap((t) => t.partitions.map((p) => throttleRate(t.name, p.partition, request.replicaId))).filter((rate) => rate > 0);
    return Math.max(1, ...rates.map((rate) => throttle.waitMs(rate)));
  };

  /** The response for a read, counted per topic (only the read that is sent: a first, empty pass before a long poll is not). */
  const answer = (pass: ReadPass, follower: boolean, principal: string): FetchResponse => {
    const { meter, usage } = broker;
    if ((meter !== undefined || usage !== undefined) && pass.sizeBytes > 0) {
      for (const topic of pass.topics) {
        let bytes = 0;
        for (const p of topic.partitions) for (const batch of p.records) bytes += batch.byteLength;
        if (bytes === 0) continue;
        if (follower) {
          // Replication is not a client's usage: only the metric counts it.
          meter?.replicated(topic.name, bytes);
          continue;
        }
        const records = topic.partitions.reduce((sum, p) => sum + recordsIn(p.records), 0);
        meter?.consumed(topic.name, records, bytes);
        usage?.consumed(principal, topic.name, records, bytes);
      }
    }
    return { throttleTimeMs: 0, errorCode: Errors.NONE.code, topics: pass.topics };
  };

  return {
    api: 'Fetch',
    versions: { min: 0, max: 1 },
    async handle(ctx, request) {
      if (request.maxBytes <= 0) {
        return { throttleTimeMs: 0, errorCode: Errors.INVALID_FETCH_SIZE.code, topics: [] };
      }
      // A follower's fetch is the cluster's own replication: the inter-broker principal's CLUSTER_ACTION.
      if (request.replicaId >= 0 && access.refusal(ctx, 'cluster_action', 'cluster') !== null) {
        return { throttleTimeMs: 0, errorCode: Errors.CLUSTER_AUTHORIZATION_FAILED.code, topics: [] };
      }
      // Resolving in the ordered step makes a fetch see the topics and appends of earlier requests on this connection.
      const targets = await ctx.ordered(() => resolve(ctx, request));
      const maxBytes = Math.min(request.maxBytes, config.fetchMaxBytes);
      // Every buffer this request reads into goes back once its response is written (an earlier,
      // discarded read's too); if the response never goes out, they are left to the collector.
      const taken: Buffer[] = [];
      const allocate: ReadBufferSource = (bytes, shared) => {
        const buffer = readBuffers.take(bytes, shared);
        if (taken.length === 0) ctx.afterResponseWritten(() => taken.forEach((b) => readBuffers.give(b)));
        taken.push(buffer);
        return buffer;
      };
      const read = (): Promise<ReadPass> => ctx.ordered(async () => {
        await ctx.whenWritable();
        return readOnce(ctx, targets, maxBytes, allocate, request.replicaId);
      });
      const first = await read();
      if (first.sizeBytes >= request.minBytes || first.failed || request.maxWaitMs <= 0 || ctx.signal.aborted) {
        return answer(first, request.replicaId >= 0, ctx.session.principal);
      }
      await waitForData(ctx, targets, first.sizeBytes, request, first.throttled);
      return answer(await read(), request.replicaId >= 0, ctx.session.principal);
    },
  };
}

function errorResult(partition: number, error: WireError): FetchPartitionResult {
  return { partition, errorCode: error.code, leaderEpoch: -1, highWatermark: -1, logStartOffset: -1, records: [] };
}
