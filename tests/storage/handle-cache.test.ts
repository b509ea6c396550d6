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
import { HandleCache } from '../../broker/storage/handle-cache.js';
import { parseLogConfig } from '../../broker/storage/log-config.js';
import { LogManager } from '../../broker/storage/log-manager.js';
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
      truncate: (sizeBytes) => { note('write'); inner.truncate(sizeBytes); },
      datasync: async () => { note('datasync-start'); await inner.datasync(); note('datasync-end'); },
      datasyncSync: () => { note('datasync-start'); inner.datasyncSync(); note('datasync-end'); },
      identity: () => inner.identity(),
      keepOpen: () => inner.keepOpen(),
      close: () => { note('close'); inner.close(); },
    };
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
  // Every descriptor closed underneath was synced after its last write (the invariant, per file).
  const lastWrite = new Map<number, number>();
  const syncedAfter = new Map<number, boolean>();
  for (const [i, { op, handle }] of disk.ops.entries()) {
    if (op === 'write') {
      lastWrite.set(handle, i);
      syncedAfter.set(handle, false);
    }
    if (op === 'datasync-end' && lastWrite.has(handle)) syncedAfter.set(handle, true);
    if (op === 'close' && syncedAfter.get(handle) === false) t.fail(`descriptor ${handle} of ${disk.ops[i]!.path} closed with writes no fdatasync covered`);
  }
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
