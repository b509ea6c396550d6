/**
 * `runnel dump-log PATH`: what is inside a segment file, read straight from
 * disk with no broker (Kafka's DumpLogSegments). For a `.log`: every batch's
 * offsets, leader epoch, record count, size, codec, timestamps and whether its
 * CRC holds (with `--records`, its records too), then where the file stops
 * being whole batches. A batch encrypted at rest names its key; with the
 * keyring (`--key-file`, or RUNNEL_ENCRYPTION_KEYS) it is also checked
 * (authenticated) and its records can be shown. For an `.index` or
 * `.timeindex`: its entries, each checked against the segment's `.log`.
 * Exit status: 0 when the file is sound, 2 when it found problems (bad CRC, torn
 * tail, index entries that point nowhere), 1 when it could not read the file.
 */
import { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CliError } from '../cli-error.js';
import { envelopeReader } from '../../broker/storage/encryption/offline-reader.js';
import { scanBatches, type DumpedRecord, type EnvelopeHandling, type ScanEnd, type ScannedBatch } from '../dump-log/batch-scan.js';
import {
  logFactsOf,
  scanOffsetIndex,
  scanTimeIndex,
  type IndexScan,
  type LogFacts,
  type OffsetIndexEntry,
  type TimeIndexEntry,
} from '../dump-log/index-scan.js';
import { parseSegmentFileName, type SegmentFileName } from '../dump-log/segment-files.js';
import { withJson } from '../options.js';
import { printJson, printLine, stdoutIsClosed } from '../output.js';

/** Exit status when the file was read but is not sound. */
export const DUMP_LOG_PROBLEMS_EXIT_CODE = 2;

interface DumpOptions {
  json?: boolean;
  records?: boolean;
  keyFile?: string;
}

/** The broker's setting, read from the environment as the broker reads it. */
const KEYS_ENV_VAR = 'RUNNEL_ENCRYPTION_KEYS';

/** Encrypted batches: opened with the keyring from --key-file or RUNNEL_ENCRYPTION_KEYS, else only named. */
function envelopeHandling(opts: DumpOptions): EnvelopeHandling {
  let keyring: { text: string; source: string } | null = null;
  if (opts.keyFile !== undefined) {
    try {
      keyring = { text: readFileSync(opts.keyFile, 'utf8'), source: `--key-file ${opts.keyFile}` };
    } catch (err) {
      throw new CliError(`--key-file ${opts.keyFile} cannot be read: ${(err as Error).message}`);
    }
  } else if ((process.env[KEYS_ENV_VAR] ?? '') !== '') {
    keyring = { text: process.env[KEYS_ENV_VAR] as string, source: KEYS_ENV_VAR };
  }
  try {
    return envelopeReader(keyring);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

export function dumpLogCommand(): Command {
  return withJson(
    new Command('dump-log')
      .description('print the batches of a segment .log file, or the entries of its .index or .timeindex (no broker needed)')
      .argument('<path>', 'a segment file: <20-digit base offset>.log, .index or .timeindex')
      .option('--records', 'also print every record of each batch (offset, timestamp, key, value, headers as UTF-8)')
      .option('--key-file <file>', 'keyring of a topic encrypted at rest (the broker\'s encryption.key.file; default: RUNNEL_ENCRYPTION_KEYS): each encrypted batch is checked and its records can be shown'),
    'print one JSON object per line: each batch or entry, then a summary',
  ).action(async (path: string, opts: DumpOptions) => {
    const name = parseSegmentFileName(path);
    if (name === undefined) {
      throw new CliError(`${basename(path)} is not a segment file; dump-log reads <20-digit base offset>.log, .index and .timeindex files`);
    }
    if (!existsSync(path)) throw new CliError(`${path} does not exist; check the path (segment files live in <data dir>/<topic>-<partition>/)`);
    const problems = name.kind === 'log' ? await dumpLog(path, name, opts) : await dumpIndex(path, name, opts);
    if (problems.length > 0) {
      throw new CliError(`${basename(path)} has problems: ${problems.join('; ')}`, DUMP_LOG_PROBLEMS_EXIT_CODE);
    }
  });
}

async function dumpLog(path: string, name: SegmentFileName, opts: DumpOptions): Promise<string[]> {
  if (!opts.json) await printLine(`Dumping ${path} (segment base offset ${name.baseOffset})`);
  const scan = scanBatches(path, name.baseOffset, { decodeRecords: opts.records, envelopes: envelopeHandling(opts) });
  let crcFailures = 0;
  let warnings = 0;
  let records = 0;
  let batches = 0;
  let firstOffset: number | undefined;
  let lastOffset: number | undefined;
  let step = scan.next();
  while (step.done !== true) {
    if (stdoutIsClosed()) return []; // `| head`: the reader has what it wanted
    const batch = step.value;
    batches += 1;
    records += batch.recordCount;
    firstOffset ??= batch.baseOffset;
    lastOffset = batch.lastOffset;
    if (!batch.crcValid) crcFailures += 1;
    warnings += batch.warnings.length;
    await (opts.json ? printJson({ type: 'batch', ...batch }) : printLine(formatBatch(batch)));
    if (!opts.json) for (const record of batch.records ?? []) await printLine(formatRecord(record));
    if (!opts.json && opts.records === true && batch.recordsHidden !== undefined) await printLine(`| ${batch.recordsHidden}`);
    step = scan.next();
  }
  const end: ScanEnd = step.value;
  const summary = { type: 'summary', file: path, kind: 'log', baseOffset: name.baseOffset, batches, records, firstOffset: firstOffset ?? null,
    lastOffset: lastOffset ?? null, fileBytes: end.fileBytes, scannedBytes: end.scannedBytes, crcFailures, warnings, problem: end.problem ?? null };
  if (opts.json) await printJson(summary);
  else {
    const range = firstOffset === undefined ? 'no offsets' : `offsets ${firstOffset}..${lastOffset}`;
    await printLine(`${batches} batches, ${records} records, ${range}, ${end.scannedBytes} of ${end.fileBytes} bytes in whole batches, ${crcFailures} CRC failures`);
    if (end.problem) await printLine(`stopped at byte ${end.problem.position}: ${end.problem.message}`);
  }
  const problems: string[] = [];
  if (crcFailures > 0) problems.push(`${crcFailures} batch${crcFailures === 1 ? '' : 'es'} failed the CRC check`);
  if (warnings > 0) problems.push(`${warnings} warning${warnings === 1 ? '' : 's'} (marked WARNING)`);
  if (end.problem) problems.push(`the file stops being whole batches at byte ${end.problem.position}`);
  return problems;
}

function formatBatch(b: ScannedBatch): string {
  const line =
    `baseOffset: ${b.baseOffset} lastOffset: ${b.lastOffset} count: ${b.recordCount} position: ${b.position} size: ${b.sizeBytes} ` +
    `leaderEpoch: ${b.partitionLeaderEpoch} magic: ${b.magic} crc: 0x${b.crc.toString(16).padStart(8, '0')} crcValid: ${b.crcValid} ` +
    `codec: ${b.codec} ${b.timestampType}: ${b.firstTimestamp}..${b.maxTimestamp} producerId: ${b.producerId} ` +
    `producerEpoch: ${b.producerEpoch} baseSequence: ${b.baseSequence} transactional: ${b.transactional} control: ${b.control}` +
    (b.encryptedUnderKey === undefined ? '' : ` encryptedUnderKey: ${b.encryptedUnderKey ?? '?'}`);
  return b.warnings.length === 0 ? line : `${line} WARNING: ${b.warnings.join('; ')}`;
}

function formatRecord(r: DumpedRecord): string {
  const headers = Object.keys(r.headers).length === 0 ? '' : ` headers: ${JSON.stringify(r.headers)}`;
  return `| offset: ${r.offset} timestamp: ${r.timestamp} key: ${JSON.stringify(r.key)} value: ${JSON.stringify(r.value)}${headers}`;
}

async function dumpIndex(path: string, name: SegmentFileName, opts: DumpOptions): Promise<string[]> {
  const log = readLogFacts(name);
  const scan: IndexScan<OffsetIndexEntry> | IndexScan<TimeIndexEntry> =
    name.kind === 'index' ? scanOffsetIndex(path, name.baseOffset, log) : scanTimeIndex(path, name.baseOffset, log);
  const what = name.kind === 'index' ? 'offset index' : 'time index';
  if (!opts.json) {
    const checked = log === undefined ? `no ${basename(name.logPath)} to check against` : `checked against ${basename(name.logPath)}`;
    await printLine(`Dumping ${path} (${what}, segment base offset ${name.baseOffset}, ${checked})`);
  }
  let bad = 0;
  for (const entry of scan.entries) {
    if (entry.problem !== undefined) bad += 1;
    if (opts.json) await printJson({ type: 'entry', ...entry });
    else await printLine(formatEntry(entry));
  }
  if (opts.json) {
    await printJson({ type: 'summary', file: path, kind: name.kind, baseOffset: name.baseOffset, entries: scan.entries.length,
      unusedSlots: scan.unusedSlots, fileBytes: scan.fileBytes, trailingBytes: scan.trailingBytes, badEntries: bad, checkedAgainstLog: log !== undefined });
  } else {
    await printLine(`${scan.entries.length} entries, ${scan.unusedSlots} unused preallocated slots, ${scan.fileBytes} bytes, ${bad} bad entries`);
  }
  const problems: string[] = [];
  if (bad > 0) problems.push(`${bad} ${what} entr${bad === 1 ? 'y is' : 'ies are'} wrong`);
  if (scan.trailingBytes > 0) problems.push(`${scan.trailingBytes} bytes at the end are not a whole entry`);
  return problems;
}

function formatEntry(entry: OffsetIndexEntry | TimeIndexEntry): string {
  const facts = 'position' in entry ? `offset: ${entry.offset} position: ${entry.position}` : `timestamp: ${entry.timestamp} offset: ${entry.offset}`;
  return entry.problem === undefined ? facts : `${facts} PROBLEM: ${entry.problem}`;
}

/** The segment's batches, if its `.log` is there (null: there but empty). */
function readLogFacts(name: SegmentFileName): LogFacts | null | undefined {
  if (!existsSync(name.logPath)) return undefined;
  const batches: ScannedBatch[] = [];
  for (const batch of scanBatches(name.logPath, name.baseOffset)) batches.push(batch);
  return logFactsOf(batches);
}
