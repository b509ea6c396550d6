/**
 * `runnel dlq list|inspect|redrive|purge`: the dead letters share groups
 * set aside (records copied to a group's deadLetterTopic with the
 * `runnel.dlq.*` headers of protocol/headers.ts). list finds the
 * dead-letter topics (share groups' configuration, or topics named with
 * --topic whose records carry the headers); inspect prints records with the
 * headers decoded; redrive produces the originals again (key, value, own
 * headers; idempotent producer, acks=all) and then purges what it sent
 * back; purge deletes records (DeleteRecords). The deciding parts are in
 * tools/dlq/.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { DeadLetterTopicUse, Runnel } from '../../client/index.js';
import { addTo } from '../../client/group-by.js';
import { CliError } from '../cli-error.js';
import { withRunnel } from '../client-session.js';
import { deadLetterJson, deadLetterText, originalHeaders } from '../dlq/dlq-record.js';
import { readRange } from '../dlq/read-range.js';
import { planRedrive, purgePoints, type PurgePoint } from '../dlq/redrive-plan.js';
import { topicKind } from '../dlq/topic-kind.js';
import { collectList, intOption, withBootstrap, withJson, type ClientOptions } from '../options.js';
import { formatTable, printJson, printLine } from '../output.js';
import { withSubcommandBootstrap } from '../program-bootstrap.js';

interface InspectOptions extends ClientOptions {
  partition?: number;
  from?: number;
  max?: number;
  json?: boolean;
}

interface RedriveOptions extends ClientOptions {
  to?: string;
  offsets?: { first: number; last: number };
  filterReason?: string;
  dryRun?: boolean;
  keep?: boolean;
  json?: boolean;
}

interface PurgeOptions extends ClientOptions {
  before?: number;
  partition?: number;
  force?: boolean;
  json?: boolean;
}

export function dlqCommand(): Command {
  const dlq = withSubcommandBootstrap(new Command('dlq').description('dead-letter topics of share groups: list them, inspect their records, send records back (redrive), delete them (purge)'));

  withJson(
    withBootstrap(
      dlq
        .command('list')
        .description('the dead-letter topics share groups use, and topics named with --topic that hold dead letters, with their record counts')
        .option('--topic <topic>', 'also this topic, if its records carry runnel.dlq.* headers (repeatable)', collectList, []),
    ),
  ).action(async (opts: ClientOptions & { topic: string[]; json?: boolean }) => {
    const rows = await withRunnel(opts, (runnel) => listDeadLetterTopics(runnel, opts.topic));
    if (opts.json === true) return printJson(rows);
    if (rows.length === 0) return printLine('No dead-letter topics: no share group names one (name a topic with --topic to check it).');
    await printLine(formatTable(['TOPIC', 'RECORDS', 'PARTITIONS', 'GROUPS', 'DEAD-LETTERED'], rows.map((r) => [r.topic, r.records, r.partitions, r.groups.length === 0 ? '-' : r.groups.join(','), r.deadLettered ?? '-'])));
  });

  withJson(
    withBootstrap(
      dlq
        .command('inspect')
        .description('print dead-lettered records with their source, group, delivery count, reason and time, oldest first')
        .argument('<topic>', 'the dead-letter topic')
        .option('--partition <n>', 'only this partition', intOption(0))
        .option('--from <offset>', 'start at this offset (default: each partition\'s first)', intOption(0))
        .option('--max <n>', 'at most this many records (default 100)', intOption(1)),
    ),
    'one JSON object a line: the record as `consume --format json` prints it, with `deadLetter` decoded',
  ).action(async (topic: string, opts: InspectOptions) => {
    const { messages } = await withRunnel(opts, (runnel) => readRange(runnel, topic, { partitions: opts.partition === undefined ? undefined : [opts.partition], fromOffset: opts.from, max: opts.max ?? 100 }));
    if (opts.json === true) {
      for (const m of messages) await printLine(JSON.stringify(deadLetterJson(m)));
      return;
    }
    if (messages.length === 0) return printLine(`No records in ${topic}${opts.from === undefined ? '' : ` from offset ${opts.from}`}.`);
    await printLine(messages.map(deadLetterText).join('\n\n'));
  });

  withJson(
    withBootstrap(
      dlq
        .command('redrive')
        .description('produce dead-lettered records again (original key, value and headers, runnel.dlq.* stripped) to their source topic, then purge the dead-letter partitions up to the last record sent back, where every record below it was')
        .argument('<topic>', 'the dead-letter topic')
        .option('--to <topic>', 'send every record here (default: each record\'s runnel.dlq.source.topic)')
        .option('--offsets <first-last>', 'only records at these offsets (inclusive; in every partition)', offsetRange)
        .option('--filter-reason <text>', 'only records whose runnel.dlq.reason is this, or whose runnel.dlq.error contains it')
        .option('--dry-run', 'print what would be sent and purged; send and delete nothing')
        .option('--keep', 'send back but delete nothing from the dead-letter topic'),
    ),
  ).action(async (topic: string, opts: RedriveOptions) => {
    await withRunnel(opts, (runnel) => redrive(runnel, topic, opts));
  });

  withJson(
    withBootstrap(
      dlq
        .command('purge')
        .description('delete a dead-letter topic\'s records (all of them, or those below --before) with DeleteRecords; refused for a topic that holds no dead letters unless --force')
        .argument('<topic>', 'the dead-letter topic')
        .option('--before <offset>', 'delete the records below this offset (in every partition; default: all)', intOption(0))
        .option('--partition <n>', 'only this partition', intOption(0))
        .option('--force', 'purge even a topic whose records carry no runnel.dlq.* headers'),
    ),
  ).action(async (topic: string, opts: PurgeOptions) => {
    await withRunnel(opts, (runnel) => purge(runnel, topic, opts));
  });

  return dlq;
}

/** `--offsets 10-20` */
function offsetRange(value: string): { first: number; last: number } {
  const match = /^(\d+)-(\d+)$/.exec(value.trim());
  if (match === null || Number(match[1]) > Number(match[2])) throw new InvalidArgumentError('Give first-last, two offsets with first <= last (10-20).');
  return { first: Number(match[1]), last: Number(match[2]) };
}

interface ListedTopic {
  topic: string;
  records: number;
  partitions: number;
  groups: string[];
  /** What the groups' coordinators count as dead-lettered there; null for a topic no group names. */
  deadLettered: number | null;
}

async function listDeadLetterTopics(runnel: Runnel, named: readonly string[]): Promise<ListedTopic[]> {
  const admin = runnel.admin();
  const uses = await admin.listDeadLetterTopics();
  const topics = new Map<string, DeadLetterTopicUse[]>();
  for (const use of uses) addTo(topics, use.topic, use);
  for (const topic of named) {
    if (topics.has(topic)) continue;
    const kind = await topicKind(runnel, topic, uses);
    if (kind === 'other') throw new CliError(`topic ${topic} holds no dead letters: its first records carry no runnel.dlq.* headers, and no share group names it as its dead-letter topic`);
    topics.set(topic, []);
  }
  const rows: ListedTopic[] = [];
  for (const [topic, groupUses] of [...topics].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // A group may name a topic not made yet: it shows with no records.
    const offsets = await admin.listOffsets(topic).catch((err: unknown) => {
      if ((err as { errorName?: string }).errorName === 'UNKNOWN_TOPIC_OR_PARTITION') return [];
      throw err;
    });
    rows.push({
      topic,
      records: offsets.reduce((sum, o) => sum + (o.latest - o.earliest), 0),
      partitions: offsets.length,
      groups: groupUses.map((u) => u.group),
      deadLettered: groupUses.length === 0 ? null : groupUses.reduce((sum, u) => sum + u.deadLettered, 0),
    });
  }
  return rows;
}

async function redrive(runnel: Runnel, topic: string, opts: RedriveOptions): Promise<void> {
  if (opts.dryRun === true && opts.keep === true) throw new CliError('--dry-run deletes nothing already; drop --keep');
  if (opts.to === topic) throw new CliError(`--to ${topic} is the dead-letter topic itself`);
  const { messages, ranges } = await readRange(runnel, topic, { fromOffset: opts.offsets?.first, toOffset: opts.offsets?.last });
  const plan = planRedrive(messages, { to: opts.to, filterReason: opts.filterReason });
  const points = purgePoints(ranges, plan);
  const json = opts.json === true;
  if (opts.dryRun !== true && plan.send.length > 0) {
    const producer = runnel.producer();
    try {
      const byTarget = new Map<string, typeof plan.send>();
      for (const s of plan.send) addTo(byTarget, s.target, s);
      // In dead-letter order per target: an idempotent producer keeps it per partition.
      await Promise.all([...byTarget].map(([target, sends]) =>
        producer.send({ topic: target, messages: sends.map(({ message }) => ({ key: message.key, value: message.value, headers: originalHeaders(message) })) })));
    } finally {
      await producer.close();
    }
  }
  const purged = opts.dryRun === true || opts.keep === true ? [] : await purgeTo(runnel, topic, points);
  if (json) {
    await printJson({
      topic,
      dryRun: opts.dryRun === true,
      redriven: plan.send.map((s) => ({ partition: s.message.partition, offset: s.message.offset, to: s.target })),
      kept: plan.kept.map((k) => ({ partition: k.message.partition, offset: k.message.offset, why: k.why })),
      purge: points.map((p) => ({ ...p, logStartOffset: purged.find((x) => x.partition === p.partition)?.lowWatermark ?? null })),
    });
    return;
  }
  const counts = new Map<string, number>();
  for (const s of plan.send) counts.set(s.target, (counts.get(s.target) ?? 0) + 1);
  const sentText = [...counts].map(([target, n]) => `${n} to ${target}`).join(', ');
  const verb = opts.dryRun === true ? 'Would redrive' : 'Redrove';
  await printLine(plan.send.length === 0 ? `Nothing to redrive in ${topic} (${messages.length} record${messages.length === 1 ? '' : 's'} read).` : `${verb} ${plan.send.length} record${plan.send.length === 1 ? '' : 's'} from ${topic}: ${sentText}.`);
  for (const k of plan.kept.slice(0, 20)) await printLine(`  kept ${topic}-${k.message.partition}@${k.message.offset}: ${k.why}`);
  if (plan.kept.length > 20) await printLine(`  (and ${plan.kept.length - 20} more kept)`);
  for (const p of points) await printLine(purgeText(topic, p, opts, purged.find((x) => x.partition === p.partition)?.lowWatermark));
  if (opts.dryRun === true) await printLine('Dry run: nothing was sent or deleted.');
}

function purgeText(topic: string, p: PurgePoint, opts: RedriveOptions, logStart: number | undefined): string {
  const name = `${topic}-${p.partition}`;
  const why = p.keptBecause === null ? '' : `; kept from there: ${p.keptBecause}`;
  if (p.purgeBefore === null) return `  ${name}: nothing purged${why}`;
  if (opts.keep === true) return `  ${name}: kept (--keep); a purge could delete below ${p.purgeBefore}`;
  if (opts.dryRun === true) return `  ${name}: would purge below ${p.purgeBefore}${why}`;
  return `  ${name}: purged below ${p.purgeBefore} (log start now ${logStart ?? '?'})${why}`;
}

async function purgeTo(runnel: Runnel, topic: string, points: readonly PurgePoint[]): Promise<{ partition: number; lowWatermark: number }[]> {
  const wanted = points.flatMap((p) => (p.purgeBefore === null ? [] : [{ partition: p.partition, offset: p.purgeBefore }]));
  return wanted.length === 0 ? [] : runnel.admin().deleteRecords(topic, wanted);
}

async function purge(runnel: Runnel, topic: string, opts: PurgeOptions): Promise<void> {
  const admin = runnel.admin();
  if (opts.force !== true && (await topicKind(runnel, topic, await admin.listDeadLetterTopics())) === 'other') {
    throw new CliError(`topic ${topic} holds no dead letters (its first records carry no runnel.dlq.* headers, and no share group names it); give --force to delete its records anyway`);
  }
  const offsets = (await admin.listOffsets(topic)).filter((o) => opts.partition === undefined || o.partition === opts.partition);
  if (offsets.length === 0) throw new CliError(`topic ${topic} has no partition ${opts.partition}`);
  // --before past a partition's end deletes what it has: the offset is brought to its high watermark.
  const wanted = offsets.map((o) => ({ partition: o.partition, offset: Math.min(opts.before ?? o.latest, o.latest) }));
  const results = await admin.deleteRecords(topic, wanted);
  const rows = results.map((r) => {
    const before = offsets.find((o) => o.partition === r.partition)!;
    return { partition: r.partition, deleted: Math.max(0, r.lowWatermark - before.earliest), logStartOffset: r.lowWatermark, remaining: Math.max(0, before.latest - r.lowWatermark) };
  });
  if (opts.json === true) return printJson({ topic, partitions: rows });
  await printLine(formatTable(['PARTITION', 'DELETED', 'LOG-START', 'REMAINING'], rows.map((r) => [r.partition, r.deleted, r.logStartOffset, r.remaining])));
  const total = rows.reduce((sum, r) => sum + r.deleted, 0);
  await printLine(`Purged ${total} record${total === 1 ? '' : 's'} from ${topic}.`);
}
