/**
 * `runnel groups list|describe|reset-offsets|delete`: consumer groups from
 * the command line (Kafka's kafka-consumer-groups.sh), through the SDK's
 * Admin. Lag is the SDK's one figure (client/lag.ts), in records and in
 * seconds. A reset prints its plan and changes nothing without --execute.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { Admin, GroupOutcome } from '../../client/index.js';
import { CliError } from '../cli-error.js';
import { withRunnel } from '../client-session.js';
import { collectList, intOption, parseTimestamp, withBootstrap, withJson, type ClientOptions } from '../options.js';
import { formatTable, printJson, printLine } from '../output.js';
import { withSubcommandBootstrap } from '../program-bootstrap.js';
import { MEMBER_HEADER, PARTITION_HEADER, describeReport, memberRows, partitionRows } from '../groups/describe-report.js';
import { resetSpec, resetTopics, shiftArgument, type ResetFlags } from '../groups/reset-options.js';

interface ResetOptions extends ClientOptions, ResetFlags {
  dryRun?: boolean;
  execute?: boolean;
  json?: boolean;
}

export function groupsCommand(): Command {
  const groups = withSubcommandBootstrap(new Command('groups').description('list, describe (members, offsets, lag), reset the offsets of, and delete consumer groups'));

  withJson(
    withBootstrap(
      groups
        .command('list')
        .description('every consumer group of the cluster, with its state and coordinator')
        .option('--state <state>', 'only groups in this state: Empty, Assigning, Reconciling or Stable (repeatable)', collectState, []),
    ),
  ).action(async (opts: ClientOptions & { state: string[]; json?: boolean }) => {
    const listed = await withRunnel(opts, (runnel) => runnel.admin().listGroups({ states: opts.state }));
    if (opts.json === true) return printJson(listed.map((g) => ({ group: g.group, state: g.state, coordinator: g.coordinator })));
    if (listed.length === 0) return printLine(opts.state.length === 0 ? 'No consumer groups.' : `No consumer groups in state ${opts.state.join(' or ')}.`);
    await printLine(formatTable(['GROUP', 'STATE', 'COORDINATOR'], listed.map((g) => [g.group, g.state, g.coordinator])));
  });

  withJson(
    withBootstrap(
      groups
        .command('describe')
        .description('a group\'s state and members, and per partition its committed offset, log-end offset, lag (records and seconds) and owner, with totals')
        .argument('<group>', 'group id'),
    ),
  ).action(async (group: string, opts: ClientOptions & { json?: boolean }) => {
    const { description, partitions } = await withRunnel(opts, (runnel) => runnel.admin().groupLag(group));
    if (opts.json === true) return printJson(describeReport(description, partitions));
    const members = description.members.length;
    await printLine(`Group ${group}: ${description.state}, ${members} member${members === 1 ? '' : 's'}${description.assignor === '' ? '' : ` (assignor ${description.assignor}, group epoch ${description.groupEpoch})`}`);
    if (members > 0) await printLine(`\n${formatTable(MEMBER_HEADER, memberRows(description))}`);
    await printLine(`\n${partitions.length === 0 ? 'No committed offsets and no assigned partitions.' : formatTable(PARTITION_HEADER, partitionRows(partitions))}`);
  });

  withJson(
    withBootstrap(
      groups
        .command('reset-offsets')
        .description('move a group\'s committed offsets; prints the plan and changes nothing until --execute (refused while the group has active members)')
        .argument('<group>', 'group id')
        .option('--topic <topic[:partitions]>', 'a topic (every partition) or topic:0,2 (those partitions); repeatable', collectList, [])
        .option('--all-topics', 'every topic the group has committed offsets for')
        .option('--to-earliest', 'to the first offset each partition holds')
        .option('--to-latest', 'to the end of each partition (skip everything not yet consumed)')
        .option('--to-offset <n>', 'to this offset (brought within what each partition holds)', intOption(0))
        .option('--to-datetime <iso>', 'to the first record at or after this time (ISO 8601 or ms since the epoch); the end where none is that recent', parseTimestamp)
        .option('--shift-by <n>', 'move each committed offset by n (negative: back), within what the partition holds', shiftArgument)
        .option('--dry-run', 'print the plan only (the default)')
        .option('--execute', 'commit the new offsets (without it: a dry run that only prints the plan)'),
    ),
  ).action(async (group: string, opts: ResetOptions) => {
    if (opts.dryRun === true && opts.execute === true) throw new CliError('give --dry-run or --execute, not both');
    const spec = resetSpec(opts);
    const topics = resetTopics(opts);
    await withRunnel(opts, async (runnel) => {
      const admin = runnel.admin();
      const result = await admin.resetGroupOffsets(group, { topics, spec, execute: opts.execute === true });
      if (opts.json === true) await printJson({ group, executed: result.executed, partitions: result.partitions });
      else if (result.partitions.length === 0) await printLine(`Nothing to reset: group ${group} has no committed offsets${topics === 'all' ? '' : ' in those partitions'}.`);
      else await printLine(formatTable(['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'], result.partitions.map((p) => [p.topic, p.partition, p.currentOffset ?? '-', p.newOffset])));
      if (result.executed) {
        if (opts.json !== true) await printLine(`Committed the new offsets of group ${group}.`);
        return;
      }
      if (opts.json === true || result.partitions.length === 0) return;
      await printLine('Dry run: nothing was changed. Run again with --execute to commit these offsets.');
      await warnIfActive(admin, group);
    });
  });

  withJson(
    withBootstrap(
      groups
        .command('delete')
        .description('delete groups that have no members, with their committed offsets')
        .argument('<group...>', 'group ids'),
    ),
  ).action(async (names: string[], opts: ClientOptions & { json?: boolean }) => {
    const outcomes = await withRunnel(opts, (runnel) => runnel.admin().deleteGroups(names));
    if (opts.json === true) await printJson(outcomes);
    else for (const o of outcomes) if (o.error === null) await printLine(`Deleted group ${o.group}.`);
    const failed = outcomes.filter((o) => o.error !== null);
    for (const o of failed) process.stderr.write(`error: ${deleteFailure(o)}\n`);
    if (failed.length > 0) throw new CliError('', 1);
  });

  return groups;
}

const STATES = ['Empty', 'Assigning', 'Reconciling', 'Stable'];

/** `--state stable` -> 'Stable' (a state the coordinator reports; any other would silently match nothing). */
function collectState(value: string, previous: string[]): string[] {
  const state = STATES.find((s) => s.toLowerCase() === value.trim().toLowerCase());
  if (state === undefined) throw new InvalidArgumentError(`Give one of ${STATES.join(', ')}.`);
  return [...previous, state];
}

function deleteFailure(o: GroupOutcome): string {
  const reason = (o.error?.message ?? '').replace(/\.$/, '');
  switch (o.error?.name) {
    case 'GROUP_ID_NOT_FOUND':
      return `group ${o.group} does not exist; see the groups with \`runnel groups list\``;
    case 'NON_EMPTY_GROUP':
      return `group ${o.group} still has members; stop its consumers first (or wait for their sessions to time out), see them with \`runnel groups describe ${o.group}\``;
    default:
      return `group ${o.group}: ${o.error?.name ?? 'UNKNOWN'}: ${reason}`;
  }
}

/** A dry run of a group with members says now that --execute would be refused, rather than let the user find out. */
async function warnIfActive(admin: Admin, group: string): Promise<void> {
  let members = 0;
  try {
    members = (await admin.describeGroups([group]))[0]?.members.length ?? 0;
  } catch {
    return; // no such group yet (a reset creates it), or the describe failed: --execute will say what it finds
  }
  if (members > 0) process.stderr.write(`warning: group ${group} has ${members} active member${members === 1 ? '' : 's'}; --execute is refused until they stop (see \`runnel groups describe ${group}\`)\n`);
}
