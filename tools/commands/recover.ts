/**
 * `runnel recover PARTITION_DIR`: the way out for a partition the broker
 * took offline as corrupt (it answers CORRUPT_SEGMENT and deletes nothing).
 * With the broker stopped:
 *
 * - no options: reports the first damage (file, byte position), where the
 *   good part of the log ends, and what lies after the damage, and says
 *   which `--truncate-at` to use (exit 2 when damaged, 0 when sound);
 * - `--truncate-at OFFSET`: a dry run of cutting the log there: what stays,
 *   how many records, batches and bytes would be set aside, and where;
 * - `--truncate-at OFFSET --execute`: does it. What it removes is moved into
 *   a directory next to the partition, never deleted. If that run is
 *   interrupted, the broker keeps the partition offline; the same command
 *   again finishes the cut (and without `--execute` says so, exit 2).
 *
 * The storage work is in broker/storage/log-surgery.ts, reached through
 * broker/recover.ts, the one broker module this command imports (loaded only
 * when it runs, as `start` loads the broker).
 */
import { Command } from 'commander';
import { basename, dirname, join } from 'node:path';
import type { CutDone, CutInProgress, CutPlan, PartitionInspection, RecoverOutcome } from '../../broker/recover.js';
import { CliError } from '../cli-error.js';
import { intOption, withJson } from '../options.js';
import { printJson, printLine } from '../output.js';

/** Exit status of a report that found damage (as `dump-log`'s). */
export const RECOVER_DAMAGED_EXIT_CODE = 2;

interface RecoverOptions {
  truncateAt?: number;
  execute?: boolean;
  json?: boolean;
}

export function recoverCommand(): Command {
  return withJson(
    new Command('recover')
      .description('with the broker stopped: find the damage in a partition taken offline as corrupt, and cut its log at the last good batch, setting aside (never deleting) what follows')
      .argument('<partition-dir>', 'the partition directory, <data.dir>/<topic>-<partition>')
      .option('--truncate-at <offset>', 'cut the log so it ends at this offset (the batch holding it and everything after are set aside); a dry run unless --execute', intOption(0))
      .option('--execute', 'make the cut (needs --truncate-at); without it nothing on disk changes'),
    'print the report as one JSON object',
  ).action(async (partitionDir: string, opts: RecoverOptions) => {
    const { recoverPartition, LogSurgeryError } = await import('../../broker/recover.js');
    let outcome: RecoverOutcome;
    try {
      outcome = await recoverPartition({ partitionDir, truncateAt: opts.truncateAt, execute: opts.execute === true });
    } catch (err) {
      if (err instanceof LogSurgeryError) throw new CliError(err.message);
      throw err;
    }
    if (opts.json) await printJson(outcome);
    else await printReport(outcome);
    const unusable = outcome.interrupted !== null ? outcome.done === null : outcome.plan === null && outcome.inspection.damage !== null;
    if (unusable) throw new CliError('', RECOVER_DAMAGED_EXIT_CODE);
  });
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function offsets(from: number, endExclusive: number): string {
  return endExclusive > from ? `offsets ${from} to ${endExclusive - 1}` : 'no records';
}

async function printReport({ inspection, interrupted, plan, done }: RecoverOutcome): Promise<void> {
  if (interrupted !== null) {
    await printInterrupted(inspection, interrupted, done);
    return;
  }
  await printInspection(inspection);
  if (plan === null) {
    if (inspection.damage !== null) {
      await printLine('');
      await printLine(`The last good batch ends at offset ${inspection.damage.offset}. To cut the log there, setting aside (not deleting) everything after it:`);
      await printLine(`  runnel recover ${inspection.dir} --truncate-at ${inspection.damage.offset}            (a dry run: shows what moves)`);
      await printLine(`  runnel recover ${inspection.dir} --truncate-at ${inspection.damage.offset} --execute  (with the broker stopped)`);
    }
    return;
  }
  await printLine('');
  await printPlan(inspection, plan, done);
}

async function printInspection(inspection: PartitionInspection): Promise<void> {
  const { damage, good, afterDamage } = inspection;
  const totalBytes = inspection.segments.reduce((sum, s) => sum + s.sizeBytes, 0);
  await printLine(`Partition ${inspection.dir}: ${plural(inspection.segments.length, 'segment')}, ${totalBytes} bytes, log start offset ${inspection.logStartOffset}`);
  if (damage === null) {
    await printLine(`Sound: ${plural(good.batches, 'batch', 'batches')} with ${plural(good.records, 'record')} (${offsets(inspection.logStartOffset, inspection.goodEndOffset)}), every CRC checks out; nothing to recover.`);
    return;
  }
  await printLine(`Good: ${plural(good.batches, 'batch', 'batches')} with ${plural(good.records, 'record')} (${offsets(inspection.logStartOffset, inspection.goodEndOffset)})`);
  await printLine(`Damage: ${damage.file} at byte ${damage.position} (where offset ${damage.offset} should start): ${damage.reason}`);
  if (damage.claimed !== null) {
    await printLine(`  the damaged batch's header claims ${describeOffsets(damage.claimed.baseOffset, damage.claimed.lastOffset)} (${plural(damage.claimed.recordCount, 'record')})`);
  }
  const laterSegments = inspection.segments.filter((s) => s.baseOffset > damage.segmentBaseOffset).length;
  await printLine(`After it: ${plural(afterDamage.batches, 'valid batch', 'valid batches')} with ${plural(afterDamage.records, 'record')}, ${afterDamage.unreadableBytes} unreadable bytes${laterSegments > 0 ? `, in this segment and ${plural(laterSegments, 'later segment')}` : ''}`);
  if (afterDamage.batches > 0) await printLine('  valid data follows the damage: this is corruption, not a torn tail, so the broker deleted nothing and keeps the partition offline');
}

/** A cut an earlier run began: what it does, and either how to finish it or that it is finished now. */
async function printInterrupted(inspection: PartitionInspection, interrupted: CutInProgress, done: CutDone | null): Promise<void> {
  const { plan } = interrupted;
  const setAsideDir = join(dirname(inspection.dir), interrupted.setAsideDir);
  if (done === null) {
    await printLine(`Partition ${inspection.dir}: a cut at offset ${plan.truncateAt} (\`runnel recover --execute\`) was interrupted. The broker keeps the partition offline until it is finished; nothing is lost, what it moved so far is in ${setAsideDir}.`);
    await printLine(`The cut keeps ${offsets(inspection.logStartOffset, plan.logEndOffset)} and sets aside ${setAsideWhat(plan)}:`);
    for (const line of movedFiles(plan)) await printLine(`  ${line}`);
    await printLine('To finish it, with the broker stopped:');
    await printLine(`  runnel recover ${inspection.dir} --truncate-at ${plan.truncateAt} --execute`);
    return;
  }
  await printLine(`Finished the interrupted cut at offset ${plan.truncateAt}: the log keeps ${offsets(inspection.logStartOffset, plan.logEndOffset)} and ends at offset ${plan.logEndOffset}.`);
  await printDone(plan, done);
}

function describeOffsets(from: number, to: number): string {
  return from === to ? `offset ${from}` : `offsets ${from} to ${to}`;
}

/** The files a cut moves, one line each. */
function movedFiles(plan: CutPlan): string[] {
  return [
    ...(plan.cutPosition < plan.cutSegment.sizeBytes ? [`${plan.cutSegment.name} from byte ${plan.cutPosition} (${plan.cutSegment.sizeBytes - plan.cutPosition} bytes)`] : []),
    ...plan.laterSegments.map((s) => `${s.name} (whole, ${s.sizeBytes} bytes)`),
  ];
}

/** What a cut sets aside, in records, batches and bytes. */
function setAsideWhat(plan: CutPlan): string {
  const claimed = plan.damage?.claimed === null || plan.damage === null ? '' : `, plus the damaged batch, whose header claims ${plural(plan.damage.claimed.recordCount, 'record')}`;
  return `${plural(plan.setAside.records, 'record')} in ${plural(plan.setAside.batches, 'valid batch', 'valid batches')}${claimed}; ${plan.setAsideBytes} bytes, ${plan.unreadableBytes} of them unreadable`;
}

async function printPlan(inspection: PartitionInspection, plan: CutPlan, done: CutDone | null): Promise<void> {
  const keep = `the log keeps ${offsets(inspection.logStartOffset, plan.logEndOffset)} and ends at offset ${plan.logEndOffset}`;
  if (done === null) {
    await printLine(`Dry run, nothing changed. Cutting at offset ${plan.truncateAt}: ${keep}.`);
    await printLine(`It would set aside ${setAsideWhat(plan)}:`);
    for (const line of movedFiles(plan)) await printLine(`  ${line}`);
    await printLine(`into ${inspection.dir}.set-aside-<UTC time>/ next to the partition. To do it, with the broker stopped:`);
    await printLine(`  runnel recover ${inspection.dir} --truncate-at ${plan.truncateAt} --execute`);
    return;
  }
  await printLine(`Cut at offset ${plan.truncateAt}: ${keep}.`);
  await printDone(plan, done);
}

async function printDone(plan: CutPlan, done: CutDone): Promise<void> {
  await printLine(`Set aside ${setAsideWhat(plan)}, into ${done.setAsideDir}:`);
  for (const line of movedFiles(plan)) await printLine(`  ${line}`);
  await printLine(`(${basename(done.setAsideDir)}/SET-ASIDE.txt says what each file is; \`runnel dump-log\` reads the .log files.) Start the broker: it serves the partition again.`);
}
