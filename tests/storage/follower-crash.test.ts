/**
 * Power loss while a follower truncates its divergent tail and fetches the
 * leader's log again. The follower's disk is cut at every file operation of
 * that sequence in turn (the truncation's each step, the appends, rolls,
 * flushes and state files that follow), keeping a random prefix of what
 * was written and not synced. After each cut the reopened follower must
 * hold a log that is a prefix of what it held before the truncation, or of
 * the leader's log (only the latter once the truncation had resolved),
 * keep everything a flush acknowledged, have an epoch cache that says what
 * its batches say, and catch up with the leader by the same protocol.
 * Deterministic: seeded, ManualClock, SimulatedFileSystem.
 */
import t from 'tap';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem, type FileHandle, type OpenFlags } from '../../broker/world/file-system.js';
import { seededRng, type Rng } from '../../broker/world/rng.js';
import { parseLogConfig } from '../../broker/storage/log-config.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { makeBatch } from '../support/storage-fixtures.js';
import { ProcessDisk } from '../support/process-disk.js';
import { allBatches, concat, epochsOf, lastOffsetOf, replicate, truncateDivergentTail } from '../support/follower-sync.js';

const SEEDS = [1, 2, 3];
/** Crash points tried per seed, spread evenly (every operation when the sequence has fewer). */
const MAX_CRASH_POINTS = 300;
const config = parseLogConfig({ 'segment.bytes': '1024', 'segment.index.bytes': '4096', 'index.interval.bytes': '256', 'flush.ms': '9223372036854775807' });

/** A process's disk that loses power at its `crashAt`-th mutating file operation (write, truncate, fdatasync, rename, ...). */
class StepCrashDisk extends ProcessDisk {
  steps = 0;
  crashAt = Number.POSITIVE_INFINITY;
  constructor(
    readonly sim: SimulatedFileSystem,
    private readonly lossRng: Rng,
  ) {
    super(sim);
  }

  #step(op: string): void {
    this.steps += 1;
    if (this.steps !== this.crashAt) return;
    this.sim.crash({ rng: this.lossRng });
    this.die();
    throw Object.assign(new Error(`EIO: power lost at ${op}`), { code: 'EIO' });
  }

  override open(filePath: string, flags: OpenFlags): FileHandle {
    if (flags !== 'r') this.#step('open');
    const handle = super.open(filePath, flags);
    return {
      ...handle,
      write: (data, position) => {
        this.#step('write');
        handle.write(data, position);
      },
      truncate: (sizeBytes) => {
        this.#step('ftruncate');
        handle.truncate(sizeBytes);
      },
      datasync: async () => {
        this.#step('fdatasync');
        await handle.datasync();
      },
    };
  }

  override rename(from: string, to: string): Promise<void> {
    this.#step('rename');
    return super.rename(from, to);
  }
  override unlink(filePath: string): Promise<void> {
    this.#step('unlink');
    return super.unlink(filePath);
  }
  override fsyncDir(dir: string): Promise<void> {
    this.#step('fsyncDir');
    return super.fsyncDir(dir);
  }
  override writeFileAtomic(filePath: string, data: Uint8Array): Promise<void> {
    this.#step('writeFileAtomic');
    return super.writeFileAtomic(filePath, data);
  }
}

interface Scenario {
  leader: PartitionLog;
  follower: PartitionLog;
  disk: StepCrashDisk;
  clock: ManualClock;
  /** What the follower held before the truncation, and the leader's log. */
  before: Uint8Array[];
  leaderBatches: Uint8Array[];
}

/** Leader and follower agree on epoch 0; the follower then led epoch 1 alone; the leader led epochs 2 and 4. */
async function setUp(seed: number, crashAt: number): Promise<Scenario> {
  const rng = seededRng(seed);
  const clock = new ManualClock(1_000_000);
  const leader = await PartitionLog.open({ dir: '/l/t-0', config, fs: new SimulatedFileSystem(), clock });
  const disk = new StepCrashDisk(new SimulatedFileSystem(), seededRng(seed * 7919 + crashAt));
  const follower = await PartitionLog.open({ dir: '/f/t-0', config, fs: disk, clock });
  const appendTo = (log: PartitionLog, count: number, epoch: number): void => {
    for (let i = 0; i < count; i++) {
      clock.advance(1);
      log.append(makeBatch(1 + rng.int(3), 20 + rng.int(150), clock.nowMs()), { leaderEpoch: epoch });
    }
  };
  appendTo(leader, 10 + rng.int(10), 0);
  await replicate(leader, follower);
  await follower.flush();
  await follower.beginLeaderEpoch(1);
  for (let i = 0, n = 4 + rng.int(10); i < n; i++) {
    appendTo(follower, 1, 1);
    if (rng.int(4) === 0) await follower.flush();
  }
  await leader.beginLeaderEpoch(2);
  appendTo(leader, 5 + rng.int(10), 2);
  await leader.beginLeaderEpoch(4);
  appendTo(leader, 5 + rng.int(10), 4);
  const before = await allBatches(follower);
  const leaderBatches = await allBatches(leader);
  disk.steps = 0;
  disk.crashAt = crashAt;
  return { leader, follower, disk, clock, before, leaderBatches };
}

interface Progress {
  truncating: boolean;
  truncated: boolean;
  /** Every offset below it was acknowledged durable (by the truncation or a flush) since the truncation resolved. */
  acknowledged: number;
}

/** The follower's side: truncate, then fetch in random slices, flushing now and then. */
async function follow(s: Scenario, seed: number, progress: Progress): Promise<void> {
  const rng = seededRng(seed + 1000);
  progress.truncating = true;
  await truncateDivergentTail(s.leader, s.follower);
  progress.truncated = true;
  progress.acknowledged = s.follower.durableEndOffset;
  for (let round = 0; round < 1000 && s.follower.logEndOffset < s.leader.logEndOffset; round++) {
    const fetched = await s.leader.read(s.follower.logEndOffset, 1 + rng.int(1500));
    if (!s.follower.appendable) await s.follower.waitAppendable();
    s.follower.appendAsFollower(concat(fetched.records));
    if (rng.int(3) === 0) {
      await s.follower.flush();
      progress.acknowledged = s.follower.logEndOffset;
    }
  }
  await s.follower.flush();
  progress.acknowledged = s.follower.logEndOffset;
}

function isPrefix(batches: readonly Uint8Array[], of: readonly Uint8Array[]): boolean {
  return batches.length <= of.length && batches.every((batch, i) => Buffer.compare(Buffer.from(batch), Buffer.from(of[i] as Uint8Array)) === 0);
}

for (const seed of SEEDS) {
  t.test(`seed ${seed}: power lost at each file operation of a follower's truncation and catch-up`, async (t) => {
    // A run without a crash counts the operations and checks the sequence itself.
    const dry = await setUp(seed, Number.POSITIVE_INFINITY);
    t.ok(dry.before.length > 0 && !isPrefix(dry.before, dry.leaderBatches), 'the follower has a divergent tail');
    await follow(dry, seed, { truncating: false, truncated: false, acknowledged: 0 });
    t.same((await allBatches(dry.follower)).map((b) => Buffer.from(b)), dry.leaderBatches.map((b) => Buffer.from(b)), 'without a crash the follower ends with the leader\'s log');
    const total = dry.disk.steps;
    const points: number[] = [];
    for (let i = 0; i < Math.min(total, MAX_CRASH_POINTS); i++) points.push(1 + Math.floor((i * total) / Math.min(total, MAX_CRASH_POINTS)));
    let inTruncation = 0;
    const failures: string[] = [];
    for (const crashAt of points) {
      const s = await setUp(seed, crashAt);
      const progress: Progress = { truncating: false, truncated: false, acknowledged: 0 };
      await follow(s, seed, progress).catch(() => undefined);
      if (progress.truncating && !progress.truncated) inTruncation += 1;
      const reopened = await PartitionLog.open({ dir: '/f/t-0', config, fs: s.disk.sim, clock: s.clock });
      const recovered = await allBatches(reopened);
      const end = recovered.length === 0 ? 0 : lastOffsetOf(recovered.at(-1) as Uint8Array) + 1;
      const problems: string[] = [];
      if (progress.truncated ? !isPrefix(recovered, s.leaderBatches) : !isPrefix(recovered, s.before) && !isPrefix(recovered, s.leaderBatches)) {
        problems.push(`the log is not a prefix of ${progress.truncated ? 'the leader\'s log (the truncation had resolved)' : 'the old log or the leader\'s'}`);
      }
      if (reopened.logEndOffset !== end) problems.push(`log end ${reopened.logEndOffset} but its batches end at ${end}`);
      if (progress.truncated && end < progress.acknowledged) problems.push(`lost acknowledged offsets: ends at ${end}, ${progress.acknowledged} were durable`);
      if (JSON.stringify(reopened.epochEntries()) !== JSON.stringify(epochsOf(recovered))) {
        problems.push(`epoch cache ${JSON.stringify(reopened.epochEntries())} but the batches say ${JSON.stringify(epochsOf(recovered))}`);
      }
      // The same protocol brings it to the leader's log.
      await truncateDivergentTail(s.leader, reopened);
      await replicate(s.leader, reopened);
      const caughtUp = await allBatches(reopened);
      if (!isPrefix(caughtUp, s.leaderBatches) || caughtUp.length !== s.leaderBatches.length) problems.push('did not catch up with the leader byte for byte');
      if (JSON.stringify(reopened.epochEntries()) !== JSON.stringify(s.leader.epochEntries())) problems.push('epoch cache differs from the leader\'s after catching up');
      await reopened.close();
      await s.leader.close();
      if (problems.length > 0) failures.push(`crash at operation ${crashAt}/${total}: ${problems.join('; ')}`);
    }
    t.ok(inTruncation > 0, `${inTruncation} of ${points.length} crash points fell inside the truncation`);
    t.same(failures, [], `${points.length} crash points over ${total} file operations: each recovered to a prefix with consistent epochs and caught up`);
  });
}
