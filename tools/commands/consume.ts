/**
 * `runnel consume TOPIC`: record values on stdout, one a line, from every
 * partition (or the one `--partition` names), like kafka-console-consumer and
 * `kcat -C`. It stops after `--max-messages`, after `--timeout-ms` with
 * nothing new, or on Ctrl-C; each stop is a normal end (exit 0) and the count
 * goes to stderr, so stdout carries only records.
 */
import { Command, Option } from 'commander';
import type { Consumer, Message, Runnel, StartOffset } from '../../client/index.js';
import { withRunnel } from '../client-session.js';
import { CliError } from '../cli-error.js';
import { intOption, withBootstrap, type ClientOptions } from '../options.js';
import { stdoutIsClosed, writeOut } from '../output.js';
import { reportBrokerOutages } from '../broker-notice.js';

interface ConsumeOptions extends ClientOptions {
  partition?: number;
  fromBeginning?: boolean;
  offset?: number;
  maxMessages?: number;
  timeoutMs?: number;
  printKey?: boolean;
  printOffset?: boolean;
  printPartition?: boolean;
  printTimestamp?: boolean;
}

export function consumeCommand(): Command {
  return withBootstrap(
    new Command('consume')
      .description('print record values, one a line (new records only, unless told where to start)')
      .argument('<topic>', 'topic name')
      .option('--partition <n>', 'read only this partition (default: every partition)', intOption(0))
      .addOption(new Option('--from-beginning', 'start at the earliest offset of each partition').conflicts('offset'))
      .addOption(
        new Option('--offset <n>', 'start at offset n of each partition; a negative n starts n records before the end')
          .argParser(intOption(Number.MIN_SAFE_INTEGER)),
      )
      .option('--max-messages <n>', 'stop after this many records', intOption(1))
      .option('--timeout-ms <ms>', 'stop when nothing has arrived for this long', intOption(1))
      .option('--print-key', 'print the key, then a tab, before the value')
      .option('--print-offset', 'print Offset:<n> and a tab before each record')
      .option('--print-partition', 'print Partition:<n> and a tab before each record')
      .option('--print-timestamp', 'print Timestamp:<ms> and a tab before each record'),
  ).action(async (topic: string, opts: ConsumeOptions) => {
    const consumed = await withRunnel(opts, (runnel) => consumeTopic(runnel, topic, opts));
    process.stderr.write(`Processed a total of ${consumed} message${consumed === 1 ? '' : 's'}.\n`);
  });
}

async function consumeTopic(runnel: Runnel, topic: string, opts: ConsumeOptions): Promise<number> {
  const assignments = await startPositions(runnel, topic, opts);
  const consumer = runnel.consumer();
  consumer.assign(assignments);
  const stop = stopSignal();
  // The consumer retries for as long as it runs; a person hears that it is waiting, not silence.
  const notice = reportBrokerOutages(consumer, 'still trying (Ctrl-C to stop)');
  try {
    return await printMessages(consumer, opts, stop);
  } finally {
    notice.dispose();
    stop.dispose();
    await consumer.close();
  }
}

/** Where each partition starts, checked against the topic so a typo fails fast with the valid range. */
async function startPositions(
  runnel: Runnel,
  topic: string,
  opts: ConsumeOptions,
): Promise<{ topic: string; partition: number; offset: StartOffset }[]> {
  const description = await runnel.admin().describeTopic(topic);
  let partitions = description.partitions.map((p) => p.partition).sort((a, b) => a - b);
  if (opts.partition !== undefined) {
    if (!partitions.includes(opts.partition)) {
      throw new CliError(`topic ${topic} has no partition ${opts.partition}; its partitions are 0 to ${partitions.length - 1}`);
    }
    partitions = [opts.partition];
  }
  if (opts.offset !== undefined && opts.offset < 0) {
    const back = -opts.offset;
    const ranges = new Map((await runnel.admin().listOffsets(topic)).map((r) => [r.partition, r]));
    return partitions.map((partition) => {
      const range = ranges.get(partition);
      const offset = range === undefined ? 'earliest' : Math.max(range.earliest, range.latest - back);
      return { topic, partition, offset };
    });
  }
  const offset: StartOffset = opts.fromBeginning ? 'earliest' : (opts.offset ?? 'latest');
  return partitions.map((partition) => ({ topic, partition, offset }));
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

async function printMessages(consumer: Consumer, opts: ConsumeOptions, stop: StopSignal): Promise<number> {
  const batches = consumer.batches()[Symbol.asyncIterator]();
  const limit = opts.maxMessages ?? Infinity;
  let count = 0;
  while (count < limit && !stdoutIsClosed()) {
    const idle = idleTimer(opts.timeoutMs);
    const next = await Promise.race([batches.next(), stop.stopped.then(() => null), idle.expired.then(() => null)]);
    idle.cancel();
    if (next === null || next.done === true) break;
    const messages = next.value.messages.slice(0, limit - count);
    if (messages.length === 0) continue;
    count += messages.length;
    await writeOut(Buffer.concat(messages.flatMap((m) => formatMessage(m, opts))));
  }
  return count;
}

function idleTimer(timeoutMs: number | undefined): { expired: Promise<void>; cancel(): void } {
  if (timeoutMs === undefined) return { expired: new Promise<void>(() => {}), cancel() {} };
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  return { expired, cancel: () => clearTimeout(timer) };
}

const TAB = Buffer.from('\t');
const NEWLINE = Buffer.from('\n');
const NULL_TEXT = Buffer.from('null');

/** kafka-console-consumer's field order: timestamp, partition, offset, key, value. */
function formatMessage(message: Message, opts: ConsumeOptions): Buffer[] {
  const parts: Buffer[] = [];
  if (opts.printTimestamp) parts.push(Buffer.from(`Timestamp:${message.timestamp}`), TAB);
  if (opts.printPartition) parts.push(Buffer.from(`Partition:${message.partition}`), TAB);
  if (opts.printOffset) parts.push(Buffer.from(`Offset:${message.offset}`), TAB);
  if (opts.printKey) parts.push(message.key ?? NULL_TEXT, TAB);
  parts.push(message.value ?? NULL_TEXT, NEWLINE);
  return parts;
}
