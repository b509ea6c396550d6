/**
 * `runnel queue receive|describe`: queues (share groups) from the command
 * line. `receive` joins the group as a member for the length of the
 * command, takes up to --max records and settles them as --ack says; the
 * default, `none`, settles nothing, as `aws sqs receive-message` does: the
 * records stay locked to this (departed) member and come back when their
 * locks expire. `describe` prints where the group's records stand.
 */
import { Command, Option } from 'commander';
import type { QueueMessage } from '../../client/index.js';
import { CliError } from '../cli-error.js';
import { withRunnel } from '../client-session.js';
import { recordJson } from '../consume/record-format.js';
import { intOption, withBootstrap, withJson, type ClientOptions } from '../options.js';
import { formatTable, printJson, printLine } from '../output.js';
import { withSubcommandBootstrap } from '../program-bootstrap.js';
import { MEMBER_HEADER, PARTITION_HEADER, configLine, memberRows, partitionRows, queueReport, type QueueDescribeReport } from '../queue/describe-report.js';

const ACK_CHOICES = ['accept', 'release', 'reject', 'none'] as const;
type AckChoice = (typeof ACK_CHOICES)[number];

interface ReceiveOptions extends ClientOptions {
  group: string;
  max: number;
  waitMs: number;
  ack: AckChoice;
  json?: boolean;
}

/** What the CLI says as the reason of a release or reject it was told to give. */
const CLI_REASON = 'settled with runnel queue receive';

export function queueCommand(): Command {
  const queue = withSubcommandBootstrap(new Command('queue').description('receive records from a queue (a share group) and settle them; describe where a queue\'s records stand'));

  withJson(
    withBootstrap(
      queue
        .command('receive')
        .description('take up to --max records as a member of the share group, print them with their delivery count, and settle them as --ack says')
        .argument('<topic>', 'the topic the queue reads')
        .requiredOption('-g, --group <group>', 'the share group (the queue\'s name)')
        .option('--max <n>', 'the most records to take', intOption(1, 2 ** 31 - 1), 10)
        .option('--wait-ms <ms>', 'how long to wait for the first record', intOption(0, 2 ** 31 - 1), 1000)
        .addOption(new Option('--ack <how>', 'accept (done), release (deliver again), reject (never again; dead-lettered if the group has a topic for it), none (settle nothing: they come back when their locks expire)').choices(ACK_CHOICES).default('none')),
    ),
    'print one JSON object a line per record (with its delivery count and how it was settled)',
  ).action(async (topic: string, opts: ReceiveOptions) => {
    await withRunnel(opts, async (runnel) => {
      const q = runnel.queue({ topic, group: opts.group, waitMs: opts.waitMs, autoExtend: false });
      let failures: string[] = [];
      try {
        const got = await q.receive({ max: opts.max, waitMs: opts.waitMs });
        failures = await settleAll(got, opts.ack);
        await printReceived(got, opts);
      } finally {
        await q.close({ release: opts.ack !== 'none' });
      }
      for (const f of failures) process.stderr.write(`error: ${f}\n`);
      if (failures.length > 0) throw new CliError('', 1);
    });
  });

  withJson(
    withBootstrap(
      queue
        .command('describe')
        .description('a share group\'s configuration and members, and per partition its in-flight, acquired, available, delayed, accepted, rejected and dead-lettered records and the oldest unsettled record\'s age, with totals')
        .argument('<group>', 'share group id'),
    ),
  ).action(async (group: string, opts: ClientOptions & { json?: boolean }) => {
    const [description] = await withRunnel(opts, (runnel) => runnel.admin().describeShareGroups([group]));
    const report = queueReport(description!, Date.now());
    if (opts.json === true) return printJson(report);
    const members = report.members.length;
    await printLine(`Share group ${group}: ${report.state}, ${members} member${members === 1 ? '' : 's'} (group epoch ${report.groupEpoch}, coordinator ${report.coordinator})`);
    await printLine(`Configuration: ${configLine(report)}`);
    if (members > 0) await printLine(`\n${formatTable(MEMBER_HEADER, memberRows(report))}`);
    await printLine(`\n${report.partitions.length === 0 ? 'No partitions: no member subscribes to a topic that exists.' : formatTable(PARTITION_HEADER, partitionRows(report))}`);
    const pending = pendingDeadLettersLine(report);
    if (pending !== null) await printLine(`\n${pending}`);
  });

  return queue;
}

/**
 * Rejected records whose copy to the dead-letter topic is not made yet
 * (every rejection of a group with a dead-letter topic is counted in
 * `rejected` at once and in `deadLettered` once copied), as a sentence;
 * null when there are none. The reason a copy fails is in the
 * coordinator's log only (ShareGroupDescribe v0 has no field for it).
 */
export function pendingDeadLettersLine(report: QueueDescribeReport): string | null {
  const pending = report.totals.rejected - report.totals.deadLettered;
  if (report.config.deadLetterTopic === '' || pending <= 0) return null;
  return `${pending} rejected record${pending === 1 ? '' : 's'} not yet copied to ${report.config.deadLetterTopic}: the coordinator retries, less and less often (up to a minute apart) while the copy fails; its log says why (event deadLetterRetry).`;
}

/** Settles every record as told; the failures, one line each. */
async function settleAll(got: readonly QueueMessage[], ack: AckChoice): Promise<string[]> {
  const settle = (m: QueueMessage): Promise<void> => {
    switch (ack) {
      case 'accept':
        return m.ack();
      case 'release':
        return m.release({ reason: CLI_REASON });
      case 'reject':
        return m.reject(CLI_REASON);
      case 'none':
        return Promise.resolve();
    }
  };
  const outcomes = await Promise.allSettled(got.map(settle));
  return outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [] : [`${ack} of ${got[i]!.topic}-${got[i]!.partition} offset ${got[i]!.offset} failed: ${(o.reason as Error).message}`]));
}

async function printReceived(got: readonly QueueMessage[], opts: ReceiveOptions): Promise<void> {
  if (opts.json === true) {
    for (const m of got) await printJson({ ...recordJson(m), deliveryCount: m.deliveryCount, ack: opts.ack });
    return;
  }
  if (got.length === 0) {
    process.stderr.write(`No records within ${opts.waitMs} ms.\n`);
    return;
  }
  const text = (b: Buffer | null): string => (b === null ? 'null' : JSON.stringify(b.toString('utf8')).slice(1, -1));
  await printLine(formatTable(['PARTITION', 'OFFSET', 'DELIVERY-COUNT', 'KEY', 'VALUE'], got.map((m) => [m.partition, m.offset, m.deliveryCount, text(m.key), text(m.value)])));
  const did = { accept: 'accepted', release: 'released', reject: 'rejected', none: 'left locked until their visibility timeout' }[opts.ack];
  process.stderr.write(`${got.length} record${got.length === 1 ? '' : 's'} ${did}.\n`);
}
