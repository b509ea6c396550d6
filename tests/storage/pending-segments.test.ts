/**
 * The roll barrier's memory, on the simulated disk with fsyncs that can be
 * stalled (a slow or hung disk):
 *
 * - rolled segments waiting for the one before them to be durable hold at
 *   most their share of memory (per partition and per broker): past it the
 *   log is not appendable, an append that did not wait is refused, and
 *   nothing is lost; once the disk is back the backlog drains, each segment
 *   after the one before it, one write per append (never joined);
 * - the produce handler waits for room before appending, for acks=0 too (the
 *   request stays in flight, which is what pauses the connection), and with
 *   acks=1 gives up at the request's timeout with nothing appended;
 * - truncateTo refuses appends from its call until it settles, and cuts
 *   pending segments in memory without waiting for the stalled disk.
 */
import t from 'tap';
import path from 'node:path';
import type { ProduceRequest, ProduceResponse } from '../../protocol/messages.js';
import { Errors } from '../../protocol/errors.js';
import { brokerConfig } from '../../broker/config.js';
import type { Controller } from '../../broker/controller/controller.js';
import { NO_RESPONSE, type RequestContext } from '../../broker/handlers/handler.js';
import { produceHandler } from '../../broker/handlers/produce.js';
import { silentLogger } from '../../broker/log.js';
import { Partition } from '../../broker/partition.js';
import type { ReplicaManager } from '../../broker/replication/replica-manager.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem, type FileHandle } from '../../broker/world/file-system.js';
import { InvariantError } from '../../broker/world/assert.js';
import { AppendBackpressureError } from '../../broker/storage/errors.js';
import { parseLogConfig, type LogConfig } from '../../broker/storage/log-config.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { PendingBudget } from '../../broker/storage/pending-budget.js';
import { LOG_SUFFIX, parseSegmentFileName } from '../../broker/storage/segment-names.js';
import { makeBatch } from '../support/storage-fixtures.js';
import { internalSession } from '../../broker/security/session.js';

/**
 * A simulated disk whose fdatasyncs and directory fsyncs can be held (a
 * stalled disk), and which records the size of every write into a segment .log.
 */
class StallableDisk extends SimulatedFileSystem {
  #stalled = false;
  #held: (() => void)[] = [];
  /** File name → sizes of the writes into it, in order. */
  readonly logWrites = new Map<string, number[]>();

  stall(): void {
    this.#stalled = true;
  }

  release(): void {
    this.#stalled = false;
    for (const go of this.#held.splice(0)) go();
  }

  #gate(): Promise<void> {
    return this.#stalled ? new Promise((resolve) => this.#held.push(resolve)) : Promise.resolve();
  }

  override open(filePath: string, flags: 'r' | 'r+' | 'w+'): FileHandle {
    const handle = super.open(filePath, flags);
    const datasync = handle.datasync.bind(handle);
    handle.datasync = async () => {
      await this.#gate();
      await datasync();
    };
    if (parseSegmentFileName(path.basename(filePath), LOG_SUFFIX) !== null) {
      const write = handle.write.bind(handle);
      handle.write = (data, position) => {
        const name = path.basename(filePath);
        this.logWrites.set(name, [...(this.logWrites.get(name) ?? []), data.byteLength]);
        write(data, position);
      };
    }
    return handle;
  }

  override async fsyncDir(dir: string): Promise<void> {
    await this.#gate();
    await super.fsyncDir(dir);
  }
}

const DIR = '/data/stream-0';
const MiB = 1024 * 1024;

function config(overrides: Record<string, string> = {}): LogConfig {
  // flush.ms never: only rolls and waiters start flushes, so the test decides when the disk is asked.
  return parseLogConfig({ 'segment.bytes': String(64 * 1024), 'flush.ms': '9223372036854775807', ...overrides });
}

async function yieldTimes(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

const hex = (data: Uint8Array): string => Buffer.from(data).toString('hex');

t.test('a stalled disk: pending segments stop at their share of memory, and drain once the disk is back', async (t) => {
  const disk = new StallableDisk();
  const clock = new ManualClock();
  const budget = new PendingBudget({ partitionBytesMax: 2 * MiB, totalBytesMax: 64 * MiB });
  const log = await PartitionLog.open({ dir: DIR, config: config(), fs: disk, clock, pendingBudget: budget });
  disk.stall();
  const appended: Uint8Array[] = [];
  const batchBytes = makeBatch(1, 16 * 1024, 0).byteLength;
  // As an acks=0 producer would: 3,000 appends of 16 KiB (48 MiB), nothing waiting for durability.
  let refused: unknown = null;
  for (let i = 0; i < 3000 && refused === null; i++) {
    if (!log.appendable) {
      const batch = makeBatch(1, 16 * 1024, 1000 + i);
      refused = (() => {
        try {
          log.append(batch, { leaderEpoch: 0 });
          return null;
        } catch (err) {
          return err;
        }
      })();
      break;
    }
    const batch = makeBatch(1, 16 * 1024, 1000 + i);
    log.append(batch, { leaderEpoch: 0 });
    appended.push(batch);
    if (i % 50 === 0) await yieldTimes(1);
  }
  t.ok(refused instanceof AppendBackpressureError, `past its share the log refuses an append that did not wait (${String(refused)})`);
  t.ok(log.pendingBytes >= 2 * MiB && log.pendingBytes < 2 * MiB + batchBytes, `pending bytes ${log.pendingBytes} stop within one append of the 2 MiB share`);
  t.equal(budget.totalBytes, log.pendingBytes, 'the budget counts them');
  t.ok(appended.length < 200, `${appended.length} of the 3,000 appends were taken before the log asked to wait`);
  const endBefore = log.logEndOffset;

  let room = false;
  const waiting = log.waitAppendable().then(() => {
    room = true;
  });
  await yieldTimes(5);
  t.notOk(room, 'a waiter is not let in while the disk is stalled');
  disk.release();
  await waiting;
  t.ok(room && log.appendable, 'the waiter is let in once the backlog drained');
  t.equal(log.logEndOffset, endBefore, 'the refused append left nothing behind');
  await log.flush();
  t.equal(log.pendingBytes, 0, 'every pending segment was written');
  t.equal(budget.totalBytes, 0, 'and its memory given back');
  t.equal(log.writtenEndOffset, log.logEndOffset);
  let mismatches = 0;
  for (let offset = 0; offset < appended.length; offset++) {
    const read = await log.read(offset, 1);
    if (read.records[0] === undefined || hex(read.records[0]) !== hex(appended[offset]!)) mismatches++;
  }
  t.equal(mismatches, 0, `all ${appended.length} appended batches read back in order`);
  // Each pending segment went to its file as the appends it held, one write each: never joined into one buffer.
  const firstBase = log.segmentBaseOffsets()[1]!;
  const name = `${String(firstBase).padStart(20, '0')}.log`;
  const writes = disk.logWrites.get(name) ?? [];
  t.ok(writes.length > 1 && writes.every((size) => size === batchBytes), `${name} was written in ${writes.length} writes of one append each (${writes.slice(0, 3).join(', ')}...)`);
  await log.close();
});

t.test('a pending segment keeps its own copy of every append (the caller may reuse its buffer)', async (t) => {
  const disk = new StallableDisk();
  const log = await PartitionLog.open({ dir: DIR, config: config({ 'segment.bytes': '4096' }), fs: disk, clock: new ManualClock() });
  disk.stall();
  const reused = Buffer.from(makeBatch(1, 1000, 5)); // a Node Buffer, whose slice() is a view
  for (let i = 0; i < 20; i++) log.append(reused, { leaderEpoch: 0 });
  t.ok(log.pendingBytes > 0, 'appends went to pending segments');
  disk.release();
  await log.flush();
  const bases: number[] = [];
  for (let offset = 0; offset < 20; offset++) bases.push(Number(Buffer.from((await log.read(offset, 1)).records[0]!).readBigInt64BE(0)));
  t.same(bases, Array.from({ length: 20 }, (_, i) => i), 'every offset reads the batch stamped with it');
  await log.close();
});

t.test('the broker-wide budget holds back logs that hold pending bytes, never one that holds none', async (t) => {
  const disk = new StallableDisk();
  const clock = new ManualClock();
  const budget = new PendingBudget({ partitionBytesMax: 8 * MiB, totalBytesMax: 1 * MiB });
  const open = (name: string): Promise<PartitionLog> => PartitionLog.open({ dir: `/data/${name}`, config: config(), fs: disk, clock, pendingBudget: budget });
  const [a, b, c] = [await open('a-0'), await open('b-0'), await open('c-0')];
  disk.stall();
  for (let i = 0; a.appendable && i < 500; i++) a.append(makeBatch(1, 16 * 1024, i), { leaderEpoch: 0 });
  t.ok(budget.totalBytes >= 1 * MiB, `log a filled the broker's budget (${budget.totalBytes} bytes)`);
  t.ok(b.appendable, 'log b holds nothing pending: the others do not hold it back');
  for (let i = 0; b.appendable && i < 500; i++) b.append(makeBatch(1, 16 * 1024, i), { leaderEpoch: 0 });
  t.ok(b.pendingBytes > 0 && !b.appendable, `log b rolled, started one pending segment past the total (${b.pendingBytes} bytes), then waits`);
  c.append(makeBatch(1, 100, 1), { leaderEpoch: 0 });
  t.ok(c.appendable, 'log c, writing into its file, still appends');
  disk.release();
  await Promise.all([a.waitAppendable(), b.waitAppendable()]);
  await Promise.all([a.flush(), b.flush(), c.flush()]);
  t.equal(budget.totalBytes, 0, 'all given back once the disk caught up');
  await Promise.all([a.close(), b.close(), c.close()]);
});

t.test('a log that goes offline gives its pending memory back and fails its waiters', async (t) => {
  const disk = new StallableDisk();
  const budget = new PendingBudget({ partitionBytesMax: 1 * MiB, totalBytesMax: 64 * MiB });
  const log = await PartitionLog.open({ dir: DIR, config: config(), fs: disk, clock: new ManualClock(), pendingBudget: budget });
  disk.stall();
  for (let i = 0; log.appendable && i < 500; i++) log.append(makeBatch(1, 16 * 1024, i), { leaderEpoch: 0 });
  const waiter = log.waitAppendable();
  disk.injectFault('datasync', '.log');
  disk.release();
  await t.rejects(waiter, { name: 'LogOfflineError' }, 'the waiter learns the log is offline');
  t.equal(budget.totalBytes, 0, 'the pending bytes went back to the budget');
});

/* ------------------------------------------------------------ produce */

function produceRig(partition: Partition, topic = 'stream'): { handle(request: ProduceRequest): Promise<ProduceResponse | typeof NO_RESPONSE>; closed: string[]; clock: ManualClock } {
  const clock = new ManualClock();
  // The one partition, led here; nothing else exists and nothing is auto-created.
  void partition.becomeLeader(1, { leaderEpoch: 0, partitionEpoch: 0, replicas: [1], isr: [1] }, 0);
  const replicas = {
    image: { topics: new Map([[topic, {}]]) },
    partitionOrError: (name: string, index: number) => (name === topic && index === 0 ? partition : new Error(`no partition ${name}-${index}`)),
  } as unknown as ReplicaManager;
  const controller = { autoCreate: async () => false } as unknown as Controller;
  const handler = produceHandler({ config: brokerConfig(), controller, replicas, clock, logger: silentLogger(), endpoint: { host: '127.0.0.1', port: 0 } });
  const closed: string[] = [];
  let tail: Promise<unknown> = Promise.resolve();
  const ctx: RequestContext = {
    apiVersion: 0,
    clientId: 'test',
    signal: new AbortController().signal,
    logger: silentLogger(),
    session: internalSession(),
    // One connection: ordered steps run one after another, as the connection runs them.
    ordered: (step) => {
      const run = tail.then(step);
      tail = run.catch(() => undefined);
      return run;
    },
    whenWritable: async () => undefined,
    closeConnection: (reason) => closed.push(reason),
    afterResponseWritten: () => undefined,
  };
  return { handle: (request) => handler.handle(ctx, request), closed, clock };
}

t.test('produce waits for room before appending, acks=0 included, and acks=1 gives up at its timeout with nothing appended', async (t) => {
  const disk = new StallableDisk();
  const budget = new PendingBudget({ partitionBytesMax: 1 * MiB, totalBytesMax: 64 * MiB });
  const cfg = config();
  const log = await PartitionLog.open({ dir: DIR, config: cfg, fs: disk, clock: new ManualClock(), pendingBudget: budget });
  const partition = new Partition('stream', 0, log, cfg);
  const rig = produceRig(partition);
  disk.stall();
  const request = (acks: number, i: number): ProduceRequest => ({ acks, timeoutMs: 30_000, topics: [{ name: 'stream', partitions: [{ partition: 0, records: makeBatch(1, 64 * 1024, i) }] }] });
  // acks=0: what nothing waits for. Every request beyond the share stays in flight (so the connection stops being read).
  const inFlight: Promise<unknown>[] = [];
  let done = 0;
  for (let i = 0; i < 100; i++) inFlight.push(rig.handle(request(0, i)).then(() => done++));
  await yieldTimes(10);
  t.ok(done < 40, `${done} of 100 acks=0 requests completed while the disk is stalled; the rest wait in flight`);
  t.ok(log.pendingBytes <= 1 * MiB + 70 * 1024, `pending bytes ${log.pendingBytes} within one request of the 1 MiB share`);
  t.same(rig.closed, [], 'no connection was closed: nothing failed, it waits');

  // acks=1 behind them: its wait for room counts against its timeout; past it, nothing was appended.
  const endBefore = log.logEndOffset;
  const timed = rig.handle({ ...request(1, 500), timeoutMs: 100 });
  await yieldTimes(5);
  rig.clock.advance(101);
  disk.release();
  await Promise.all(inFlight);
  t.equal(done, 100, 'every acks=0 request went through once the disk was back');
  t.same(rig.closed, [], 'none of them failed');
  const response = await timed;
  t.not(response, NO_RESPONSE);
  const result = (response as ProduceResponse).topics[0]!.partitions[0]!;
  t.equal(result.errorCode, Errors.REQUEST_TIMED_OUT.code, `acks=1 past its timeout: REQUEST_TIMED_OUT (${result.errorMessage})`);
  t.match(result.errorMessage, /not appended; retrying is safe/);
  t.ok(endBefore <= 100 && log.logEndOffset === 100, `the log holds the 100 acks=0 records and not the timed-out one (end ${log.logEndOffset})`);
  await log.flush();
  await log.close();
});

/* ----------------------------------------------------------- truncation */

t.test('truncateTo refuses appends from its call until it settles, and cuts pending segments in memory', async (t) => {
  const disk = new StallableDisk();
  const log = await PartitionLog.open({ dir: DIR, config: config({ 'segment.bytes': '2048' }), fs: disk, clock: new ManualClock() });
  disk.stall();
  for (let i = 0; i < 10; i++) log.append(makeBatch(1, 300, i), { leaderEpoch: 0 });
  t.ok(log.segmentCount > 1 && log.pendingBytes > 0, `rolled into pending segments (${log.segmentBaseOffsets().join(', ')})`);
  // A cut among the pending segments: in memory, without waiting for the stalled disk.
  const inMemory = log.truncateTo(7);
  t.notOk(log.appendable, 'not appendable while the truncation is pending');
  t.throws(() => log.append(makeBatch(1, 300, 99), { leaderEpoch: 0 }), InvariantError, 'an append meanwhile is refused');
  await inMemory;
  t.equal(log.logEndOffset, 7, 'the cut happened although the disk is stalled');
  t.ok(log.appendable, 'appendable again once it settled');
  for (let i = 0; i < 5; i++) log.append(makeBatch(1, 300, 100 + i), { leaderEpoch: 0 });
  t.equal(log.logEndOffset, 12, 'appends continue from the cut, no hole');

  // A cut into the segment files, while the disk is stalled: the appends made during the wait are refused, not kept past the cut.
  const intoFiles = log.truncateTo(3);
  t.notOk(log.appendable, 'not appendable while it waits for the disk');
  t.throws(() => log.append(makeBatch(1, 300, 99), { leaderEpoch: 0 }), InvariantError, 'an append during the wait is refused');
  disk.release();
  await intoFiles;
  t.equal(log.logEndOffset, 3, 'truncateTo(3) leaves the log ending at 3');
  t.same(log.segmentBaseOffsets(), [0], 'no pending segment survived it');
  for (let i = 0; i < 3; i++) log.append(makeBatch(1, 300, 200 + i), { leaderEpoch: 0 });
  await log.flush();
  const offsets: number[] = [];
  for (let offset = 0; offset < log.logEndOffset; offset++) offsets.push((await log.read(offset, 1)).records.length);
  t.same(offsets, [1, 1, 1, 1, 1, 1], 'offsets 0-5 each read one batch: no hole');
  await log.close();
});
