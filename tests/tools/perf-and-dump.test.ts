/**
 * The CLI's pieces that need no broker: latency histograms and the
 * Kafka-style summary line, dump-log's reading of healthy and damaged segment
 * and index files (and `runnel dump-log`'s exit status on one), option
 * parsing, and the one-line error messages.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBatch } from '../../protocol/batch/builder.js';
import { stampBatch } from '../../protocol/batch/header.js';
import { describeError } from '../../tools/cli-error.js';
import { scanBatches, type ScanEnd, type ScannedBatch } from '../../tools/dump-log/batch-scan.js';
import { logFactsOf, scanOffsetIndex, scanTimeIndex } from '../../tools/dump-log/index-scan.js';
import { parseSegmentFileName } from '../../tools/dump-log/segment-files.js';
import { RunnelError } from '../../client/index.js';
import { collectConfig, intOption, parseAcks, parseBootstrap } from '../../tools/options.js';
import { LatencyHistogram } from '../../tools/perf/latency-histogram.js';
import { formatSummary, formatWindow, PerfMeter } from '../../tools/perf/perf-meter.js';
import { inRepo } from '../support/repo-root.js';

/** The built CLI (npm test builds first). */
const RUNNEL_BIN = inRepo('bin', 'runnel.js');

t.test('latency histogram: percentiles of 1..1000 µs, reported in ms', async (t) => {
  const histogram = new LatencyHistogram();
  for (let micros = 1; micros <= 1000; micros++) histogram.recordMicros(micros);
  histogram.recordMicros(500, 1000); // a send of 1000 records acknowledged together
  const s = histogram.summary();
  t.equal(histogram.count, 2000);
  t.equal(s.latencyP50Ms, 0.5);
  t.ok(s.latencyP95Ms >= 0.899 && s.latencyP95Ms <= 0.901, `p95 ${s.latencyP95Ms}`);
  t.ok(s.latencyP99Ms >= 0.979 && s.latencyP99Ms <= 0.981, `p99 ${s.latencyP99Ms}`);
  t.equal(s.latencyMaxMs, 1);
  t.ok(Math.abs(s.latencyAvgMs - 0.50025) < 0.001, `avg ${s.latencyAvgMs}`);
  histogram.recordMicros(10 * 3_600_000_000);
  t.equal(histogram.summary().latencyMaxMs, 3_600_000, 'beyond an hour is clamped, not a crash');
});

t.test('perf meter: totals, windows and the Kafka line shapes', async (t) => {
  const meter = new PerfMeter('produce', 'x');
  meter.record(100, 10_000, 2000);
  meter.record(100, 10_000, 4000);
  const window = meter.takeWindow();
  t.equal(window.records, 200);
  t.equal(window.latencyAvgMs, 3);
  t.equal(window.latencyMaxMs, 4);
  t.equal(meter.takeWindow().records, 0, 'a window resets');
  const summary = meter.summary();
  t.match(summary, { kind: 'produce', topic: 'x', records: 200, bytes: 20_000, errors: 0 });
  t.match(formatWindow(window, 'sent'), /^200 records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), 3\.00 ms avg latency, 4\.00 ms max latency\.$/);
  t.match(formatSummary(summary, 'sent'), /3\.00 ms avg latency, 4\.00 ms max latency, [\d.]+ ms 50th, [\d.]+ ms 95th, [\d.]+ ms 99th, 4\.00 ms 99\.9th\.$/);
  meter.restart();
  t.equal(meter.summary().records, 0, 'restart drops warm-up records');
});

/** A segment of three batches of five records at base offset 100, with its two indexes. */
function writeSegment(dir: string): { log: string; index: string; timeindex: string; sizes: number[] } {
  const base = '00000000000000000100';
  const batches = [0, 1, 2].map((b) => {
    const records = Array.from({ length: 5 }, (_, i) => ({ key: null, value: Buffer.from(`value-${b}-${i}`) }));
    const batch = buildBatch(records, { nowMs: 1_700_000_000_000 + b, codec: b === 2 ? 'lz4' : 'none' });
    stampBatch(batch, 0, 100 + 5 * b, 7);
    return Buffer.from(batch);
  });
  const index = Buffer.alloc(8 * 10); // preallocated: 3 entries, 7 empty slots
  const timeindex = Buffer.alloc(12 * 10);
  let position = 0;
  batches.forEach((batch, b) => {
    index.writeUInt32BE(5 * b, 8 * b);
    index.writeUInt32BE(position, 8 * b + 4);
    timeindex.writeBigInt64BE(BigInt(1_700_000_000_000 + b), 12 * b);
    timeindex.writeUInt32BE(5 * b + 4, 12 * b + 8);
    position += batch.length;
  });
  const paths = { log: join(dir, `${base}.log`), index: join(dir, `${base}.index`), timeindex: join(dir, `${base}.timeindex`) };
  writeFileSync(paths.log, Buffer.concat(batches));
  writeFileSync(paths.index, index);
  writeFileSync(paths.timeindex, timeindex);
  return { ...paths, sizes: batches.map((b) => b.length) };
}

function scanAll(path: string, baseOffset: number, decodeRecords = false): { batches: ScannedBatch[]; end: ScanEnd } {
  const batches: ScannedBatch[] = [];
  const scan = scanBatches(path, baseOffset, { decodeRecords });
  for (let step = scan.next(); ; step = scan.next()) {
    if (step.done === true) return { batches, end: step.value };
    batches.push(step.value);
  }
}

t.test('dump-log reads a healthy segment and its indexes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-dump-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const segment = writeSegment(dir);
  t.match(parseSegmentFileName(segment.index), { kind: 'index', baseOffset: 100, logPath: segment.log });
  t.equal(parseSegmentFileName(join(dir, 'partition.meta')), undefined);

  const { batches, end } = scanAll(segment.log, 100);
  t.same(batches.map((b) => [b.baseOffset, b.lastOffset, b.recordCount, b.crcValid, b.partitionLeaderEpoch]), [
    [100, 104, 5, true, 7],
    [105, 109, 5, true, 7],
    [110, 114, 5, true, 7],
  ]);
  t.same(batches.map((b) => b.codec), ['none', 'none', 'lz4']);
  t.same(batches.map((b) => b.firstTimestamp), [1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002]);
  t.same(end, { fileBytes: segment.sizes.reduce((a, b) => a + b), scannedBytes: segment.sizes.reduce((a, b) => a + b) });

  t.equal(batches[0]?.records, undefined, 'records only on request');
  const decoded = scanAll(segment.log, 100, true).batches;
  t.same(decoded[2]?.records?.map((r) => [r.offset, r.value]), [[110, 'value-2-0'], [111, 'value-2-1'], [112, 'value-2-2'], [113, 'value-2-3'], [114, 'value-2-4']], 'lz4 records decoded');

  const facts = logFactsOf(batches);
  const offsets = scanOffsetIndex(segment.index, 100, facts);
  t.same(offsets.entries.map((e) => [e.offset, e.position, e.problem]), [[100, 0, undefined], [105, segment.sizes[0], undefined], [110, segment.sizes[0]! + segment.sizes[1]!, undefined]]);
  t.equal(offsets.unusedSlots, 7);
  const times = scanTimeIndex(segment.timeindex, 100, facts);
  t.same(times.entries.map((e) => [e.timestamp, e.offset, e.problem]), [[1_700_000_000_000, 104, undefined], [1_700_000_000_001, 109, undefined], [1_700_000_000_002, 114, undefined]]);
  t.equal(scanOffsetIndex(segment.index, 100, null).entries.every((e) => e.problem !== undefined), true, 'entries into an empty log are wrong');
  writeFileSync(segment.index, Buffer.alloc(80));
  t.equal(scanOffsetIndex(segment.index, 100, null).entries.length, 0, 'an all-zero preallocated index next to an empty log has no entries');
});

t.test('dump-log reports a flipped bit, a torn tail and index entries that point nowhere', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-dump-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const segment = writeSegment(dir);
  const bytes = readFileSync(segment.log);
  const secondRecordsAt = segment.sizes[0]! + 70; // inside the second batch's records
  bytes[secondRecordsAt] = bytes[secondRecordsAt]! ^ 0x40;
  const torn = Buffer.concat([bytes, bytes.subarray(0, 40)]);
  writeFileSync(segment.log, torn);
  const { batches, end } = scanAll(segment.log, 100);
  t.same(batches.map((b) => b.crcValid), [true, false, true], 'only the damaged batch fails its CRC; the walk goes on');
  t.match(end.problem, { position: bytes.length, message: /torn tail/ });
  const cli = spawnSync(process.execPath, [RUNNEL_BIN, 'dump-log', segment.log], { encoding: 'utf8', timeout: 30_000 });
  t.equal(cli.status, 2, 'runnel dump-log exits 2 on a damaged file');
  t.match(cli.stdout, /baseOffset: 105 lastOffset: 109 .*crcValid: false/);
  t.match(cli.stdout, /stopped at byte \d+: .*torn tail/);
  t.match(cli.stderr, /^error: 00000000000000000100\.log has problems: 1 batch failed the CRC check; the file stops being whole batches at byte \d+\n$/);

  // A length that runs past the end: the walk stops there, without reading beyond the file.
  const cut = bytes.subarray(0, segment.sizes[0]! + 80);
  writeFileSync(segment.log, cut);
  const short = scanAll(segment.log, 100);
  t.equal(short.batches.length, 1);
  t.match(short.end.problem, { position: segment.sizes[0], message: /only 80 bytes remain/ });
  const index = scanOffsetIndex(segment.index, 100, logFactsOf(short.batches));
  t.same(index.entries.map((e) => e.problem === undefined), [true, false, false], 'entries past the torn tail point nowhere');

  // Zeros where a batch should start (a preallocated or zero-filled tail).
  writeFileSync(segment.log, Buffer.concat([bytes.subarray(0, segment.sizes[0]), Buffer.alloc(100)]));
  t.match(scanAll(segment.log, 100).end.problem, { message: /not a batch boundary/ });
});

t.test('option parsers refuse bad values with a message naming the fix', async (t) => {
  t.same(parseBootstrap('127.0.0.1:9092, localhost:9093'), ['127.0.0.1:9092', 'localhost:9093']);
  t.throws(() => parseBootstrap('localhost'), /host:port/);
  t.throws(() => parseBootstrap('h:70000'), /1 to 65535/);
  t.same(collectConfig('b=2', collectConfig('a=1=x')), { a: '1=x', b: '2' });
  t.throws(() => collectConfig('novalue'), /key=value/);
  t.equal(intOption(1, 10)('7'), 7);
  t.throws(() => intOption(1, 10)('11'), /from 1 to 10/);
  t.throws(() => intOption(1)('1.5'), /whole number/);
  t.equal(parseAcks('all'), 'all');
  t.equal(parseAcks('-1'), 'all');
  t.equal(parseAcks('0'), 0);
  t.throws(() => parseAcks('2'), /0, 1 or all/);
});

t.test('errors become one line with advice', async (t) => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  const line = describeError(new Error('metadata failed', { cause: refused }), { bootstrap: '127.0.0.1:1' });
  t.match(line, /^error: cannot reach a broker at 127\.0\.0\.1:1 \(ECONNREFUSED\); start one with `runnel start`/);
  t.notMatch(line, /\n/);
  t.equal(describeError(new Error('two\n  lines')), 'error: two; lines');

  // Which advice fits comes from the error's structured facts, never from the wording of its reason.
  const aboutPartition = new RunnelError('UNKNOWN_TOPIC_OR_PARTITION', 'Fetching t-7: gone.', { reason: 'gone', topicPartition: { topic: 't', partition: 7 } });
  t.equal(describeError(aboutPartition, { topic: 't' }), 'error: gone; see its partitions with `runnel topic describe t`');
  const aboutTopic = new RunnelError('UNKNOWN_TOPIC_OR_PARTITION', 'Topic "t" has partitions nowhere.', { reason: 'Topic "t" has partitions nowhere' });
  t.equal(describeError(aboutTopic, { topic: 't' }), 'error: topic t does not exist; see the topics with `runnel topic list`, or create it with `runnel topic create t`');
  t.equal(describeError(aboutTopic, { topic: 't', command: 'topic delete' }), 'error: topic t does not exist; see the topics with `runnel topic list`');
});
