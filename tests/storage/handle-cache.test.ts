/**
 * The descriptor cache (broker/storage/handle-cache.ts) on the simulated
 * disk: it keeps to its budget, reads back what was written after any
 * number of closes and reopens, never closes a written file before an
 * fdatasync covers it, poisons a handle whose sync failed, refuses to read
 * a file renamed or replaced under an idle handle (and keeps a kept-open
 * one), survives EMFILE, and the partition logs work behind it with a
 * budget far below their files: appends, reads, rolls, retention,
 * compaction, crashes and recovery, checked record by record.
 */
import t from 'tap';
import { buildBatch } from '../../protocol/batch/builder.js';
import { decodeBatch } from '../../protocol/batch/reader.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem, type FileHandle, type FileSystem, type OpenFlags } from '../../broker/world/file-system.js';
import { seededRng } from '../../broker/world/rng.js';
import { DEFAULT_OVERDRAFT, HandleCache } from '../../broker/storage/handle-cache.js';
import { parseLogConfig } from '../../broker/storage/log-config.js';
import { LogManager } from '../../broker/storage/log-manager.js';
import { segmentFileName } from '../../broker/storage/segment-names.js';
import type { PartitionLog } from '../../broker/storage/partition-log.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function readText(handle: FileHandle): string {
  const out = new Uint8Array(handle.sizeBytes());
  handle.read(out, 0, out.byteLength, 0);
  return text(out);
}

/** Records, per path, the operations that reached the real descriptors underneath the cache. */
class RecordingFileSystem extends SimulatedFileSystem {
  readonly ops: { path: string; op: string; handle: number }[] = [];
  /** Called after every truncate that shrinks a file (an index trimmed at a seal, say). */
  afterShrink: ((filePath: string) => void) | null = null;
  #nextHandle = 1;

  override open(filePath: string, flags: OpenFlags): FileHandle {
    const inner = super.open(filePath, flags);
    const id = this.#nextHandle++;
    const note = (op: string): void => {
      this.ops.push({ path: filePath, op, handle: id });
    };
    note('open');
    return {
      path: inner.path,
      write: (data, position) => { note('write'); inner.write(data, position); },
      read: (target, offset, length, position) => inner.read(target, offset, length, position),
      sizeBytes: () => inner.sizeBytes(),
      truncate: (sizeBytes) => {
        note('write');
        const shrinks = sizeBytes < inner.sizeBytes();
        inner.truncate(sizeBytes);
        if (shrinks) this.afterShrink?.(filePath);
      },
      datasync: async () => { note('datasync-start'); await inner.datasync(); note('datasync-end'); },
      datasyncSync: () => { note('datasync-start'); inner.datasyncSync(); note('datasync-end'); },
      identity: () => inner.identity(),
      keepOpen: () => inner.keepOpen(),
      close: () => { note('close'); inner.close(); },
    };
  }

  /** Descriptors (of paths `which` accepts) closed holding writes that no fdatasync through them covered. */
  closedUnsynced(which: (path: string) => boolean = () => true, fromOp = 0): string[] {
    const written = new Map<number, number>();
    const covered = new Map<number, number>();
    const started = new Map<number, number[]>();
    const closed: string[] = [];
    for (const { op, handle, path } of this.ops.slice(fromOp)) {
      if (op === 'write') written.set(handle, (written.get(handle) ?? 0) + 1);
      if (op === 'datasync-start') started.set(handle, [...(started.get(handle) ?? []), written.get(handle) ?? 0]);
      if (op === 'datasync-end') covered.set(handle, Math.max(covered.get(handle) ?? 0, started.get(handle)?.shift() ?? 0));
      if (op === 'close' && (written.get(handle) ?? 0) > (covered.get(handle) ?? 0) && which(path)) closed.push(path);
    }
    return closed;
  }

  /** fdatasyncs started on paths `which` accepts, from op number `fromOp` on. */
  syncsOf(which: (path: string) => boolean, fromOp = 0): number {
    return this.ops.slice(fromOp).filter((o) => o.op === 'datasync-start' && which(o.path)).length;
  }

  openDescriptors(): number {
    const open = new Set<number>();
    for (const { op, handle } of this.ops) {
      if (op === 'open') open.add(handle);
      if (op === 'close') open.delete(handle);
    }
    return open.size;
  }
}

async function dirOn(fs: FileSystem, dir = '/d'): Promise<void> {
  await fs.mkdirp(dir);
  await fs.fsyncDir('/');
}

t.test('within its budget: idle descriptors close, reopened files read back what was written', async (t) => {
  const disk = new RecordingFileSystem();
  await dirOn(disk);
  const cache = new HandleCache(disk, { budget: 3 });
  const handles: FileHandle[] = [];
  for (let i = 0; i < 10; i++) {
    const handle = cache.open(`/d/f${i}`, 'w+');
    handle.write(bytes(`file ${i}`), 0);
    await handle.datasync();
    handles.push(handle);
    t.ok(disk.openDescriptors() <= 3, `at most 3 descriptors after opening ${i + 1} files (${disk.openDescriptors()})`);
  }
  for (let round = 0; round < 3; round++) {
    for (let i = 9; i >= 0; i--) t.equal(readText(handles[i]!), `file ${i}`, `round ${round}: file ${i} reads back`);
  }
  t.ok(disk.openDescriptors() <= 3, 'still within the budget');
  const stats = cache.stats();
  t.ok(stats.reopens > 0 && stats.evictions > 0, `descriptors were closed and taken again (${stats.reopens} reopens)`);
  t.equal(stats.overBudget, 0, 'clean handles never push the cache over its budget');

  // A w+ file is emptied by its first open only.
  handles[0]!.write(bytes('FILE'), 0);
  for (let i = 1; i < 10; i++) readText(handles[i]!);
  t.equal(readText(handles[0]!), 'FILE 0', 'a reopened w+ file is not emptied again');
  for (const handle of handles) handle.close();
  await new Promise((resolve) => setImmediate(resolve)); // a descriptor still syncing closes when its sync is done
  t.equal(disk.openDescriptors(), 0, 'closing every handle closes every descriptor');
  t.throws(() => handles[3]!.read(new Uint8Array(1), 0, 1, 0), { code: 'EBADF' }, 'a closed handle stays closed');
  await t.rejects(handles[3]!.datasync(), { code: 'EBADF' }, 'and cannot be synced');
});

t.test('a written file is fdatasynced before its descriptor closes; a failed sync poisons the handle', async (t) => {
  const disk = new RecordingFileSystem();
  await dirOn(disk);
  const cache = new HandleCache(disk, { budget: 2 });
  const dirty = cache.open('/d/dirty', 'w+');
  dirty.write(bytes('not synced yet'), 0);
  const others: FileHandle[] = [];
  for (let i = 0; i < 6; i++) {
    const other = cache.open(`/d/other${i}`, 'w+');
    other.read(new Uint8Array(1), 0, 1, 0);
    others.push(other);
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.same(disk.closedUnsynced(), [], 'every descriptor closed underneath was synced after its last write');
  t.ok(disk.ops.some((op) => op.path === '/d/dirty' && op.op === 'close'), 'the written file did give its descriptor back (once synced)');
  t.equal(readText(dirty), 'not synced yet');

  const disk2 = new SimulatedFileSystem();
  await dirOn(disk2);
  const cache2 = new HandleCache(disk2, { budget: 1 });
  const victim = cache2.open('/d/victim', 'w+');
  victim.write(bytes('x'), 0);
  disk2.injectFault('datasync', '/d/victim');
  const pusher = cache2.open('/d/pusher', 'w+'); // over budget: the victim is synced to be closed, and that sync fails
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  pusher.close();
  await t.rejects(victim.datasync(), { code: 'EIO' }, 'the owner\'s next sync reports the failure the eviction met');
  t.throws(() => victim.write(bytes('y'), 1), { code: 'EIO' }, 'and the handle takes no more writes');
  t.equal(readText(victim), 'x', 'reads still work');
  victim.close();
});

t.test('a file renamed or replaced under an idle handle fails loudly; keepOpen holds it; crashes; EMFILE', async (t) => {
  const disk = new SimulatedFileSystem();
  await dirOn(disk);
  const cache = new HandleCache(disk, { budget: 1 });
  const moved = cache.open('/d/moved', 'w+');
  moved.write(bytes('old file'), 0);
  await moved.datasync();
  const kept = cache.open('/d/kept', 'w+');
  kept.write(bytes('kept file'), 0);
  await kept.datasync();
  kept.keepOpen();
  const pusher = cache.open('/d/pusher', 'w+');
  pusher.close();
  await disk.rename('/d/moved', '/d/moved.deleted');
  t.throws(() => moved.read(new Uint8Array(1), 0, 1, 0), { code: 'ENOENT' }, 'renamed away: the reopen finds nothing');
  const replacement = disk.open('/d/moved', 'w+');
  replacement.write(bytes('NEW FILE'), 0);
  replacement.close();
  t.throws(() => moved.read(new Uint8Array(1), 0, 1, 0), { code: 'ESTALE' }, 'replaced: never reads the new file in place of the old');
  await disk.rename('/d/kept', '/d/kept.deleted');
  t.equal(readText(kept), 'kept file', 'a kept handle still reads its file after the rename');
  t.equal(cache.stats().open, 1, 'a kept handle keeps its descriptor');
  kept.close();
  moved.close();

  const sync = cache.open('/d/synced', 'w+');
  sync.write(bytes('durable'), 0);
  await sync.datasync();
  await disk.fsyncDir('/d');
  cache.open('/d/pusher', 'r').close(); // closes sync's descriptor
  disk.crash();
  t.throws(() => sync.read(new Uint8Array(1), 0, 1, 0), { code: 'ESTALE' }, 'after a crash an old handle is dead, as a dead process\'s descriptor');
  sync.close();

  const lru = new HandleCache(disk, { budget: 100 });
  const idle = lru.open('/d/synced', 'r');
  t.equal(lru.stats().open, 1);
  disk.injectFault('open', '/d/pusher', 1, { code: 'EMFILE' });
  const opened = lru.open('/d/pusher', 'r');
  t.equal(lru.stats().open, 1, 'EMFILE: the idle descriptor was closed and the open tried again');
  t.equal(readText(idle), 'durable', 'the closed one reopens on use');
  opened.close();
  idle.close();
  disk.injectFault('open', '/d/pusher', 2, { code: 'EMFILE' });
  t.throws(() => lru.open('/d/pusher', 'r'), { code: 'EMFILE' }, 'with nothing left to close, EMFILE is the caller\'s');
});

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** `count` files `/d/<prefix><i>` opened through `cache`, each holding `<prefix> <i>`; fdatasynced when `synced`. */
async function writtenFiles(cache: FileSystem, prefix: string, count: number, synced: boolean): Promise<FileHandle[]> {
  const handles: FileHandle[] = [];
  for (let i = 0; i < count; i++) {
    const handle = cache.open(`/d/${prefix}${i}`, 'w+');
    handle.write(bytes(`${prefix} ${i}`), 0);
    if (synced) await handle.datasync();
    handles.push(handle);
  }
  return handles;
}

t.test('EMFILE closes clean files only: written ones are synced in the background, one on the event loop only if nothing clean is left', async (t) => {
  const disk = new RecordingFileSystem();
  await dirOn(disk);
  const cache = new HandleCache(disk, { budget: 1000 });
  const clean = await writtenFiles(cache, 'clean', 20, true);
  const written = await writtenFiles(cache, 'written', 200, false); // fsync=interval: not synced yet
  disk.injectFault('open', '/d/new', 1, { code: 'EMFILE' });
  cache.open('/d/new', 'w+').close();
  t.equal(cache.stats().blockingSyncs, 0, 'no fdatasync on the event loop while clean files could be closed');
  t.equal(cache.stats().open, 200, 'the 20 clean files gave their descriptors back');
  t.ok(cache.stats().backgroundSyncs > 0, `written files are synced in the background (${cache.stats().backgroundSyncs}) so that they can close`);
  for (let i = 0; i < 3; i++) await tick();
  t.ok(cache.stats().open < 200, `and they close once synced (${cache.stats().open} open)`);
  t.same(disk.closedUnsynced(), [], 'no written file lost its descriptor before an fdatasync covered it');

  // Nothing clean at all: one file, the least recently used, is synced on the spot; not every written one.
  const disk2 = new RecordingFileSystem();
  await dirOn(disk2);
  const cache2 = new HandleCache(disk2, { budget: 1000 });
  const dirty = await writtenFiles(cache2, 'f', 200, false);
  disk2.injectFault('open', '/d/new', 1, { code: 'EMFILE' });
  cache2.open('/d/new', 'w+').close();
  t.equal(cache2.stats().blockingSyncs, 1, 'one fdatasync on the event loop, for one descriptor');
  t.same(disk2.closedUnsynced(), []);
  for (let i = 0; i < 200; i += 37) t.equal(readText(dirty[i]!), `f ${i}`);
  for (const handle of [...clean, ...written, ...dirty]) handle.close();
});

t.test('a derived file closes without a sync; turned back, its unsynced writes are synced before its descriptor closes', async (t) => {
  const disk = new RecordingFileSystem();
  await dirOn(disk);
  const cache = new HandleCache(disk, { budget: 2, cleanReserve: 0 });
  const derived = cache.open('/d/derived', 'w+');
  derived.setDerived!(true);
  derived.write(bytes('entries'), 0);
  const a = cache.open('/d/a', 'w+');
  const from = disk.ops.length;
  const b = cache.open('/d/b', 'w+'); // the budget is full: the derived file is the least recently used
  t.same(disk.closedUnsynced(() => true, 0), ['/d/derived'], 'the derived file gave its descriptor back with no fdatasync');
  t.equal(disk.syncsOf(() => true, from), 0, 'and nothing was synced for it');
  t.equal(readText(derived), 'entries', 'it reads back after the reopen');
  a.close();
  b.close();

  const sealed = cache.open('/d/sealed', 'w+');
  sealed.setDerived!(true);
  sealed.write(bytes('entries'), 0);
  sealed.setDerived!(false); // the owner will make it durable: what is unsynced counts again
  sealed.write(bytes('+final'), 7);
  const before = disk.ops.length;
  const c = cache.open('/d/c', 'w+');
  c.write(bytes('c'), 0);
  const d = cache.open('/d/d', 'w+'); // nothing clean to close: both written files are synced, then closed
  for (let i = 0; i < 3; i++) await tick();
  t.ok(disk.ops.slice(before).some((o) => o.path === '/d/sealed' && o.op === 'close'), 'the file no longer derived gave its descriptor back');
  t.same(disk.closedUnsynced((p) => p === '/d/sealed', before), [], 'but only once an fdatasync covered its writes, derived ones included');
  t.equal(readText(sealed), 'entries+final');
  for (const handle of [derived, sealed, c, d]) handle.close();
});

t.test('active index files never cost an fdatasync to close; a sealed one is synced before it closes', async (t) => {
  const disk = new RecordingFileSystem();
  const cache = new HandleCache(disk, { budget: 60 });
  const clock = new ManualClock();
  const steady = parseLogConfig({ fsync: 'interval', 'flush.ms': '9223372036854775807', 'flush.messages': '9223372036854775807' });
  const logs: PartitionLog[] = [];
  const manager = await LogManager.open({ dataDir: '/data', fs: cache, clock, configFor: () => steady, recoveryThreads: 0 });
  for (let p = 0; p < 60; p++) logs.push(await manager.create('t', p, steady));
  const from = disk.ops.length;
  for (let round = 0; round < 20; round++) {
    for (const [p, log] of logs.entries()) log.append(batchOf(p, round, 1, clock.nowMs()), { leaderEpoch: 0 });
    for (const log of logs) await log.flush(); // every log durable before the next round evicts its files
  }
  const isIndex = (p: string): boolean => p.endsWith('.index') || p.endsWith('.timeindex');
  t.equal(disk.syncsOf(isIndex, from), 0, 'no index file of an active segment was fdatasynced to close it');
  t.equal(cache.stats().blockingSyncs, 0, 'no fdatasync on the event loop: every log was flushed before each round');
  t.ok(cache.stats().evictions > 100, `the files did take turns at the budget (${cache.stats().evictions} closed)`);
  t.same(disk.closedUnsynced((p) => p.endsWith('.log'), from), [], 'no written .log closed before an fdatasync covered it');
  await manager.close();

  // A roll seals the old segment's indexes (final time entry, trimmed files), which the next flush round syncs on
  // purpose: from the seal on they are synced before their descriptors close. The window: a roll that waited for
  // the old segment to be durable seals it at the end of one flush round, and the next round syncs it.
  const rolling = parseLogConfig({ 'segment.bytes': '1024', 'index.interval.bytes': '64', fsync: 'interval', 'flush.ms': '9223372036854775807', 'flush.messages': '9223372036854775807' });
  const disk2 = new RecordingFileSystem();
  const cache2 = new HandleCache(disk2, { budget: 16, cleanReserve: 0 });
  const manager2 = await LogManager.open({ dataDir: '/data', fs: cache2, clock, configFor: () => rolling, recoveryThreads: 0 });
  const log = await manager2.create('r', 0, rolling);
  const others: FileHandle[] = [];
  for (let i = 0; i < 40; i++) others.push(cache2.open(`/data/other${i}`, 'w+'));
  const sealed: string[] = [];
  disk2.afterShrink = (filePath) => {
    if (!filePath.endsWith('.timeindex')) return;
    // The seal trimmed this segment's offset index, then its time index: every idle descriptor is taken now.
    const offsetIndex = filePath.replace('.timeindex', '.index');
    const trimmed = disk2.ops.findLastIndex((o) => o.path === offsetIndex && o.op === 'write');
    for (const other of others) other.read(new Uint8Array(1), 0, 1, 0);
    const violations = disk2.closedUnsynced((p) => p === offsetIndex, trimmed);
    if (violations.length > 0) t.fail(`a sealed index closed before an fdatasync covered its final writes: ${violations.join(', ')}`);
    sealed.push(offsetIndex);
  };
  for (let i = 0; i < 30; i++) {
    log.append(batchOf(0, i, 3, clock.nowMs()), { leaderEpoch: 0 });
    await log.flush(); // a pending roll is sealed and written here
  }
  disk2.afterShrink = null;
  t.ok(sealed.length >= 3, `${sealed.length} seals checked`);
  for (const other of others) other.close();
  await manager2.close();
});

t.test('steady writes to more files than the budget: syncs run ahead, the event loop never waits for the disk', async (t) => {
  const disk = new RecordingFileSystem();
  await dirOn(disk);
  const cache = new HandleCache(disk, { budget: 64 });
  const files: FileHandle[] = [];
  for (let i = 0; i < 160; i++) files.push(cache.open(`/d/f${i}`, 'w+'));
  // Requests that each write 16 files (a Produce to 16 partitions, fsync=interval), one per turn of the event loop.
  let next = 0;
  for (let request = 0; request < 200; request++) {
    for (let k = 0; k < 16; k++) {
      files[next]!.write(bytes(`r${request}`), 0);
      next = (next + 1) % files.length;
    }
    await tick();
  }
  const stats = cache.stats();
  t.equal(stats.blockingSyncs, 0, `no fdatasync on the event loop (${stats.backgroundSyncs} in the background, ${stats.evictions} closed)`);
  t.equal(stats.overBudget, 0, 'and no open past the budget: the least recently used files were clean when needed');
  t.same(disk.closedUnsynced(), [], 'every file closed was synced after its last write');

  // A burst past the clean reserve plus the overdraft in one turn: the event loop waits, descriptors stay bounded.
  let mostOpen = 0;
  for (let k = 0; k < 120; k++) {
    files[next]!.write(bytes('burst'), 0);
    next = (next + 1) % files.length;
    mostOpen = Math.max(mostOpen, disk.openDescriptors());
  }
  t.ok(mostOpen <= 64 + 8, `descriptors stay within the budget plus the overdraft (at most ${mostOpen})`);
  t.ok(cache.stats().blockingSyncs > 0, `a burst of 120 files in one turn is what syncs on the event loop (${cache.stats().blockingSyncs})`);
  t.same(disk.closedUnsynced(), []);
  for (const file of files) file.close();
});

/**
 * fdatasyncs that end only when the test lets them: a slow disk, or an event
 * loop too busy to hear of them; counts the descriptors open at once.
 */
class SlowSyncFileSystem extends RecordingFileSystem {
  readonly #waiting: (() => void)[] = [];
  #open = 0;
  mostOpen = 0;

  override open(filePath: string, flags: OpenFlags): FileHandle {
    const handle = super.open(filePath, flags);
    this.mostOpen = Math.max(this.mostOpen, ++this.#open);
    return {
      ...handle,
      datasync: async () => {
        await new Promise<void>((resolve) => this.#waiting.push(resolve));
        await handle.datasync();
      },
      close: () => {
        this.#open -= 1;
        handle.close();
      },
    };
  }

  get syncsWaiting(): number {
    return this.#waiting.length;
  }

  /** Lets the `count` fdatasyncs that have waited longest run. */
  finishSyncs(count: number): void {
    for (const resolve of this.#waiting.splice(0, count)) resolve();
  }
}

t.test('fdatasyncs slower than the writes: descriptors they hold count, the cache never passes its budget plus the overdraft', async (t) => {
  const disk = new SlowSyncFileSystem();
  await dirOn(disk);
  const budget = 12;
  const cache = new HandleCache(disk, { budget });
  const files = Array.from({ length: 40 }, (_v, i) => cache.open(`/d/f${i}`, 'w+'));
  const flushes: Promise<void>[] = [];
  // Each round: a Produce to every partition, then every partition's flush timer fires at once (a late event loop),
  // and the disk finishes four fdatasyncs a turn (a thread pool of four); the next round writes before they all end.
  for (let round = 0; round < 4; round++) {
    for (const [i, file] of files.entries()) file.write(bytes(`r${round} f${i}`), 0);
    for (const file of files) flushes.push(file.datasync());
    for (let turn = 0; turn < 3; turn++) {
      await tick();
      disk.finishSyncs(4);
    }
  }
  let settled = false;
  void Promise.all(flushes).then(() => (settled = true), () => (settled = true));
  for (let turn = 0; turn < 500 && !settled; turn++) {
    disk.finishSyncs(4);
    await tick();
  }
  await t.resolves(Promise.all(flushes), 'every flush ends, and succeeds');
  const limit = budget + DEFAULT_OVERDRAFT;
  t.ok(disk.mostOpen <= limit, `at most ${limit} descriptors at once, syncs in flight included (${disk.mostOpen})`);
  t.equal(cache.stats().peak, disk.mostOpen, 'the cache counts what it holds: its peak is what the disk saw');
  t.same(disk.closedUnsynced(), [], 'every file closed was synced after its last write');
  t.same(files.map((file) => readText(file)), files.map((_f, i) => `r3 f${i}`), 'every file reads back its last write');
  for (const file of files) file.close();
  t.equal(cache.stats().open, 0);
});

t.test('a flush of a file whose descriptor closed after its last write was synced takes no descriptor and no fdatasync', async (t) => {
  const disk = new RecordingFileSystem();
  await dirOn(disk);
  const cache = new HandleCache(disk, { budget: 2, cleanReserve: 0 });
  const a = cache.open('/d/a', 'w+');
  a.write(bytes('a'), 0);
  await a.datasync();
  const others = [cache.open('/d/b', 'w+'), cache.open('/d/c', 'w+')]; // a, the least recently used, gives its descriptor back
  t.equal(cache.stats().evictions, 1);
  const from = disk.ops.length;
  await a.datasync();
  t.same(disk.ops.slice(from), [], 'nothing reaches the disk: every write through the closed descriptor was synced before it closed');
  const written = disk.ops.length;
  a.write(bytes('A'), 0);
  await a.datasync();
  t.equal(disk.syncsOf((p) => p === '/d/a', written), 1, 'once written again, a flush syncs it');
  t.equal(readText(a), 'A');
  for (const handle of [a, ...others]) handle.close();
});

const config = parseLogConfig({ 'segment.bytes': '2048', 'fsync': 'interval', 'flush.messages': '7', 'retention.bytes': '16384' });

function batchOf(partition: number, first: number, count: number, nowMs: number): Uint8Array {
  return buildBatch(Array.from({ length: count }, (_v, i) => ({ key: null, value: bytes(`p${partition}-r${first + i}-${'x'.repeat((first + i) % 50)}`), timestamp: nowMs })), { nowMs });
}

async function readValues(log: PartitionLog): Promise<{ offset: number; value: string }[]> {
  const out: { offset: number; value: string }[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { records } = await log.read(offset, 4096);
    if (records.length === 0) break;
    for (const batch of records) {
      for (const record of decodeBatch(batch).records) {
        out.push({ offset: record.offset, value: text(record.value!) });
        offset = record.offset + 1;
      }
    }
  }
  return out;
}

t.test('40 partitions behind a budget of 12 descriptors: appends, reads, rolls, retention, crashes, recovery', async (t) => {
  const disk = new SimulatedFileSystem();
  const clock = new ManualClock();
  const rng = seededRng(42);
  const PARTITIONS = 40;
  const open = (): Promise<LogManager> => LogManager.open({ dataDir: '/data', fs: disk, clock, configFor: () => config, recoveryThreads: 0, openFilesMax: 12 });
  let manager = await open();
  /** What each partition must hold after a crash: everything flushed (its durable end). */
  const written: { first: number; next: number }[] = Array.from({ length: PARTITIONS }, () => ({ first: 0, next: 0 }));
  for (let p = 0; p < PARTITIONS; p++) await manager.create('t', p, config);

  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 600; i++) {
      const p = rng.int(PARTITIONS);
      const log = manager.get('t', p)!;
      const count = 1 + rng.int(4);
      log.append(batchOf(p, written[p]!.next, count, clock.nowMs()), { leaderEpoch: 0 });
      written[p]!.next += count;
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      if (i % 97 === 0) {
        const q = manager.get('t', rng.int(PARTITIONS))!;
        if (q.logEndOffset > q.logStartOffset) await q.read(q.logStartOffset + rng.int(q.logEndOffset - q.logStartOffset), 1024);
      }
    }
    await manager.runRetention();
    for (let p = 0; p < PARTITIONS; p++) {
      const log = manager.get('t', p)!;
      await log.flush();
      written[p]!.first = log.logStartOffset;
      const values = await readValues(log);
      const expected = Array.from({ length: written[p]!.next - written[p]!.first }, (_v, i) => written[p]!.first + i);
      if (JSON.stringify(values.map((v) => v.offset)) !== JSON.stringify(expected)) t.fail(`round ${round}: partition ${p} offsets differ`);
      const wrong = values.filter((v) => !v.value.startsWith(`p${p}-r${v.offset}-`));
      if (wrong.length > 0) t.fail(`round ${round}: partition ${p} has records that are not its own: ${JSON.stringify(wrong.slice(0, 2))}`);
    }
    const stats = manager.descriptorStats()!;
    t.ok(stats.reopens > 0, `round ${round}: files were closed and reopened (${stats.reopens} reopens, ${stats.evictions} closed)`);
    t.ok(stats.open <= 12 + 8, `round ${round}: descriptors near the budget once synced (${stats.open})`);
    if (round === 1) {
      disk.crash({ rng });
      manager = await open();
    } else {
      await manager.close();
      manager = await open();
    }
    for (let p = 0; p < PARTITIONS; p++) {
      const log = manager.get('t', p);
      if (log === undefined) {
        t.fail(`partition ${p} did not reopen`);
        continue;
      }
      t.equal(log.logEndOffset, written[p]!.next, `round ${round}: partition ${p} ends where its flushed data ends`);
    }
  }
  await manager.close();
  t.equal(manager.descriptorStats()!.open, 0, 'close gives every descriptor back');
});
