/**
 * Record-batch codec throughput: what the producer pays to build batches and
 * the consumer (and the broker's validation) pays to decode them, per codec,
 * and the figures behind the codec choices in protocol/batch/ (lz4 framed by
 * hand around lz4-napi's block functions rather than its frame functions;
 * gzip level). Prints figures, never fails on time.
 *
 * Run: npx tsc -p tsconfig.build.json && node dist/bench/batch.js [--quick]
 *
 * Records are JSON-like text (a small vocabulary, random numbers), so the
 * compression ratios resemble application events rather than zeros or noise.
 * Each figure is the best of several timed rounds (the machine is shared).
 */
import zlib from 'node:zlib';
import lz4 from 'lz4-napi';
import { seededRng, type Rng } from '../broker/world/rng.js';
import { BatchBuilder, batchesIn, decodeBatch, type CodecName, type RecordInput } from '../protocol/batch/index.js';
import { lz4FrameCompress, lz4FrameDecompress } from '../protocol/batch/lz4-frame.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
const ROUND_MS = quick ? 150 : 300;
const BATCH_TARGET_BYTES = 16 * 1024;
const NOW_MS = 1_760_000_000_000;

const WORDS = ['click', 'view', 'purchase', 'signup', 'login', 'logout', 'search', 'cart', 'checkout', 'refund', 'home', 'product', 'category', 'mobile', 'desktop', 'eu-west', 'us-east', 'ok', 'error', 'retry'];

function makeValue(rng: Rng, bytes: number, id: number): Buffer {
  let text = `{"id":${id},"user":"u${rng.int(100000)}","event":"${WORDS[rng.int(WORDS.length)]}","ts":${NOW_MS + rng.int(1e6)},"tags":[`;
  while (text.length < bytes) text += `"${WORDS[rng.int(WORDS.length)]}-${rng.int(1000)}",`;
  return Buffer.from(text.slice(0, bytes - 2) + ']}');
}

function makeRecords(valueBytes: number, count: number): RecordInput[] {
  const rng = seededRng(valueBytes);
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++) records.push({ key: Buffer.from(`user-${rng.int(100000)}`), value: makeValue(rng, valueBytes, i) });
  return records;
}

/** Best rate over the rounds: `work` returns how many units it did in one call. */
function bestRate(work: () => number): number {
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let units = 0;
    const start = performance.now();
    let elapsedMs = 0;
    do {
      units += work();
      elapsedMs = performance.now() - start;
    } while (elapsedMs < ROUND_MS);
    best = Math.max(best, (units * 1000) / elapsedMs);
  }
  return best;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function buildAll(records: RecordInput[], perBatch: number, codec: CodecName): Uint8Array[] {
  const batches: Uint8Array[] = [];
  for (let i = 0; i + perBatch <= records.length; i += perBatch) {
    const builder = new BatchBuilder({ codec, initialCapacityBytes: BATCH_TARGET_BYTES + 1024 });
    for (let j = i; j < i + perBatch; j++) builder.append(records[j]!, NOW_MS);
    batches.push(builder.build());
  }
  return batches;
}

function codecThroughput(): void {
  console.log(`build and decode, batches of ~${BATCH_TARGET_BYTES / 1024} KiB uncompressed (decode verifies the CRC and touches every value)`);
  console.log('value B | codec | records/batch | build rec/s | build MB/s | decode rec/s | decode MB/s | batch bytes (ratio)');
  for (const valueBytes of [100, 1024]) {
    const records = makeRecords(valueBytes, 4096);
    const recordBytes = records[0]!.key!.length + valueBytes;
    const perBatch = Math.max(1, Math.floor(BATCH_TARGET_BYTES / (recordBytes + 8)));
    for (const codec of ['none', 'lz4', 'gzip'] as CodecName[]) {
      let cursor = 0;
      const buildRate = bestRate(() => {
        const builder = new BatchBuilder({ codec, initialCapacityBytes: BATCH_TARGET_BYTES + 1024 });
        for (let j = 0; j < perBatch; j++) {
          builder.append(records[cursor]!, NOW_MS);
          cursor = (cursor + 1) & 4095;
        }
        builder.build();
        return perBatch;
      });
      const batches = buildAll(records, perBatch, codec);
      const batchBytes = batches.reduce((sum, b) => sum + b.length, 0) / batches.length;
      const rawBytes = buildAll(records, perBatch, 'none').reduce((sum, b) => sum + b.length, 0) / batches.length;
      let next = 0;
      let sink = 0;
      const decodeRate = bestRate(() => {
        const { records: decoded } = decodeBatch(batches[next]!);
        next = (next + 1) % batches.length;
        for (const r of decoded) sink += r.value!.length;
        return decoded.length;
      });
      if (sink === 0) throw new Error('decode produced nothing');
      const mb = (rate: number): string => fmt((rate * recordBytes) / 1e6, 1);
      console.log(
        `${String(valueBytes).padStart(7)} | ${codec.padEnd(5)} | ${String(perBatch).padStart(13)} | ${fmt(buildRate).padStart(11)} | ${mb(buildRate).padStart(10)} | ${fmt(decodeRate).padStart(12)} | ${mb(decodeRate).padStart(11)} | ${fmt(batchBytes)} (${fmt(batchBytes / rawBytes, 3)})`,
      );
    }
  }
  console.log('(MB/s counts key + value bytes; ratio = batch bytes / uncompressed batch bytes)\n');
}

/** Per-batch costs (allocation, header, CRC) and record headers, which the 16 KiB rows hide. */
function edgeShapes(): void {
  const records = makeRecords(100, 4096);
  let cursor = 0;
  const single = bestRate(() => {
    const builder = new BatchBuilder();
    builder.append(records[cursor]!, NOW_MS);
    cursor = (cursor + 1) & 4095;
    const batch = builder.build();
    return decodeBatch(batch).records.length;
  });
  console.log(`one 100 B record per batch (linger 0): ${fmt(single)} build+decode round trips/s`);
  const withHeaders = records.map((r, i) => ({ ...r, headers: [{ key: 'trace-id', value: Buffer.from(`t-${i}`) }, { key: 'content-type', value: Buffer.from('json') }] }));
  const perBatch = 128;
  const batches = buildAll(withHeaders, perBatch, 'none');
  let next = 0;
  const build = bestRate(() => {
    const builder = new BatchBuilder({ initialCapacityBytes: BATCH_TARGET_BYTES + 8192 });
    for (let j = 0; j < perBatch; j++) builder.append(withHeaders[(next + j) & 4095]!, NOW_MS);
    builder.build();
    next = (next + perBatch) & 4095;
    return perBatch;
  });
  const decode = bestRate(() => decodeBatch(batches[next++ % batches.length]!).records.length);
  console.log(`100 B records with 2 headers each, no codec: build ${fmt(build)} rec/s, decode ${fmt(decode)} rec/s\n`);
}

function compressionCodecs(): void {
  const section = Buffer.concat(makeRecords(100, 160).map((r) => Buffer.concat([r.key!, r.value!])));
  const data = section.subarray(0, BATCH_TARGET_BYTES);
  console.log(`codecs on one ${data.length}-byte records section (MB/s of uncompressed bytes)`);
  console.log('codec                                  | ratio | compress MB/s | decompress MB/s');
  const row = (name: string, c: () => Uint8Array, d: (z: Uint8Array) => Uint8Array): void => {
    const z = c();
    if (!Buffer.from(d(z)).equals(data)) throw new Error(`${name} does not round-trip`);
    const cRate = bestRate(() => (c(), data.length));
    const dRate = bestRate(() => (d(z), data.length));
    console.log(`${name.padEnd(38)} | ${fmt(z.length / data.length, 3)} | ${fmt(cRate / 1e6).padStart(13)} | ${fmt(dRate / 1e6).padStart(15)}`);
  };
  const limit = 1 << 20;
  row('lz4 frame, ours (over block API)', () => lz4FrameCompress(data), (z) => lz4FrameDecompress(z, limit));
  row('lz4 frame, lz4-napi compressFrameSync', () => lz4.compressFrameSync(data), (z) => lz4.decompressFrameSync(z as Buffer));
  row('lz4 block, lz4-napi (not Kafka format)', () => lz4.compressSync(data), (z) => lz4.uncompressSync(z));
  for (const level of [1, 6]) {
    row(`gzip level ${level}`, () => zlib.gzipSync(data, { level }), (z) => zlib.gunzipSync(z, { maxOutputLength: limit }));
  }
  console.log('');
}

function headerWalk(): void {
  const records = makeRecords(100, 4096);
  const small = Buffer.concat(buildAll(records, 1, 'none').slice(0, 2048));
  const walk = (verifyCrc: boolean): number => {
    let n = 0;
    for (const { header } of batchesIn(small, { verifyCrc })) n += header.recordCount;
    return n;
  };
  const plain = bestRate(() => walk(false));
  const crc = bestRate(() => walk(true));
  console.log(`batchesIn over 2048 one-record batches: ${fmt(plain)} batches/s (headers only), ${fmt(crc)} batches/s (with CRC)`);
}

console.log(`node ${process.version}, ${quick ? 'quick' : 'full'} run, best of ${ROUNDS} rounds of ${ROUND_MS} ms\n`);
codecThroughput();
edgeShapes();
compressionCodecs();
headerWalk();
