/**
 * `runnel produce TOPIC`: one record per stdin line, like
 * kafka-console-producer and `kcat -P`. Lines read in one burst go out in one
 * `send`, so piping a large file is fast, while a person typing sees each line
 * sent at once. Reading pauses while too many bytes await acknowledgement
 * (bounded memory however large the input: each line counts its text plus
 * what holding it costs, so a million short lines are not taken for a few
 * megabytes). The topic is looked up before the first line is read: a topic
 * that does not exist (and that the broker will not create) fails at once,
 * whatever stdin holds. The first failed record stops the reading; the
 * command then exits non-zero with that error.
 */
import { Command, Option } from 'commander';
import { createInterface } from 'node:readline';
import type { Acks, CompressionName, Producer, ProducerMessage } from '../../client/index.js';
import { withRunnel } from '../client-session.js';
import { CliError, explainError } from '../cli-error.js';
import { collectHeader, intOption, parseAcks, parseCompression, parseTimestamp, withBootstrap, type ClientOptions } from '../options.js';
import { lineRecord, type LineRecordOptions } from '../produce/line-records.js';
import { producerTimeouts, withDeliveryTimeout } from '../producer-timeouts.js';
import { reportBrokerOutages } from '../broker-notice.js';

interface ProduceOptions extends ClientOptions, LineRecordOptions {
  acks: Acks;
  lingerMs: number;
  maxInFlightBytes: number;
  compression: CompressionName;
  deliveryTimeoutMs: number;
}

/** Lines gathered per `send` at most. */
const LINES_PER_SEND_MAX = 1000;

/**
 * What a line costs to hold beyond its text, until it is acknowledged: the
 * string's header, its record object, this command's entry for it, and its
 * framing in a batch (measured: about 150 bytes for a short line on Node 20).
 */
const LINE_OVERHEAD_BYTES = 160;

export function produceCommand(): Command {
  return withDeliveryTimeout(withBootstrap(
    new Command('produce')
      .description('send each line of stdin as one record')
      .argument('<topic>', 'topic name')
      .option('--acks <0|1|all>', 'acknowledgement the broker gives before a record counts as sent', parseAcks, 'all' as Acks)
      .option('--key-separator <sep>', 'split each line at the first <sep> into key and value (a line without it is an error)')
      .option('-H, --header <key=value>', 'a header on every record (repeatable; a key may repeat)', collectHeader, [])
      .option('--partition <n>', 'send every record to this partition (default: by key, or spread when keyless)', intOption(0))
      .option('--null-value', 'send an empty value as null (a tombstone on a compacted topic)')
      .addOption(new Option('--deliver-at <time>', 'delayed delivery: queues (and consumers that wait for it) get each record no earlier than this time (ms since the epoch or ISO 8601)').argParser(parseTimestamp).conflicts('deliverAfterMs'))
      .option('--deliver-after-ms <ms>', 'delayed delivery: no earlier than this long after each line is sent', intOption(0))
      .addOption(new Option('--compression <codec>', 'compress batches: none, gzip or lz4').argParser(parseCompression).default('none'))
      .option('--linger-ms <ms>', 'wait up to this long to batch records together', intOption(0, 60_000), 5)
      .option('--max-in-flight-bytes <n>', `pause reading stdin while this many bytes await acknowledgement (each line counts ${LINE_OVERHEAD_BYTES} bytes more than its text, for what holding it costs)`, intOption(1024), 16 * 1024 * 1024),
  )).action(async (topic: string, opts: ProduceOptions) => {
    const timeouts = producerTimeouts(opts.deliveryTimeoutMs, opts.lingerMs);
    const outcome = await withRunnel(opts, async (runnel) => {
      const producer = runnel.producer({ acks: opts.acks, lingerMs: opts.lingerMs, compression: opts.compression, ...timeouts });
      try {
        // Ask the broker first, before a line is read: none at all, or no such topic, fails in seconds, as every
        // other command does, not after the delivery timeout (nor after reading all of stdin).
        const count = (await producer.partitionsFor(topic)).length;
        if (opts.partition !== undefined && opts.partition >= count) {
          throw new CliError(`topic ${topic} has no partition ${opts.partition}; its partitions are 0 to ${count - 1}`);
        }
        const notice = reportBrokerOutages(producer, `records wait for it up to --delivery-timeout-ms (${opts.deliveryTimeoutMs} ms)`);
        try {
          return await pumpLines(producer, topic, opts);
        } finally {
          notice.dispose();
        }
      } finally {
        await producer.close();
      }
    });
    const { failure } = outcome;
    if (failure !== undefined) {
      const problem = explainError(failure.error, { bootstrap: opts.bootstrap, topic });
      throw new CliError(
        `line ${failure.lineNumber} was not sent: ${problem} (${outcome.acknowledged} of ${outcome.lines} lines read were acknowledged; reading stopped there)`,
      );
    }
    process.stderr.write(`Sent ${outcome.acknowledged} record${outcome.acknowledged === 1 ? '' : 's'} to ${topic}.\n`);
  });
}

interface PumpOutcome {
  lines: number;
  acknowledged: number;
  failure?: { lineNumber: number; error: unknown };
}

async function pumpLines(producer: Producer, topic: string, opts: ProduceOptions): Promise<PumpOutcome> {
  const input = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  const outcome: PumpOutcome = { lines: 0, acknowledged: 0 };
  let pending: { message: ProducerMessage; lineNumber: number; bytes: number }[] = [];
  let inFlightBytes = 0;
  const inFlight = new Set<Promise<void>>();
  let flushScheduled = false;

  const fail = (lineNumber: number, error: unknown) => {
    if (outcome.failure === undefined || lineNumber < outcome.failure.lineNumber) outcome.failure = { lineNumber, error };
    input.close();
  };

  const sendPending = () => {
    flushScheduled = false;
    while (pending.length > 0 && outcome.failure === undefined) {
      const chunk = pending.slice(0, LINES_PER_SEND_MAX);
      pending = pending.slice(chunk.length);
      const bytes = chunk.reduce((sum, entry) => sum + entry.bytes, 0);
      inFlightBytes += bytes;
      // Only numbers outlive the call: the lines themselves can be collected once the producer has batched them.
      const lineCount = chunk.length;
      const firstLine = chunk[0]?.lineNumber ?? 0;
      const sent = producer
        .send({ topic, messages: chunk.map((entry) => entry.message) })
        .then(
          () => {
            outcome.acknowledged += lineCount;
          },
          (error: unknown) => fail(firstLine, error),
        )
        .finally(() => {
          inFlightBytes -= bytes;
          inFlight.delete(sent);
          if (inFlightBytes < opts.maxInFlightBytes && outcome.failure === undefined) input.resume();
        });
      inFlight.add(sent);
      if (inFlightBytes >= opts.maxInFlightBytes) input.pause();
    }
  };

  input.on('line', (line) => {
    if (outcome.failure !== undefined) return;
    outcome.lines += 1;
    const lineNumber = outcome.lines;
    const message = lineRecord(line, opts);
    if (message instanceof Error) {
      fail(lineNumber, message);
      return;
    }
    pending.push({ message, lineNumber, bytes: Buffer.byteLength(line) + LINE_OVERHEAD_BYTES });
    if (pending.length >= LINES_PER_SEND_MAX) sendPending();
    else if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(sendPending);
    }
  });

  // Ctrl-C ends the input like Ctrl-D: what was read is still sent and acknowledged.
  const stopReading = () => input.close();
  process.once('SIGINT', stopReading);
  await new Promise<void>((resolve) => input.once('close', resolve));
  process.removeListener('SIGINT', stopReading);
  sendPending();
  while (inFlight.size > 0) await Promise.all([...inFlight]);
  if (outcome.failure === undefined) await producer.flush();
  return outcome;
}
