/**
 * Wire-codec speed: what each side pays per request to frame and (de)code
 * Produce and Fetch around record batches (which are never copied, so the
 * cost is per request and per partition, not per byte), a large Avro
 * Metadata response, and the FrameReader cutting a stream into frames (zero
 * copy when a frame sits in one chunk, one copy when it is split). Prints
 * figures, never fails on time; each is the best of several timed rounds (the
 * machine is shared).
 *
 * Run: npx tsc -p tsconfig.build.json && node dist/bench/codec.js [--quick] [--json]
 */
import {
  decodeRequestBody,
  decodeRequestHeader,
  decodeResponseBody,
  decodeResponseHeader,
  encodeRequest,
  encodeResponse,
} from '../protocol/codec.js';
import { FrameReader } from '../protocol/frame-reader.js';
import type { FetchResponse, MetadataResponse, ProduceRequest, ProduceResponse } from '../protocol/messages.js';
import { isMainModule } from '../tools/main-module.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
const ROUND_MS = quick ? 100 : 300;
const KiB = 1024;
const MB = 1e6;

export interface CodecFigure {
  name: string;
  opsPerSec: number;
  usPerOp: number;
  /** Record (or stream) bytes moved per second, where that means something. */
  mbPerSec?: number;
}

/** Best rate over the rounds; `work` does one operation. */
function bestOpsPerSec(work: () => void): number {
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let ops = 0;
    const start = performance.now();
    let elapsedMs = 0;
    do {
      for (let i = 0; i < 64; i++) work();
      ops += 64;
      elapsedMs = performance.now() - start;
    } while (elapsedMs < ROUND_MS);
    best = Math.max(best, (ops * 1000) / elapsedMs);
  }
  return best;
}

/** A whole frame as one buffer, without its length prefix, as a FrameReader would hand it over. */
function asFrame(chunks: Uint8Array[]): Buffer {
  return Buffer.concat(chunks).subarray(4);
}

function produceRequest(partitions: number, batchBytes: number): ProduceRequest {
  return {
    acks: 1,
    timeoutMs: 30_000,
    topics: [{ name: 'bench', partitions: Array.from({ length: partitions }, (_, partition) => ({ partition, records: Buffer.alloc(batchBytes, partition) })) }],
  };
}

function produceResponse(partitions: number): ProduceResponse {
  return {
    throttleTimeMs: 0,
    topics: [
      {
        name: 'bench',
        partitions: Array.from({ length: partitions }, (_, partition) => ({
          partition,
          errorCode: 0,
          errorMessage: null,
          baseOffset: 1_000_000_000 + partition,
          logAppendTimeMs: -1,
          logStartOffset: 0,
        })),
      },
    ],
  };
}

function fetchResponse(partitions: number, slices: number, sliceBytes: number): FetchResponse {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    topics: [
      {
        name: 'bench',
        partitions: Array.from({ length: partitions }, (_, partition) => ({
          partition,
          errorCode: 0,
          leaderEpoch: 3,
          highWatermark: 5_000_000,
          logStartOffset: 0,
          records: Array.from({ length: slices }, () => Buffer.alloc(sliceBytes, partition)),
        })),
      },
    ],
  };
}

function metadataResponse(topics: number, partitions: number): MetadataResponse {
  return {
    brokers: [{ nodeId: 0, host: '127.0.0.1', port: 9092, rack: null }],
    clusterId: 'bench-cluster',
    controllerId: 0,
    topics: Array.from({ length: topics }, (_, t) => ({
      errorCode: 0,
      name: `topic-${t}`,
      isInternal: false,
      partitions: Array.from({ length: partitions }, (_, partition) => ({ errorCode: 0, partition, leader: 0, leaderEpoch: 3, replicas: [0], isr: [0], offlineReplicas: [] })),
    })),
  };
}

function figure(name: string, work: () => void, bytesPerOp?: number): CodecFigure {
  const opsPerSec = bestOpsPerSec(work);
  return { name, opsPerSec, usPerOp: 1e6 / opsPerSec, ...(bytesPerOp === undefined ? {} : { mbPerSec: (opsPerSec * bytesPerOp) / MB }) };
}

function frameStream(frameBytes: number, totalBytes: number): Buffer {
  const count = Math.floor(totalBytes / (frameBytes + 4));
  const stream = Buffer.alloc(count * (frameBytes + 4), 7);
  for (let i = 0; i < count; i++) stream.writeUInt32BE(frameBytes, i * (frameBytes + 4));
  return stream;
}

function frameReaderFigure(name: string, frameBytes: number, chunkBytes: number): CodecFigure {
  const stream = frameStream(frameBytes, 4 * 1024 * KiB);
  const chunks: Buffer[] = [];
  for (let pos = 0; pos < stream.byteLength; pos += chunkBytes) chunks.push(stream.subarray(pos, pos + chunkBytes));
  let frames = 0;
  const reader = new FrameReader({ maxFrameBytes: 1024 * KiB, onFrame: () => frames++ });
  const streamsPerSec = bestOpsPerSec(() => {
    for (const chunk of chunks) reader.push(chunk);
  });
  const framesPerStream = stream.byteLength / (frameBytes + 4);
  if (frames % framesPerStream !== 0) throw new Error('frame reader lost frames');
  const opsPerSec = streamsPerSec * framesPerStream;
  return { name, opsPerSec, usPerOp: 1e6 / opsPerSec, mbPerSec: (streamsPerSec * stream.byteLength) / MB };
}

export function measureCodecs(): CodecFigure[] {
  const figures: CodecFigure[] = [];
  for (const [partitions, batchBytes] of [
    [1, 16 * KiB],
    [8, 64 * KiB],
  ] as const) {
    const body = produceRequest(partitions, batchBytes);
    const frame = asFrame(encodeRequest('Produce', 0, 1, 'bench', body));
    const recordBytes = partitions * batchBytes;
    figures.push(figure(`Produce request encode, ${partitions} x ${batchBytes / KiB} KiB`, () => encodeRequest('Produce', 0, 1, 'bench', body), recordBytes));
    figures.push(
      figure(`Produce request decode, ${partitions} x ${batchBytes / KiB} KiB`, () => {
        const { header, bodyOffset } = decodeRequestHeader(frame);
        decodeRequestBody('Produce', header.apiVersion, frame, bodyOffset);
      }, recordBytes),
    );
  }
  const produceAck = produceResponse(8);
  const produceAckFrame = asFrame(encodeResponse('Produce', 0, 1, produceAck));
  figures.push(figure('Produce response encode, 8 partitions', () => encodeResponse('Produce', 0, 1, produceAck)));
  figures.push(figure('Produce response decode, 8 partitions', () => decodeResponseBody('Produce', 0, produceAckFrame, decodeResponseHeader(produceAckFrame).bodyOffset)));

  const fetched = fetchResponse(8, 4, 64 * KiB);
  const fetchedFrame = asFrame(encodeResponse('Fetch', 0, 1, fetched));
  const fetchedBytes = 8 * 4 * 64 * KiB;
  figures.push(figure('Fetch response encode, 8 partitions x 4 slices x 64 KiB', () => encodeResponse('Fetch', 0, 1, fetched), fetchedBytes));
  figures.push(figure('Fetch response decode, 8 partitions x 256 KiB', () => decodeResponseBody('Fetch', 0, fetchedFrame, 4), fetchedBytes));

  const metadata = metadataResponse(50, 8);
  const metadataFrame = asFrame(encodeResponse('Metadata', 0, 1, metadata));
  figures.push(figure('Metadata response encode (Avro), 50 topics x 8 partitions', () => encodeResponse('Metadata', 0, 1, metadata)));
  figures.push(figure('Metadata response decode (Avro, validated), 50 topics x 8 partitions', () => decodeResponseBody('Metadata', 0, metadataFrame, 4)));
  const listOffsets = { replicaId: -1, topics: [{ name: 'bench', partitions: [{ partition: 0, currentLeaderEpoch: -1, timestamp: -1 }] }] };
  const listOffsetsFrame = asFrame(encodeRequest('ListOffsets', 0, 1, 'bench', listOffsets));
  figures.push(
    figure('ListOffsets request encode + decode (Avro), 1 partition', () => {
      encodeRequest('ListOffsets', 0, 1, 'bench', listOffsets);
      decodeRequestBody('ListOffsets', 0, listOffsetsFrame, decodeRequestHeader(listOffsetsFrame).bodyOffset);
    }),
  );

  figures.push(frameReaderFigure('FrameReader, 1 KiB frames in 64 KiB chunks (zero copy)', KiB, 64 * KiB));
  figures.push(frameReaderFigure('FrameReader, 64 KiB frames in 16 KiB chunks (copied)', 64 * KiB, 16 * KiB));
  return figures;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

if (isMainModule(import.meta.url)) {
  const figures = measureCodecs();
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(figures));
  } else {
    const width = Math.max(...figures.map((f) => f.name.length));
    console.log(`${'codec'.padEnd(width)}  ${'ops/s'.padStart(12)}  ${'us/op'.padStart(9)}  ${'MB/s'.padStart(10)}`);
    for (const f of figures) {
      const mb = f.mbPerSec === undefined ? '' : fmt(f.mbPerSec);
      console.log(`${f.name.padEnd(width)}  ${fmt(f.opsPerSec).padStart(12)}  ${fmt(f.usPerOp, 2).padStart(9)}  ${mb.padStart(10)}`);
    }
    console.log('MB/s counts record (or stream) bytes carried; record bytes are never copied by the Produce/Fetch codecs.');
  }
}
