/**
 * `runnel usage`: what each principal (or topic) used over a time range,
 * from the internal topic `__usage` (broker/metering/): bytes and records
 * produced and fetched, and requests. Reads the topic from the first record
 * at or after `--since` up to its end as of the start, keeps the last value
 * of each key (a minute is written again while it is open, and a retried
 * write twice) and adds the minutes in [--since, --until) up per principal,
 * topic, or both. Records it cannot decode (another build's) are skipped
 * and counted on stderr.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Runnel } from '../../client/index.js';
import { decodeUsageCounts, decodeUsageKey, MINUTE_MS, rollUpUsage, USAGE_TOPIC, UsageRecordError, type UsageCounts, type UsageGrouping, type UsageRecord, type UsageRow } from '../../broker/metering/usage-format.js';
import { CliError } from '../cli-error.js';
import { withRunnel } from '../client-session.js';
import { PartitionEnds } from '../consume/partition-ends.js';
import { planConsume } from '../consume/start-positions.js';
import { parseTimestamp, withBootstrap, withJson, type ClientOptions } from '../options.js';
import { formatTable, printJson, printLine } from '../output.js';

/** The `--json` shape, documented in docs/CLI.md. */
export interface UsageReport {
  /** The range's minutes, as epoch ms: [sinceMs, untilMs). */
  sinceMs: number;
  untilMs: number;
  by: UsageGrouping;
  rows: ({ principal?: string; topic?: string } & UsageCounts)[];
}

interface UsageOptions extends ClientOptions {
  since: number;
  until?: number;
  by: UsageGrouping;
  json?: boolean;
}

const UNITS: Record<string, number> = { s: 1000, m: MINUTE_MS, h: 3600_000, d: 86_400_000 };
const DEFAULT_SINCE = '24h';
/** How long the read may go without a batch before the command says where it is stuck. */
const READ_IDLE_MS = 30_000;

/** `--since`/`--until`: a duration back from now (90s, 15m, 1h, 30d), or a time (epoch ms, ISO 8601). */
export function parseUsageTime(value: string, nowMs = Date.now()): number {
  const relative = /^(\d+)\s*([smhd])$/.exec(value.trim());
  if (relative !== null) return nowMs - Number(relative[1]) * UNITS[relative[2]!]!;
  try {
    return parseTimestamp(value);
  } catch {
    throw new InvalidArgumentError('Give a duration back from now (90s, 15m, 1h, 30d), milliseconds since the epoch, or an ISO date-time such as 2026-12-03T10:00Z.');
  }
}

export function usageCommand(): Command {
  return withJson(
    withBootstrap(
      new Command('usage')
        .description(`bytes, records and requests per principal or topic over a time range, from ${USAGE_TOPIC} (usage metering)`)
        .addOption(new Option('--since <time>', 'from this minute on: a duration back from now (1h, 30d) or a time (2026-12-03T10:00Z)').default(DEFAULT_SINCE).argParser((v) => parseUsageTime(v)))
        .addOption(new Option('--until <time>', 'up to (not including) this minute; default: now, the minute under way included').argParser((v) => parseUsageTime(v)))
        .addOption(new Option('--by <grouping>', 'one row per principal, per topic, or per principal and topic').choices(['principal', 'topic', 'principal-topic']).default('principal')),
    ),
  ).action(async (opts: UsageOptions) => {
    // A default given as text is not parsed by commander.
    const since = typeof opts.since === 'number' ? opts.since : parseUsageTime(String(opts.since));
    const sinceMs = since - (since % MINUTE_MS);
    const untilMs = opts.until === undefined ? Number.MAX_SAFE_INTEGER : opts.until - (opts.until % MINUTE_MS);
    if (untilMs <= sinceMs) throw new CliError(`--until must be at least a minute after --since (the range is whole minutes from ${new Date(sinceMs).toISOString()})`);
    const { records, undecodable } = await withRunnel(opts, (runnel) => readUsage(runnel, sinceMs));
    if (undecodable > 0) process.stderr.write(`skipped ${undecodable} ${USAGE_TOPIC} record(s) this build cannot read\n`);
    const rows = rollUpUsage(records, { sinceMs, untilMs, by: opts.by });
    const report: UsageReport = { sinceMs, untilMs, by: opts.by, rows: rows.map(flatten) };
    if (opts.json) return printJson(report);
    await printLine(formatUsage(rows, opts.by));
  });
}

/** Every `__usage` record from the first at or after `sinceMs` to each partition's end as of now. */
async function readUsage(runnel: Runnel, sinceMs: number): Promise<{ records: UsageRecord[]; undecodable: number }> {
  const admin = runnel.admin();
  const topics = await admin.listTopics({ includeInternal: true });
  if (!topics.includes(USAGE_TOPIC)) return { records: [], undecodable: 0 };
  const plan = await planConsume(admin, USAGE_TOPIC, { fromTime: sinceMs });
  const ends = new PartitionEnds(plan.ends);
  const records: UsageRecord[] = [];
  let undecodable = 0;
  if (ends.done) return { records, undecodable };
  const consumer = runnel.consumer({});
  consumer.assign(plan.assignments);
  try {
    const batches = consumer.batches()[Symbol.asyncIterator]();
    while (!ends.done) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<'idle'>((resolve) => (timer = setTimeout(() => resolve('idle'), READ_IDLE_MS)));
      const next = await Promise.race([batches.next(), idle]);
      clearTimeout(timer);
      if (next === 'idle') throw new CliError(`reading ${USAGE_TOPIC} stalled: nothing arrived for ${READ_IDLE_MS / 1000} s with ${records.length} record(s) read; check that its leader is up (runnel topic describe ${USAGE_TOPIC})`);
      if (next.done === true) break;
      for (const message of ends.take(next.value)) {
        if (message.key === null || message.value === null) continue;
        try {
          records.push({ key: decodeUsageKey(message.key), counts: decodeUsageCounts(message.value) });
        } catch (error) {
          if (!(error instanceof UsageRecordError)) throw error;
          undecodable += 1;
        }
      }
    }
  } finally {
    await consumer.close();
  }
  return { records, undecodable };
}

function flatten(row: UsageRow): UsageReport['rows'][number] {
  return { ...(row.principal === undefined ? {} : { principal: row.principal }), ...(row.topic === undefined ? {} : { topic: row.topic }), ...row.counts };
}

function formatUsage(rows: readonly UsageRow[], by: UsageGrouping): string {
  const who = by === 'principal' ? ['PRINCIPAL'] : by === 'topic' ? ['TOPIC'] : ['PRINCIPAL', 'TOPIC'];
  const table = rows.map((row) => [
    ...(by === 'topic' ? [] : [row.principal ?? '']),
    ...(by === 'principal' ? [] : [row.topic === '' ? '(none)' : row.topic ?? '']),
    row.counts.bytesIn,
    row.counts.recordsIn,
    row.counts.bytesOut,
    row.counts.recordsOut,
    row.counts.requests,
  ]);
  if (table.length === 0) return 'no usage recorded in that range';
  return formatTable([...who, 'BYTES IN', 'RECORDS IN', 'BYTES OUT', 'RECORDS OUT', 'REQUESTS'], table);
}
