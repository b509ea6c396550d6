/**
 * Produce: appends each partition's record batches (validated and given
 * offsets by storage, never re-encoded) and answers with the first offset
 * assigned, the append time, and the log start offset.
 *
 * acks:
 * - 0: no response at all. Since there is no response to carry an error, a
 *   failed append closes the connection, so the producer notices (Kafka's rule).
 * - 1: answered once the leader has committed the records itself: at once,
 *   or after the fsync on a topic with fsync=always. Its followers may not
 *   have them yet: a leader change can still lose them.
 * - all (-1): refused with NOT_ENOUGH_REPLICAS, nothing appended, while the
 *   ISR has fewer members than the topic's `min.insync.replicas`; else
 *   answered once the high watermark covers the records, i.e. every in-sync
 *   replica has them (and the leader has committed them). On a partition
 *   with one replica that is the same moment as acks=1. If by then the ISR
 *   has shrunk below `min.insync.replicas` (a follower dropped out while the
 *   produce waited), NOT_ENOUGH_REPLICAS_AFTER_APPEND (Kafka's rule): the
 *   records are written, on fewer replicas than asked, and not acknowledged.
 * If the wait takes longer than the request's `timeoutMs`, the partition
 * answers REQUEST_TIMED_OUT: the records were appended on the leader and
 * may still be replicated, so retrying may duplicate them. If the leader
 * loses its leadership first, NOT_LEADER_OR_FOLLOWER (the same caveat).
 *
 * Each partition is reached through `ReplicaManager.partitionOrError`, as
 * its leader and for a write (a fenced broker answers NOT_LEADER_OR_FOLLOWER),
 * which stamps its leader epoch on the batches. Internal topics
 * (names starting with `__`) are the broker's own: clients cannot produce
 * to them (INVALID_TOPIC_EXCEPTION, as Kafka). The one exception is the
 * brokers' own writes of `__usage` to its leader (metering/usage-writer.ts):
 * taken on the inter-broker listener only, and there, when it uses SASL,
 * only from the inter-broker user (usage-writes.ts).
 *
 * The appends run in the connection's ordered step, so produce requests on
 * one connection are applied in the order they arrived; only the waits for
 * durability overlap.
 *
 * Backpressure: when a partition's disk falls behind (rolled segments wait
 * in memory for an fsync, storage/pending-budget.ts), the append waits in
 * that ordered step, for acks=0 too. The request stays in flight, so the
 * connection stops being read at queued.max.requests and TCP slows the
 * producer, as a Kafka broker blocked in a write would. acks=0 waits as
 * long as the disk needs; acks 1/all wait up to the request's `timeoutMs`
 * (counted from its arrival, together with the wait for durability) and
 * then answer REQUEST_TIMED_OUT with nothing appended, so a retry cannot
 * duplicate. That includes a request whose turn comes only after its
 * timeout, behind others that waited: its producer has given up on it.
 */
import { Errors, ProtocolError } from '../../protocol/errors.js';
import type { ProducePartitionResult, ProduceRequest, ProduceResponse } from '../../protocol/messages.js';
import { InvalidTopicNameError, UnknownTopicOrPartitionError } from '../errors.js';
import { isInternalTopic } from '../metadata/topic-name.js';
import { isBrokerUsageWrite } from '../metering/usage-writes.js';
import { USAGE_TOPIC } from '../metering/usage-writer.js';
import { Partition, type PartitionAppend } from '../partition.js';
import type { BrokerContext } from './broker-context.js';
import { toWireError, type WireError } from './errors.js';
import { NO_RESPONSE, type ApiHandler, type RequestContext } from './handler.js';
import { accessOf, createRefusal } from '../acl/access.js';
import { monotonicMs } from '../world/clock.js';

const VALID_ACKS = new Set([0, 1, -1]);

type Outcome = { partition: number; error: WireError } | { partition: number; append: PartitionAppend; replicated: Partition | null; logAppendTime: boolean; logStartOffset: number };

export function produceHandler(broker: BrokerContext): ApiHandler<'Produce'> {
  const { controller, replicas, clock } = broker;
  const access = accessOf(broker);

  /** Returns once `name` exists (auto-created when the broker allows it); throws why a client cannot produce to it otherwise. */
  const ensureTopic = async (name: string, ctx: RequestContext): Promise<void> => {
    if (name === USAGE_TOPIC && replicas.image.topics.has(name) && isBrokerUsageWrite(broker.config, ctx.session)) return;
    if (isInternalTopic(name)) throw new InvalidTopicNameError(name, `topic ${name} is internal to the broker; clients cannot produce to it`);
    if (replicas.image.topics.has(name) || (await controller.autoCreate(name))) return;
    throw new UnknownTopicOrPartitionError(name, null, `topic ${name} does not exist; create it first (runnel topic create ${name}), or start the broker with auto.create.topics=true`);
  };

  /** Resolves with a timer that never fires when `ms` is null. */
  const sleep = (ms: number | null): { done: Promise<'timeout'>; cancel(): void } => {
    if (ms === null) return { done: new Promise(() => undefined), cancel: () => undefined };
    let timer: { cancel(): void } | undefined;
    const done = new Promise<'timeout'>((resolve) => {
      timer = clock.schedule(Math.max(0, ms), () => resolve('timeout'));
    });
    return { done, cancel: () => timer?.cancel() };
  };

  const timedOut = (ctx: RequestContext, partition: Partition, request: ProduceRequest): WireError =>
    toWireError(new ProtocolError('REQUEST_TIMED_OUT', `${partition.topic}-${partition.index}'s disk is behind: the records waited the request's ${request.timeoutMs} ms for rolled segments to be fsynced and were not appended; retrying is safe`), ctx.logger);

  /**
   * Waits until `partition` takes appends (see the file comment): undefined
   * then, or the error to report instead of appending.
   */
  const waitForRoom = async (ctx: RequestContext, partition: Partition, request: ProduceRequest, deadlineMs: number): Promise<WireError | undefined> => {
    const where = { api: 'Produce', topic: partition.topic, partition: partition.index };
    while (!partition.appendable) {
      if (ctx.signal.aborted) return toWireError(new ProtocolError('NETWORK_EXCEPTION', 'the connection closed while the records waited for the disk; they were not appended'), ctx.logger);
      const timer = sleep(request.acks === 0 ? null : deadlineMs - monotonicMs(clock));
      let onAbort = (): void => undefined;
      const aborted = new Promise<'aborted'>((resolve) => {
        onAbort = () => resolve('aborted');
        ctx.signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        const outcome = await Promise.race([partition.waitAppendable().then(() => 'room' as const), timer.done, aborted]);
        if (outcome === 'timeout') return timedOut(ctx, partition, request);
      } catch (error) {
        return toWireError(error, ctx.logger, where);
      } finally {
        timer.cancel();
        ctx.signal.removeEventListener('abort', onAbort);
      }
    }
    return undefined;
  };

  const appendAll = async (ctx: RequestContext, request: ProduceRequest, deadlineMs: number): Promise<{ name: string; outcomes: Outcome[] }[]> => {
    const results: { name: string; outcomes: Outcome[] }[] = [];
    const late = request.acks !== 0 && monotonicMs(clock) > deadlineMs;
    for (const topicRequest of request.topics) {
      const outcomes: Outcome[] = [];
      results.push({ name: topicRequest.name, outcomes });
      const name = topicRequest.name;
      let topicError: WireError | undefined;
      try {
        const refused = access.refusal(ctx, 'write', 'topic', name) ?? (replicas.image.topics.has(name) ? null : createRefusal(access, ctx, name));
        if (refused !== null) throw refused;
        // Synchronous for an existing topic, so appends stay in arrival order without a tick in between.
        if (isInternalTopic(name) || !replicas.image.topics.has(name)) await ensureTopic(name, ctx);
      } catch (error) {
        topicError = toWireError(error, ctx.logger, { api: 'Produce', topic: name });
      }
      for (const { partition: index, records } of topicRequest.partitions) {
        if (topicError !== undefined) {
          outcomes.push({ partition: index, error: topicError });
          continue;
        }
        const partition = replicas.partitionOrError(name, index, { role: 'leader', write: request.acks === -1 ? 'replicated' : 'local' });
        if (partition instanceof Error) {
          outcomes.push({ partition: index, error: toWireError(partition, ctx.logger, { api: 'Produce', topic: name, partition: index }) });
          continue;
        }
        const noRoom = late ? timedOut(ctx, partition, request) : partition.appendable ? undefined : await waitForRoom(ctx, partition, request, deadlineMs);
        if (noRoom !== undefined) {
          outcomes.push({ partition: index, error: noRoom });
          continue;
        }
        if (request.acks === -1 && partition.isr.length < partition.config.minInsyncReplicas) {
          outcomes.push({ partition: index, error: toWireError(new ProtocolError('NOT_ENOUGH_REPLICAS', `${name}-${index} has ${partition.isr.length} in-sync replica(s) [${partition.isr.join(',')}], fewer than its min.insync.replicas ${partition.config.minInsyncReplicas}; nothing was written`), ctx.logger) });
          continue;
        }
        // A producer batch needs the producer state, which a restart or a truncation rebuilds from the log.
        if (!partition.producersReady && Partition.hasProducerId(records)) await partition.producersLoaded();
        try {
          const append = partition.append(records);
          // An unawaited rejection is reported by the wait below; keep Node from calling it unhandled meanwhile.
          append.committed.catch(() => undefined);
          if (append.duplicate !== true) {
            const records = append.info.lastOffset - append.info.baseOffset + 1;
            broker.meter?.produced(name, records, append.info.sizeBytes);
            broker.usage?.produced(ctx.session.principal, name, records, append.info.sizeBytes);
          }
          outcomes.push({ partition: index, append, replicated: request.acks === -1 ? partition : null, logAppendTime: partition.config.messageTimestampType === 'LogAppendTime', logStartOffset: partition.logStartOffset });
        } catch (error) {
          outcomes.push({ partition: index, error: toWireError(error, ctx.logger, { api: 'Produce', topic: name, partition: index }) });
        }
      }
    }
    return results;
  };

  /**
   * Waits until `deadlineMs` for `committed` (acks=1), and with acks=all
   * for the high watermark of `replicated` to cover the append too; the
   * error to report, or undefined when done.
   */
  const awaitCommitted = async (ctx: RequestContext, append: PartitionAppend, replicated: Partition | null, timeoutMs: number, deadlineMs: number, where: Record<string, unknown>): Promise<WireError | undefined> => {
    const timer = sleep(deadlineMs - monotonicMs(clock));
    const done = replicated === null ? append.committed : append.committed.then(() => replicated.whenReplicated(append.info.lastOffset + 1));
    try {
      const outcome = await Promise.race([done.then(() => 'committed' as const), timer.done]);
      if (outcome === 'timeout') {
        const what = replicated === null ? 'made durable' : 'committed by every in-sync replica';
        return toWireError(new ProtocolError('REQUEST_TIMED_OUT', `the records were appended at offset ${append.info.baseOffset} but not ${what} within the request's ${timeoutMs} ms; retrying may write them twice`), ctx.logger);
      }
      return undefined;
    } catch (error) {
      return toWireError(error, ctx.logger, { api: 'Produce', ...where });
    } finally {
      timer.cancel();
    }
  };

  const respond = async (ctx: RequestContext, request: ProduceRequest, appended: { name: string; outcomes: Outcome[] }[], deadlineMs: number): Promise<ProduceResponse> => {
    const topics = await Promise.all(
      appended.map(async ({ name, outcomes }) => ({
        name,
        partitions: await Promise.all(
          outcomes.map(async (outcome): Promise<ProducePartitionResult> => {
            const error = 'error' in outcome ? outcome.error : await awaitCommitted(ctx, outcome.append, outcome.replicated, request.timeoutMs, deadlineMs, { topic: name, partition: outcome.partition });
            if (error !== undefined || 'error' in outcome) {
              return { partition: outcome.partition, errorCode: error!.code, errorMessage: error!.message, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
            }
            return {
              partition: outcome.partition,
              errorCode: Errors.NONE.code,
              errorMessage: null,
              baseOffset: outcome.append.info.baseOffset,
              logAppendTimeMs: outcome.logAppendTime ? outcome.append.info.logAppendTimeMs : -1,
              logStartOffset: outcome.logStartOffset,
            };
          }),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics };
  };

  return {
    api: 'Produce',
    versions: { min: 0, max: 0 },
    async handle(ctx, request) {
      if (!VALID_ACKS.has(request.acks)) {
        const error = toWireError(new ProtocolError('INVALID_REQUIRED_ACKS', `acks ${request.acks} is not 0, 1 or -1 (all)`), ctx.logger);
        return {
          throttleTimeMs: 0,
          topics: request.topics.map((topic) => ({
            name: topic.name,
            partitions: topic.partitions.map((p) => ({ partition: p.partition, errorCode: error.code, errorMessage: error.message, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 })),
          })),
        };
      }
      const deadlineMs = monotonicMs(clock) + request.timeoutMs;
      const appended = await ctx.ordered(() => appendAll(ctx, request, deadlineMs));
      if (request.acks === 0) {
        const failure = appended.flatMap(({ name, outcomes }) => outcomes.flatMap((o) => ('error' in o ? [`${name}-${o.partition}: ${o.error.message}`] : [])));
        if (failure.length > 0) ctx.closeConnection(`acks=0 produce failed, closing so the producer notices: ${failure.join('; ')}`);
        return NO_RESPONSE;
      }
      return respond(ctx, request, appended, deadlineMs);
    },
  };
}
