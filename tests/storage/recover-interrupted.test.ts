/**
 * `runnel recover --execute` interrupted part way, as an operator meets it:
 * real files and the built CLI. The run is cut short between two moves of
 * later segments (a rename that fails stands in for a kill there), then:
 *
 * - the partition holds a prefix of its log (the newest segment went first)
 *   and the cut-in-progress marker;
 * - `runnel recover DIR` says a cut was interrupted and how to finish it
 *   (exit 2: the partition is not usable yet); another cut is refused;
 * - the same `--truncate-at N --execute` finishes it, into the same
 *   set-aside directory, and the log ends at the cut.
 */
import t from 'tap';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../../broker/world/clock.js';
import { realFileSystem, type FileSystem } from '../../broker/world/file-system.js';
import { parseLogConfig } from '../../broker/storage/log-config.js';
import { executeCut, inspectPartition, planCut } from '../../broker/storage/log-surgery.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { CUT_IN_PROGRESS_FILE } from '../../broker/storage/segment-names.js';
import { runCliProcess } from '../support/cli-process.js';
import { makeBatch } from '../support/storage-fixtures.js';

const config = parseLogConfig({ 'segment.bytes': '4096', fsync: 'always' });

/** The real file system, except that renaming `name` fails: the process died there. */
function killedAtRenameOf(name: string): FileSystem {
  return {
    ...realFileSystem,
    rename: async (from, to) => {
      if (path.basename(from) === name) throw Object.assign(new Error(`killed before renaming ${from}`), { code: 'EKILLED' });
      await realFileSystem.rename(from, to);
    },
  };
}

t.test('an interrupted cut: reported, refusing another cut, finished by the same command', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'runnel-recover-interrupted-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const dir = path.join(dataDir, 'orders-0');
  const log = await PartitionLog.open({ dir, config, fs: realFileSystem, clock: systemClock });
  for (let i = 0; i < 40; i++) log.append(makeBatch(1, 300, 1000 + i), { leaderEpoch: 0 });
  await log.flush();
  await log.close();

  const inspection = await inspectPartition(realFileSystem, dir);
  const plan = planCut(realFileSystem, inspection, 5);
  const later = plan.laterSegments.map((s) => s.name);
  t.ok(later.length >= 3, `${later.length} later segments to move`);
  const killed = await executeCut(killedAtRenameOf(later.at(-2)!), inspection, plan, Date.now()).catch((err: unknown) => err);
  t.match(killed, { code: 'EKILLED' }, 'the first run dies between two moves');
  const logs = (): string[] => readdirSync(dir).filter((name) => name.endsWith('.log')).sort();
  t.same(logs(), [plan.cutSegment.name, ...later.slice(0, -1)], 'the newest segment went first: the partition holds a prefix of its log');
  t.ok(readdirSync(dir).includes(CUT_IN_PROGRESS_FILE), 'and the cut-in-progress marker');

  const report = await runCliProcess(['recover', dir]);
  t.equal(report.code, 2, 'the report exits 2: the partition is not usable yet');
  t.match(report.stdout, `a cut at offset 5 (\`runnel recover --execute\`) was interrupted. The broker keeps the partition offline until it is finished`);
  t.match(report.stdout, `runnel recover ${dir} --truncate-at 5 --execute`, 'and gives the command that finishes it');

  const other = await runCliProcess(['recover', dir, '--truncate-at', '3', '--execute']);
  t.equal(other.code, 1, 'another cut is refused');
  t.match(other.stderr, `a cut of this log at offset 5 was interrupted; finish it first: runnel recover ${dir} --truncate-at 5 --execute`);

  const finished = await runCliProcess(['recover', dir, '--truncate-at', '5', '--execute']);
  t.equal(finished.code, 0, finished.stderr);
  t.match(finished.stdout, 'Finished the interrupted cut at offset 5: the log keeps offsets 0 to 4 and ends at offset 5.');
  t.same(readdirSync(dataDir).filter((name) => name.includes('.set-aside-')).length, 1, 'into the set-aside directory the first run began');
  t.same(logs(), [plan.cutSegment.name]);
  t.notOk(readdirSync(dir).includes(CUT_IN_PROGRESS_FILE), 'the marker is gone');
  const reopened = await PartitionLog.open({ dir, config, fs: realFileSystem, clock: systemClock });
  t.equal(reopened.logEndOffset, 5, 'the log ends at the cut');
  await reopened.close();
});
