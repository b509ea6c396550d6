/**
 * `runnel consume TOPIC`: record values on stdout, one a line, from every
 * partition (or the one `--partition` names), like kafka-console-consumer and
 * `kcat -C`; or every field as JSON lines with `--format json`. It stops
 * after `--max-messages`, after `--timeout-ms` with nothing new, with
 * `--exit-at-end` once every partition is read to its end, or on Ctrl-C;
 * each stop is a normal end (exit 0) and the count goes to stderr, so stdout
 * carries only records. Except one: nothing having arrived for
 * `--timeout-ms` because a broker cannot be reached is a failure (exit 1,
 * naming the broker), not an empty topic.
 *
 * The partitions read are those the topic has when the command starts;
 * partitions added later (`topic alter --partitions`) are read by the next
 * run.
 *
 * `--group G` joins consumer group G instead: the group's coordinator
 * decides which partitions this process reads (several `consume --group G`
 * share a topic), each starts at the group's committed offset (else at the
 * end, or the first record with `--from-beginning`), and what was printed
 * is committed: as it goes, and exactly up to the last record printed when
 * the command stops, so the next run carries on from there.
 */
import { Command, Option } from 'commander';
import type { Consumer, Runnel } from '../../client/index.js';
import { withRunnel } from '../client-session.js';
import { CliError } from '../cli-error.js';
import { PartitionEnds } from '../consume/partition-ends.js';
import { CONSUME_FORMATS, formatRecord, type ConsumeFormat, type TextFields } from '../consume/record-format.js';
import { planConsume, type StartOptions } from '../consume/start-positions.js';
import { intOption, parseTimestamp, withBootstrap, type ClientOptions } from '../options.js';
import { stdoutIsClosed, writeOut } from '../output.js';
import { reportBrokerOutages, type BrokerNotice } from '../broker-notice.js';

interface ConsumeOptions extends ClientOptions, StartOptions, TextFields {
  group?: string;
  delayedDelivery: 'ignore' | 'wait';
  maxMessages?: number;
  timeoutMs?: number;
  format: ConsumeFormat;
  exitAtEnd?: boolean;
}

const TEXT_FIELD_FLAGS: Readonly<Record<keyof TextFields, string>> = {
  printKey: '--print-key',
  printOffset: '--print-offset',
  printPartition: '--print-partition',
  printTimestamp: '--print-timestamp',
  printHeaders: '--print-headers',
};

export function consumeCommand(): Command {
  return withBootstrap(
    new Command('consume')
      .description('print record values, one a line (new records only, unless told where to start)')
      .argument('<topic>', 'topic name')
      .addOption(new Option('--group <group>', 'join this consumer group: read the partitions its coordinator assigns, from the group\'s committed offsets, committing what is printed').conflicts(['partition', 'offset', 'fromTime', 'exitAtEnd']))
      .option('--partition <n>', 'read only this partition (default: every partition)', intOption(0))
      .addOption(new Option('--from-beginning', 'start at the earliest offset of each partition').conflicts(['offset', 'fromTime']))
      .addOption(
        new Option('--offset <n>', 'start at offset n of each partition; a negative n starts n records before the end')
          .argParser(intOption(Number.MIN_SAFE_INTEGER))
          .conflicts('fromTime'),
      )
      .addOption(
        new Option('--from-time <time>', 'start at the first record at or after this time: ms since the epoch or ISO 8601 (2026-01-31T09:30:00Z)')
          .argParser(parseTimestamp),
      )
      .option('--max-messages <n>', 'stop after this many records', intOption(1))
      .option('--timeout-ms <ms>', 'stop when nothing has arrived for this long', intOption(1))
      .option('-e, --exit-at-end', 'stop once every partition is read up to the end it had at the start (kcat -e)')
      .addOption(new Option('--delayed-delivery <mode>', 'wait: hold a record whose runnel.deliver.at is in the future (and its partition behind it) until then; ignore: print it at once').choices(['ignore', 'wait']).default('ignore'))
      .addOption(new Option('--format <format>', 'text: values (with the --print-* fields); json: one object a line with every field').choices(CONSUME_FORMATS).default('text'))
      .option('--print-key', 'print the key, then a tab, before the value')
      .option('--print-offset', 'print Offset:<n> and a tab before each record')
      .option('--print-partition', 'print Partition:<n> and a tab before each record')
      .option('--print-timestamp', 'print Timestamp:<ms> and a tab before each record')
      .option('--print-headers', 'print the headers (key:value,key:value, or NO_HEADERS) and a tab before each record'),
  ).action(async (topic: string, opts: ConsumeOptions) => {
    const textFlags = (Object.keys(TEXT_FIELD_FLAGS) as (keyof TextFields)[]).filter((field) => opts[field] === true);
    if (opts.format === 'json' && textFlags.length > 0) {
      throw new CliError(`--format json prints every field already; drop ${textFlags.map((field) => TEXT_FIELD_FLAGS[field]).join(', ')}`);
    }
    const consumed = await withRunnel(opts, (runnel) => consumeTopic(runnel, topic, opts));
    process.stderr.write(`Processed a total of ${consumed} message${consumed === 1 ? '' : 's'}.\n`);
  });
}

async function consumeTopic(runnel: Runnel, topic: string, opts: ConsumeOptions): Promise<number> {
  let consumer: Consumer;
  let ends: PartitionEnds | undefined;
  if (opts.group !== undefined) {
    // Checked first, so a mistyped topic fails at once instead of waiting in a group for nothing.
    await runnel.admin().describeTopic(topic);
    consumer = runnel.consumer({ groupId: opts.group, delayedDelivery: opts.delayedDelivery });
    consumer.subscribe({ topics: [topic], fromBeginning: opts.fromBeginning === true });
  } else {
    const plan = await planConsume(runnel.admin(), topic, opts);
    ends = opts.exitAtEnd === true ? new PartitionEnds(plan.ends) : undefined;
    if (ends?.done === true) return 0;
    consumer = runnel.consumer({ delayedDelivery: opts.delayedDelivery });
    consumer.assign(plan.assignments);
  }
  const stop = stopSignal();
  // The consumer retries for as long as it runs; a person hears that it is waiting, not silence.
  const notice = reportBrokerOutages(consumer, 'still trying (Ctrl-C to stop)');
  const printed = new Map<string, { topic: string; partition: number; offset: number }>();
  try {
    return await printMessages(consumer, opts, stop, ends, notice, printed);
  } finally {
    notice.dispose();
    stop.dispose();
    if (opts.group !== undefined) await commitPrinted(consumer, printed);
    await consumer.close();
  }
}

/**
 * Commits exactly what was printed, in the partitions this member still
 * owns: the last batch may have been cut short by --max-messages, and the
 * group's offset must not pass a record nobody saw.
 */
async function commitPrinted(consumer: Consumer, printed: Map<string, { topic: string; partition: number; offset: number }>): Promise<void> {
  const owned = new Set(consumer.assignment().map((p) => `${p.topic}\0${p.partition}`));
  const offsets = [...printed].filter(([key]) => owned.has(key)).map(([, o]) => o);
  try {
    await consumer.commit(offsets);
  } catch (err) {
    process.stderr.write(`Could not commit the group's offsets (${(err as Error).message}); the next run reads the uncommitted records again.\n`);
  }
}

interface StopSignal {
  readonly stopped: Promise<void>;
  dispose(): void;
}

/** Resolves on Ctrl-C (or SIGTERM) so the loop can end cleanly and report its count. */
function stopSignal(): StopSignal {
  let resolveStop!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStop = resolve));
  const onSignal = () => resolveStop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    stopped,
    dispose() {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}

async function printMessages(consumer: Consumer, opts: ConsumeOptions, stop: StopSignal, ends: PartitionEnds | undefined, notice: BrokerNotice, printed: Map<string, { topic: string; partition: number; offset: number }>): Promise<number> {
  const batches = consumer.batches()[Symbol.asyncIterator]();
  const limit = opts.maxMessages ?? Infinity;
  let count = 0;
  while (count < limit && !stdoutIsClosed() && ends?.done !== true) {
    const idle = idleTimer(opts.timeoutMs);
    const next = await Promise.race([batches.next(), stop.stopped.then(() => null), idle.expired.then(() => 'idle' as const)]);
    idle.cancel();
    if (next === 'idle') {
      // Quiet because the topic is quiet is a normal end; quiet because no broker answers is not.
      const outage = notice.describe();
      if (outage !== '') {
        throw new CliError(`nothing arrived for --timeout-ms ${opts.timeoutMs} ms because ${outage}, after ${count} record${count === 1 ? '' : 's'}; check that the broker is running, or point --bootstrap (or RUNNEL_BOOTSTRAP) at one that is`);
      }
      break;
    }
    if (next === null || next.done === true) break;
    const messages = (ends === undefined ? next.value.messages : ends.take(next.value)).slice(0, limit - count);
    if (messages.length === 0) continue;
    count += messages.length;
    await writeOut(Buffer.concat(messages.flatMap((m) => formatRecord(m, opts.format, opts))));
    const last = messages[messages.length - 1]!;
    printed.set(`${last.topic}\0${last.partition}`, { topic: last.topic, partition: last.partition, offset: last.offset + 1 });
  }
  return count;
}

function idleTimer(timeoutMs: number | undefined): { expired: Promise<void>; cancel(): void } {
  if (timeoutMs === undefined) return { expired: new Promise<void>(() => {}), cancel() {} };
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  return { expired, cancel: () => clearTimeout(timer) };
}
