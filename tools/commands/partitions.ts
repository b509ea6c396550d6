/**
 * `runnel partitions reassign|elect-preferred|balance`: moving replicas
 * between brokers (Kafka's kafka-reassign-partitions.sh and
 * kafka-leader-election.sh), through the SDK's Admin. A request the
 * controller refuses for some partitions says which and why, per partition,
 * and the command exits 1.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import type { Admin, OngoingReassignment, PartitionMove, PartitionOutcome } from '../../client/index.js';
import { CliError } from '../cli-error.js';
import { withRunnel } from '../client-session.js';
import { collectList, intOption, withBootstrap, withJson, type ClientOptions } from '../options.js';
import { balancePlan, type PlanPartition } from '../partitions/balance-plan.js';
import { parsePlan, planFile } from '../partitions/plan-file.js';
import { formatTable, printJson, printLine } from '../output.js';
import { withSubcommandBootstrap } from '../program-bootstrap.js';

interface ReassignOptions extends ClientOptions {
  topic?: string;
  partition?: number;
  replicas?: number[];
  plan?: string;
  throttle?: number;
  status?: boolean;
  cancel?: boolean;
  json?: boolean;
}

interface BalanceOptions extends ClientOptions {
  dryRun?: boolean;
  execute?: boolean;
  topic: string[];
  throttle?: number;
  json?: boolean;
}

export function partitionsCommand(): Command {
  const partitions = withSubcommandBootstrap(new Command('partitions').description('move replicas between brokers, elect preferred leaders, balance a grown cluster'));

  withJson(
    withBootstrap(
      partitions
        .command('reassign')
        .description('move a partition\'s replicas (--topic/--partition/--replicas, or --plan FILE), show moves in progress (--status), or cancel them (--cancel)')
        .option('--topic <name>', 'the topic of the partition to move')
        .option('--partition <n>', 'the partition to move', intOption(0, 0x7fffffff))
        .option('--replicas <ids>', 'the target brokers, preferred leader first, e.g. 1,2,4', brokerList)
        .option('--plan <file>', 'a plan: {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2,3]}]} (what `partitions balance --json` prints)')
        .option('--throttle <bytes/s>', 'limit the copy to new replicas to this many bytes per second, cluster-wide (0 removes the limit); removed by itself when no move is left', intOption(0))
        .option('--status', 'show the moves in progress: replicas, adding, removing, ISR and each replica\'s log end against the leader\'s')
        .option('--cancel', 'cancel the move of --topic/--partition (or of every partition in --plan): back to the original replicas'),
    ),
  ).action(async (opts: ReassignOptions) => {
    if (opts.status === true) return status(opts);
    const moves = movesFrom(opts);
    if (moves.length === 0 && opts.throttle === undefined) throw new CliError('nothing to reassign: the plan lists no partitions');
    const outcomes = await withRunnel(opts, (runnel) => runnel.admin().alterPartitionReassignments(moves, opts.throttle === undefined ? {} : { throttleBytesPerSecond: opts.throttle }));
    await report(outcomes, moves, opts);
    if (opts.throttle !== undefined && opts.json !== true) await printLine(opts.throttle === 0 ? 'Reassignment throttle removed.' : `Copies to new replicas are limited to ${opts.throttle} bytes/s until no move is left.`);
  });

  withJson(
    withBootstrap(
      partitions
        .command('elect-preferred')
        .description('make each partition\'s preferred replica (its first) the leader where it is live and in the ISR')
        .option('--topic <name>', 'only this topic (default: every partition)')
        .option('--partition <n>', 'only this partition of --topic', intOption(0, 0x7fffffff)),
    ),
  ).action(async (opts: ClientOptions & { topic?: string; partition?: number; json?: boolean }) => {
    if (opts.partition !== undefined && opts.topic === undefined) throw new CliError('--partition needs --topic');
    const outcomes = await withRunnel(opts, async (runnel) => {
      const admin = runnel.admin();
      if (opts.topic === undefined) return admin.electLeaders();
      const indexes = opts.partition !== undefined ? [opts.partition] : (await admin.describeTopic(opts.topic)).partitions.map((p) => p.partition);
      return admin.electLeaders({ partitions: indexes.map((partition) => ({ topic: opts.topic!, partition })) });
    });
    const failed = outcomes.filter((o) => o.error !== null && o.error.name !== 'ELECTION_NOT_NEEDED');
    if (opts.json === true) await printJson(outcomes);
    else {
      const elected = outcomes.filter((o) => o.error === null);
      await printLine(`Elected the preferred leader of ${plural(elected.length, 'partition')}.`);
      for (const o of outcomes) await printLine(`  ${o.topic}-${o.partition}: ${o.error === null ? 'elected' : o.error.name === 'ELECTION_NOT_NEEDED' ? 'its preferred replica leads already' : `${o.error.name}: ${o.error.message}`}`);
    }
    if (failed.length > 0) throw new CliError('', 1);
  });

  withJson(
    withBootstrap(
      partitions
        .command('balance')
        .description('plan (and with --execute, start) the replica moves that even out replicas and preferred leaders across the live brokers, racks first')
        .option('--dry-run', 'print the plan only (the default)')
        .option('--execute', 'start the plan\'s moves as reassignments')
        .option('--topic <name>', 'balance only this topic (repeatable; default: every topic)', collectList, [])
        .option('--throttle <bytes/s>', 'with --execute: limit the copy rate to new replicas', intOption(0)),
    ),
    'print the plan as JSON: the --plan file format of `partitions reassign`',
  ).action(async (opts: BalanceOptions) => {
    if (opts.dryRun === true && opts.execute === true) throw new CliError('give --dry-run or --execute, not both');
    await withRunnel(opts, async (runnel) => {
      const admin = runnel.admin();
      const { brokers } = await admin.describeCluster();
      const plan = balancePlan(brokers, await partitionsOf(admin, opts.topic));
      const moves: PartitionMove[] = plan.moves.map((m) => ({ topic: m.topic, partition: m.partition, replicas: m.replicas }));
      if (opts.json === true) await printJson(planFile(moves));
      else {
        await printLine(moves.length === 0 ? 'The cluster is balanced: no move needed.' : `Plan: ${plural(moves.length, 'partition')} to move.`);
        if (moves.length > 0) await printLine(formatTable(['TOPIC', 'PARTITION', 'REPLICAS', 'TARGET'], plan.moves.map((m) => [m.topic, m.partition, m.from.join(','), m.replicas.join(',')])));
        await printLine(formatTable(['BROKER', 'RACK', 'REPLICAS', 'PREFERRED LEADER OF'], plan.brokers.map((b) => [b.id, b.rack ?? '-', `${b.replicasBefore} -> ${b.replicasAfter}`, `${b.leadersBefore} -> ${b.leadersAfter}`])));
      }
      if (opts.execute !== true || moves.length === 0) {
        if (opts.json !== true && moves.length > 0) await printLine('Dry run: nothing was moved. Run again with --execute, or save the --json output and pass it to `runnel partitions reassign --plan`.');
        return;
      }
      const outcomes = await admin.alterPartitionReassignments(moves, opts.throttle === undefined ? {} : { throttleBytesPerSecond: opts.throttle });
      if (opts.json !== true) await printLine('Started. Follow with `runnel partitions reassign --status`; leaders move to the new preferred replicas with `runnel partitions elect-preferred` (or by themselves with auto.leader.rebalance.enable).');
      await report(outcomes, moves, { json: false, quiet: opts.json === true });
    });
  });

  return partitions;
}

/** `--replicas 1,2,4` -> [1, 2, 4]. */
function brokerList(value: string): number[] {
  const ids = value.split(',').map((s) => s.trim());
  if (ids.length === 0 || ids.some((id) => !/^\d+$/.test(id))) throw new InvalidArgumentError('Give broker ids separated by commas, e.g. 1,2,4.');
  return ids.map(Number);
}

function movesFrom(opts: ReassignOptions): PartitionMove[] {
  const single = opts.topic !== undefined || opts.partition !== undefined || opts.replicas !== undefined;
  if (opts.plan !== undefined && single) throw new CliError('give --plan FILE or --topic/--partition/--replicas, not both');
  if (opts.plan !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.plan, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read the plan ${opts.plan}: ${(err as Error).message}`);
    }
    const moves = parsePlan(text, opts.plan);
    return opts.cancel === true ? moves.map((m) => ({ ...m, replicas: null })) : moves;
  }
  if (opts.topic === undefined || opts.partition === undefined) {
    if (opts.throttle !== undefined && !single) return [];
    throw new CliError(`give --topic and --partition${opts.cancel === true ? '' : ' and --replicas'}, or --plan FILE, or --status`);
  }
  if (opts.cancel === true) {
    if (opts.replicas !== undefined) throw new CliError('--cancel takes no --replicas: it goes back to the original ones');
    return [{ topic: opts.topic, partition: opts.partition, replicas: null }];
  }
  if (opts.replicas === undefined) throw new CliError('give the target brokers with --replicas, e.g. --replicas 1,2,4');
  return [{ topic: opts.topic, partition: opts.partition, replicas: opts.replicas }];
}

async function report(outcomes: readonly PartitionOutcome[], moves: readonly PartitionMove[], opts: { json?: boolean; quiet?: boolean }): Promise<void> {
  if (opts.json === true) await printJson(outcomes);
  else if (opts.quiet !== true) {
    for (const o of outcomes) {
      const move = moves.find((m) => m.topic === o.topic && m.partition === o.partition);
      const what = move?.replicas === null ? 'cancelled: back to its original replicas' : `moving to [${move?.replicas?.join(',') ?? '?'}]`;
      await printLine(o.error === null ? `${o.topic}-${o.partition}: ${what}` : `${o.topic}-${o.partition}: ${o.error.name}: ${o.error.message}`);
    }
  }
  const failed = outcomes.filter((o) => o.error !== null);
  if (failed.length > 0) throw new CliError(opts.json === true || opts.quiet === true ? '' : `${plural(failed.length, 'partition')} not reassigned`, 1);
}

async function status(opts: ReassignOptions): Promise<void> {
  const { throttleBytesPerSecond, reassignments } = await withRunnel(opts, (runnel) => runnel.admin().listPartitionReassignments({ progress: true }));
  if (opts.json === true) return printJson({ throttleBytesPerSecond, reassignments });
  if (reassignments.length === 0) return printLine('No reassignment in progress.');
  await printLine(formatTable(['TOPIC', 'PARTITION', 'REPLICAS', 'ADDING', 'REMOVING', 'ISR', 'LEADER', 'PROGRESS'], reassignments.map((r) => [r.topic, r.partition, r.replicas.join(','), r.addingReplicas.join(',') || '-', r.removingReplicas.join(',') || '-', r.isr.join(','), r.leader, progressOf(r)])));
  await printLine(throttleBytesPerSecond === 0 ? 'Throttle: none.' : `Throttle: ${throttleBytesPerSecond} bytes/s for new replicas.`);
}

/** Each adding replica's log end against the leader's, e.g. `4: 1200/5000 (24%)`; in the ISR: `4: in sync`. */
function progressOf(r: OngoingReassignment): string {
  const leaderEnd = r.logEndOffsets?.[r.leader] ?? null;
  const parts = r.addingReplicas.map((id) => {
    if (r.isr.includes(id)) return `${id}: in sync`;
    const end = r.logEndOffsets?.[id] ?? null;
    if (end === null || leaderEnd === null) return `${id}: unknown`;
    return `${id}: ${end}/${leaderEnd} (${leaderEnd === 0 ? 100 : Math.floor((100 * end) / leaderEnd)}%)`;
  });
  return parts.join(' ') || 'waiting for the ISR';
}

/** Every partition of `topics` (default: every non-internal topic) with its replicas. */
async function partitionsOf(admin: Admin, topics: readonly string[]): Promise<PlanPartition[]> {
  const names = topics.length > 0 ? [...topics] : await admin.listTopics();
  const described = await Promise.all(names.map((name) => admin.describeTopic(name)));
  return described.flatMap((d) => d.partitions.map((p) => ({ topic: d.name, partition: p.partition, replicas: p.replicas })));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
