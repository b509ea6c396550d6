/**
 * The wire protocol, without sockets: every API at every supported version
 * round-trips (the table is built from SUPPORTED_VERSIONS, so a new version
 * is covered by adding its file), golden bytes pin the framing, bad bytes of
 * every kind give ProtocolDecodeError and nothing else, the FrameReader
 * yields identical frames however the stream is cut and refuses bad lengths
 * before buffering, Avro evolution resolves an older writer, and the error
 * table and docs/PROTOCOL.md agree with the code.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { seededRng, type Rng } from '../../broker/world/rng.js';
import { ApiKey, apiNameOf, type ApiName } from '../../protocol/api-keys.js';
import type { AvroApiVersion } from '../../protocol/avro/schema.js';
import { avroBodyCodecs, avroType } from '../../protocol/avro/versioned-codec.js';
import {
  SUPPORTED_VERSIONS,
  apiVersionsTable,
  decodeRequestBody,
  decodeRequestHeader,
  decodeResponseBody,
  decodeResponseHeader,
  encodeRequest,
  encodeResponse,
  isSupportedVersion,
  negotiateVersion,
} from '../../protocol/codec.js';
import { ProtocolDecodeError } from '../../protocol/decode-error.js';
import { Errors, ProtocolError, errorNameOf, type ErrorName } from '../../protocol/errors.js';
import { FrameError, FrameReader } from '../../protocol/frame-reader.js';
import type { FetchResponse, MetadataRequest, MetadataResponse, RequestBodies, ResponseBodies } from '../../protocol/messages.js';
import { decodeEntry, encodeEntry, type MetadataEntry } from '../../broker/metadata/changes.js';
import { avroSchemaVersions } from '../../protocol/schemas/index.js';
import { metadataV0 } from '../../protocol/schemas/metadata/v0.js';
import { metadataV1 } from '../../protocol/schemas/metadata/v1.js';
import { GENERATED_SECTIONS, protocolDocPath } from './protocol-doc.js';
import { checkGeneratedSections } from '../support/doc-sections.js';
import { asDecodedAt, opaqueBytes, samples } from './samples.js';

const apiNames = Object.keys(SUPPORTED_VERSIONS) as ApiName[];

function versionsOf(api: ApiName): number[] {
  const { min, max } = SUPPORTED_VERSIONS[api];
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}

function concat(chunks: readonly Uint8Array[]): Buffer {
  return Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
}

/** The frame after the length prefix, checking that the prefix counts exactly the rest. */
function frameOf(chunks: readonly Uint8Array[]): Buffer {
  const whole = concat(chunks);
  if (whole.readUInt32BE(0) !== whole.byteLength - 4) throw new Error(`length prefix ${whole.readUInt32BE(0)} but ${whole.byteLength - 4} bytes follow`);
  return whole.subarray(4);
}

/** Plain data for strict comparison: bytes as hex, class instances (avsc records) as plain objects. */
function canonical(value: unknown): unknown {
  if (value instanceof Uint8Array) return { hex: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex') };
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, canonical(v)]));
  return value;
}

/** What a Fetch response decodes to: each partition's slices as one subarray, or none. */
function asDecoded<K extends ApiName>(api: K, body: ResponseBodies[K]): ResponseBodies[K] {
  if (api !== 'Fetch') return body;
  const fetch = body as FetchResponse;
  return {
    ...fetch,
    topics: fetch.topics.map((topic) => ({
      ...topic,
      partitions: topic.partitions.map((p) => {
        const records = concat(p.records);
        return { ...p, records: records.byteLength === 0 ? [] : [records] };
      }),
    })),
  } as unknown as ResponseBodies[K];
}

function requestFrame<K extends ApiName>(api: K, version: number, body: RequestBodies[K]): { frame: Buffer; bodyOffset: number } {
  const frame = frameOf(encodeRequest(api, version, 42, 'wire-test', body));
  return { frame, bodyOffset: decodeRequestHeader(frame).bodyOffset };
}

function responseFrame<K extends ApiName>(api: K, version: number, body: ResponseBodies[K]): { frame: Buffer; bodyOffset: number } {
  const frame = frameOf(encodeResponse(api, version, 42, body));
  return { frame, bodyOffset: decodeResponseHeader(frame).bodyOffset };
}

t.test('every API at every supported version round-trips, request and response', async (t) => {
  t.same(apiNames.sort(), Object.keys(ApiKey).sort(), 'SUPPORTED_VERSIONS covers every API key');
  let cases = 0;
  const check = <K extends ApiName>(api: K) => {
    t.ok(samples[api].length >= 2, `${api} has samples`);
    for (const version of versionsOf(api)) {
      samples[api].forEach((sample, i) => {
        const clientIds = [null, '', 'app-ü'];
        const clientId = clientIds[i % clientIds.length]!;
        const correlationId = [0, -1, 0x7fffffff, -0x80000000][i % 4]!;
        const request = frameOf(encodeRequest(api, version, correlationId, clientId, sample.request));
        const { header, bodyOffset } = decodeRequestHeader(request);
        t.strictSame(header, { apiKey: ApiKey[api], apiVersion: version, correlationId, clientId }, `${api} v${version} #${i} request header`);
        t.strictSame(
          canonical(decodeRequestBody(api, version, request, bodyOffset)),
          canonical(asDecodedAt(api, version, 'request', sample.request)),
          `${api} v${version} #${i} request`,
        );

        const response = frameOf(encodeResponse(api, version, correlationId, sample.response));
        const decodedHeader = decodeResponseHeader(response);
        t.equal(decodedHeader.correlationId, correlationId, `${api} v${version} #${i} response correlation id`);
        t.strictSame(
          canonical(decodeResponseBody(api, version, response, decodedHeader.bodyOffset)),
          canonical(asDecodedAt(api, version, 'response', asDecoded(api, sample.response))),
          `${api} v${version} #${i} response`,
        );
        cases++;
      });
    }
  };
  for (const api of apiNames) check(api);
  t.ok(cases >= apiNames.length * 2, `${cases} cases`);
});

t.test('golden bytes', async (t) => {
  t.test('request header (ApiVersions v0, with and without a client id)', async (t) => {
    const body = { clientSoftwareName: 'a', clientSoftwareVersion: '1' };
    t.equal(
      concat(encodeRequest('ApiVersions', 0, 0x01020304, 'cli', body)).toString('hex'),
      ['00000011', '0012', '0000', '01020304', '0003636c69', '0261', '0231'].join(''),
    );
    t.equal(
      concat(encodeRequest('ApiVersions', 0, -1, null, body)).toString('hex'),
      ['0000000e', '0012', '0000', 'ffffffff', 'ffff', '0261', '0231'].join(''),
    );
    const { header, bodyOffset } = decodeRequestHeader(Buffer.from('00120000010203040003636c69', 'hex'));
    t.strictSame(header, { apiKey: 18, apiVersion: 0, correlationId: 0x01020304, clientId: 'cli' });
    t.equal(bodyOffset, 13);
  });

  t.test('response header', async (t) => {
    const chunks = encodeResponse('DeleteTopics', 0, 7, { topics: [] });
    t.equal(concat(chunks).toString('hex'), ['00000005', '00000007', '00'].join(''));
    t.strictSame(decodeResponseHeader(Buffer.from('00000007', 'hex')), { correlationId: 7, bodyOffset: 4 });
  });

  t.test('Produce v0 request: fixed fields in one chunk, the records slice as its own chunk', async (t) => {
    const records = Uint8Array.from([0xaa, 0xbb, 0xcc]);
    const chunks = encodeRequest('Produce', 0, 7, null, {
      acks: -1,
      timeoutMs: 30000,
      topics: [{ name: 't', partitions: [{ partition: 2, records }] }],
    });
    const expected = [
      '00000026', // length 38
      '0000', '0000', '00000007', 'ffff', // Produce v0, correlation id 7, null client id
      'ffff', '00007530', // acks -1, timeoutMs 30000
      '00000001', '000174', // 1 topic "t"
      '00000001', '00000002', '00000003', // 1 partition: 2, 3 record bytes
      'aabbcc',
    ].join('');
    t.equal(concat(chunks).toString('hex'), expected);
    t.equal(chunks.length, 2);
    t.equal(chunks[1], records, 'the records are the caller\'s own slice, not a copy');

    // A producer's separately built batches: the same bytes on the wire, each buffer its own chunk.
    const parts = [Uint8Array.from([0xaa]), Uint8Array.from([0xbb, 0xcc])];
    const split = encodeRequest('Produce', 0, 7, null, { acks: -1, timeoutMs: 30000, topics: [{ name: 't', partitions: [{ partition: 2, records: parts }] }] });
    t.equal(concat(split).toString('hex'), expected, 'records in two buffers encode as the one concatenated');
    t.same(split.slice(1), parts, 'each buffer is written as given');
    t.equal(split[1], parts[0]);
    t.equal(split[2], parts[1]);
    const { bodyOffset } = decodeRequestHeader(concat(split).subarray(4));
    const decoded = decodeRequestBody('Produce', 0, concat(split).subarray(4), bodyOffset);
    t.equal(Buffer.from(decoded.topics[0]!.partitions[0]!.records).toString('hex'), 'aabbcc', 'decoded as one buffer');
  });

  t.test('Metadata v0 request (Avro)', async (t) => {
    const chunks = encodeRequest('Metadata', 0, 1, null, { topics: ['ab'], allowAutoTopicCreation: true, includeInternal: true });
    // union branch 1 (array), block of 1, string "ab", end of array, true; v0 has no includeInternal
    t.equal(concat(chunks).subarray(4 + 10).toString('hex'), '0202046162' + '00' + '01');
    t.equal(chunks.length, 1, 'a control-plane frame is one chunk');
    const v1 = encodeRequest('Metadata', 1, 1, null, { topics: ['ab'], allowAutoTopicCreation: true, includeInternal: true });
    t.equal(concat(v1).subarray(4 + 10).toString('hex'), '0202046162' + '00' + '01' + '01', 'v1: the same, then includeInternal');
  });

  const fetchRequestBody = {
    replicaId: 3,
    replicaEpoch: 0x0102030405,
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 0x100000,
    topics: [{ name: 'x', partitions: [{ partition: 2, currentLeaderEpoch: 6, fetchOffset: 9, partitionMaxBytes: 0x10000 }] }],
  };

  t.test('Fetch v0 request: exactly the bytes it always had, without the epochs', async (t) => {
    const body = concat(encodeRequest('Fetch', 0, 9, null, fetchRequestBody)).subarray(4 + 10);
    const expected = [
      '00000003', '000001f4', '00000001', '00100000', // replicaId 3, maxWaitMs 500, minBytes 1, maxBytes 1 MiB
      '00000001', '000178', // topic "x"
      '00000001', '00000002', '0000000000000009', '00010000', // partition 2, fetchOffset 9, partitionMaxBytes 64 KiB
    ].join('');
    t.equal(body.toString('hex'), expected);
    const decoded = decodeRequestBody('Fetch', 0, body, 0);
    t.equal(decoded.replicaEpoch, -1, 'replicaEpoch reads as -1 (not sent)');
    t.equal(decoded.topics[0]!.partitions[0]!.currentLeaderEpoch, -1, 'currentLeaderEpoch reads as -1 (not checked)');
  });

  t.test('Fetch v1 request: replicaEpoch after replicaId, currentLeaderEpoch after partition', async (t) => {
    const body = concat(encodeRequest('Fetch', 1, 9, null, fetchRequestBody)).subarray(4 + 10);
    const expected = [
      '00000003', '0000000102030405', '000001f4', '00000001', '00100000', // replicaId 3, replicaEpoch, maxWaitMs, minBytes, maxBytes
      '00000001', '000178', // topic "x"
      '00000001', '00000002', '00000006', '0000000000000009', '00010000', // partition 2, currentLeaderEpoch 6, fetchOffset 9, max bytes
    ].join('');
    t.equal(body.toString('hex'), expected);
    t.strictSame(decodeRequestBody('Fetch', 1, body, 0), fetchRequestBody);
  });

  t.test('Fetch v1 response: leaderEpoch after the partition\'s errorCode', async (t) => {
    const records = Uint8Array.from([1, 2]);
    const chunks = encodeResponse('Fetch', 1, 9, {
      throttleTimeMs: 0,
      errorCode: 0,
      topics: [{ name: 'x', partitions: [{ partition: 0, errorCode: 0, leaderEpoch: 4, highWatermark: 5, logStartOffset: 0, records: [records] }] }],
    });
    const expected = [
      '00000035', '00000009', // length 53, correlation id 9
      '00000000', '0000', // throttle, error
      '00000001', '000178', // topic "x"
      '00000001', '00000000', '0000', '00000004', '0000000000000005', '0000000000000000', // partition 0, NONE, leader epoch 4, hw 5, lso 0
      '00000002', '0102', // 2 record bytes
    ].join('');
    t.equal(concat(chunks).toString('hex'), expected);
    t.equal(chunks[1], records, 'the records are the caller\'s slice');
  });

  t.test('Fetch v0 response: header chunks interleaved with the record slices', async (t) => {
    const a = Uint8Array.from([1, 2]);
    const b = Uint8Array.from([3]);
    const chunks = encodeResponse('Fetch', 0, 9, {
      throttleTimeMs: 0,
      errorCode: 0,
      topics: [{ name: 'x', partitions: [{ partition: 0, errorCode: 0, leaderEpoch: 4, highWatermark: 5, logStartOffset: 0, records: [a, b] }] }],
    });
    const expected = [
      '00000032', '00000009', // length 50, correlation id 9
      '00000000', '0000', // throttle, error
      '00000001', '000178', // topic "x"
      '00000001', '00000000', '0000', '0000000000000005', '0000000000000000', // partition 0, NONE, hw 5, lso 0
      '00000003', '0102', '03', // 3 record bytes in two slices
    ].join('');
    t.equal(concat(chunks).toString('hex'), expected);
    t.equal(chunks.length, 3);
    t.equal(chunks[1], a);
    t.equal(chunks[2], b);
  });
});

t.test('record bytes are never copied on the data path', async (t) => {
  const sample = samples.Produce[1]!.request;
  const chunks = encodeRequest('Produce', 0, 1, 'c', sample);
  for (const p of sample.topics.flatMap((topic) => topic.partitions)) {
    if (p.records.byteLength > 0) t.ok(chunks.includes(p.records), `partition ${p.partition}'s records are a chunk as given`);
  }
  const { frame, bodyOffset } = requestFrame('Produce', 0, sample);
  const decoded = decodeRequestBody('Produce', 0, frame, bodyOffset);
  const records = decoded.topics[0]!.partitions[0]!.records;
  t.equal(records.buffer, frame.buffer, 'decoded records share the frame\'s memory');
  t.ok(records.byteOffset >= frame.byteOffset && records.byteOffset + records.byteLength <= frame.byteOffset + frame.byteLength);

  const fetch = samples.Fetch[1]!.response;
  for (const version of versionsOf('Fetch')) {
    const fetchChunks = encodeResponse('Fetch', version, 1, fetch);
    for (const slice of fetch.topics.flatMap((topic) => topic.partitions.flatMap((p) => p.records))) {
      if (slice.byteLength > 0) t.ok(fetchChunks.includes(slice), `Fetch v${version}: each fetch slice is a chunk as given`);
    }
    const fetchFrame = responseFrame('Fetch', version, fetch);
    const fetched = decodeResponseBody('Fetch', version, fetchFrame.frame, fetchFrame.bodyOffset);
    t.equal(fetched.topics[0]!.partitions[0]!.records[0]!.buffer, fetchFrame.frame.buffer, `Fetch v${version}: fetched records share the frame's memory`);
  }
});

/** What `fn` throws, or undefined. */
function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Runs `decode`; returns null when it succeeded or threw ProtocolDecodeError, else what it threw. */
function unexpectedFailure(decode: () => unknown): unknown {
  try {
    decode();
    return null;
  } catch (error) {
    return error instanceof ProtocolDecodeError ? null : error;
  }
}

function throwsDecodeError(decode: () => unknown): boolean {
  try {
    decode();
    return false;
  } catch (error) {
    return error instanceof ProtocolDecodeError;
  }
}

t.test('truncated headers and bodies give ProtocolDecodeError, at every cut', async (t) => {
  const misses: string[] = [];
  const check = <K extends ApiName>(api: K) => {
    for (const version of versionsOf(api)) {
      samples[api].forEach((sample, i) => {
        const request = requestFrame(api, version, sample.request);
        for (let cut = 0; cut < request.frame.byteLength; cut++) {
          const truncated = request.frame.subarray(0, cut);
          const ok =
            cut < request.bodyOffset
              ? throwsDecodeError(() => decodeRequestHeader(truncated))
              : throwsDecodeError(() => decodeRequestBody(api, version, truncated, request.bodyOffset));
          if (!ok) misses.push(`${api} v${version} #${i} request cut at ${cut}`);
        }
        const response = responseFrame(api, version, sample.response);
        for (let cut = 0; cut < response.frame.byteLength; cut++) {
          const truncated = response.frame.subarray(0, cut);
          const ok =
            cut < response.bodyOffset
              ? throwsDecodeError(() => decodeResponseHeader(truncated))
              : throwsDecodeError(() => decodeResponseBody(api, version, truncated, response.bodyOffset));
          if (!ok) misses.push(`${api} v${version} #${i} response cut at ${cut}`);
        }
      });
    }
  };
  for (const api of apiNames) check(api);
  t.strictSame(misses, []);

  const one = requestFrame('Produce', 0, { acks: 1, timeoutMs: 5, topics: [{ name: 't', partitions: [{ partition: 0, records: opaqueBytes(200, 9) }] }] });
  const err = caught(() => decodeRequestBody('Produce', 0, one.frame.subarray(0, one.frame.byteLength - 100), one.bodyOffset));
  t.ok(err instanceof ProtocolDecodeError);
  t.match((err as Error).message, /^Produce v0 request: topics\[\]\.partitions\[\]\.records: byte length 200 runs past the end \(100 bytes remain\) \(at byte 40\)$/, 'the message says what and where');
});

t.test('random and mutated bytes give a body or ProtocolDecodeError, never another exception', { timeout: 60_000 }, async (t) => {
  const rng = seededRng(0x5eed);
  const failures: string[] = [];
  const record = (what: string, error: unknown) => {
    if (error !== null && failures.length < 10) failures.push(`${what}: ${String(error)}`);
  };
  const randomBytes = (r: Rng, length: number) => Uint8Array.from({ length }, () => r.int(256));
  const mutate = (r: Rng, frame: Buffer, from: number): Buffer => {
    const copy = Buffer.from(frame);
    const flips = 1 + r.int(3);
    for (let f = 0; f < flips && copy.byteLength > from; f++) copy[from + r.int(copy.byteLength - from)] = r.int(256);
    return copy;
  };
  let decodes = 0;
  const fuzz = <K extends ApiName>(api: K) => {
    for (const version of versionsOf(api)) {
      for (let i = 0; i < 150; i++) {
        const garbage = randomBytes(rng, rng.int(64));
        record(`${api} v${version} random request`, unexpectedFailure(() => decodeRequestBody(api, version, garbage, 0)));
        record(`${api} v${version} random response`, unexpectedFailure(() => decodeResponseBody(api, version, garbage, 0)));
        record('random request header', unexpectedFailure(() => decodeRequestHeader(garbage)));
        decodes += 3;
      }
      for (const sample of samples[api]) {
        const request = requestFrame(api, version, sample.request);
        const response = responseFrame(api, version, sample.response);
        for (let i = 0; i < 150; i++) {
          const badRequest = mutate(rng, request.frame, request.bodyOffset);
          record(`${api} v${version} mutated request`, unexpectedFailure(() => decodeRequestBody(api, version, badRequest, request.bodyOffset)));
          const badResponse = mutate(rng, response.frame, response.bodyOffset);
          record(`${api} v${version} mutated response`, unexpectedFailure(() => decodeResponseBody(api, version, badResponse, response.bodyOffset)));
          decodes += 2;
        }
      }
    }
  };
  for (const api of apiNames) fuzz(api);
  t.strictSame(failures, []);
  t.ok(decodes > 5000, `${decodes} decodes`);
});

t.test('a huge count or length in a small body fails at once, before any loop or allocation', { timeout: 10_000 }, async (t) => {
  const be = (hex: string) => Buffer.from(hex.replace(/ /g, ''), 'hex');
  // Produce: acks, timeout, topics count 2^31-1, then 10 bytes of padding: a 20-byte body.
  const produce = be('ffff 00007530 7fffffff 00000000000000000000');
  t.equal(produce.byteLength, 20);
  t.throws(() => decodeRequestBody('Produce', 0, produce, 0), { name: 'ProtocolDecodeError', message: /topics: count 2147483647 needs at least/ });
  // Produce: one topic "t" claiming 2^31-1 partitions.
  t.throws(() => decodeRequestBody('Produce', 0, be('0001 00000000 00000001 000174 7fffffff 0000'), 0), { message: /topics\[\]\.partitions: count 2147483647/ });
  // Fetch response: a records length of 2^31-1.
  const fetch = be('00000000 0000 00000001 000178 00000001 00000000 0000 0000000000000000 0000000000000000 7fffffff');
  t.throws(() => decodeResponseBody('Fetch', 0, fetch, 0), { name: 'ProtocolDecodeError', message: /records: byte length 2147483647 runs past the end/ });
  // Avro: Metadata request, union branch 1, then an array block count of 2^31 (zigzag varint), in 20 bytes.
  const varint = (n: number): string => {
    let zigzag = n * 2;
    let hex = '';
    do {
      const byte = zigzag % 128;
      zigzag = Math.floor(zigzag / 128);
      hex += (zigzag > 0 ? byte | 0x80 : byte).toString(16).padStart(2, '0');
    } while (zigzag > 0);
    return hex;
  };
  const metadata = be('02' + varint(2 ** 31) + '00'.repeat(14));
  t.equal(metadata.byteLength, 20);
  t.throws(() => decodeRequestBody('Metadata', 0, metadata, 0), { name: 'ProtocolDecodeError', message: /topics: count 2147483648 needs at least 2147483648 bytes/ });
  // Avro: a negative block count (a count followed by a byte size), huge.
  t.throws(() => decodeRequestBody('Metadata', 0, be('02' + varint(-(2 ** 40)) + '02' + '00'.repeat(10)), 0), { name: 'ProtocolDecodeError' });
  // Avro: a string length of 2^50.
  t.throws(() => decodeRequestBody('DeleteTopics', 0, be('02' + varint(2 ** 50) + '0000'), 0), { name: 'ProtocolDecodeError', message: /string length \d+ runs past the end/ });
  // Avro: a long that avsc could not carry exactly.
  t.throws(() => decodeRequestBody('ListOffsets', 0, be('01 02 0261 02 00' + varint(2 ** 53) + '00 00'), 0), { name: 'ProtocolDecodeError', message: /long 9007199254740992 is outside the safe integer range/ });
  // Header: a client id length running past the frame.
  t.throws(() => decodeRequestHeader(be('0000 0000 00000001 7fff 6162')), { name: 'ProtocolDecodeError', message: /clientId: string length 32767 runs past the end/ });
  // Trailing bytes after a whole body.
  t.throws(() => decodeRequestBody('DeleteTopics', 0, be('00 00 ff'), 0), { name: 'ProtocolDecodeError', message: /1 unexpected bytes after the end of the body/ });
});

t.test('versions: unsupported ones are refused with UNSUPPORTED_VERSION; negotiation takes min(ours, theirs)', async (t) => {
  for (const api of apiNames) {
    const beyond = SUPPORTED_VERSIONS[api].max + 1;
    t.notOk(isSupportedVersion(api, beyond));
    const error = caught(() => decodeRequestBody(api, beyond, Buffer.alloc(8), 0));
    t.ok(error instanceof ProtocolError && error.errorName === 'UNSUPPORTED_VERSION' && error.code === 35, `${api} v${beyond} is UNSUPPORTED_VERSION`);
    t.throws(() => decodeResponseBody(api, -1, Buffer.alloc(8), 0), ProtocolError);
  }
  t.throws(() => encodeRequest('Metadata', 99, 1, null, { topics: null, allowAutoTopicCreation: false, includeInternal: false }), /Metadata v99 is not supported; this build speaks v0 to v1/);
  t.equal(negotiateVersion({ min: 0, max: 3 }, { min: 0, max: 5 }), 3, 'the client\'s newest when the broker is newer');
  t.equal(negotiateVersion({ min: 0, max: 5 }, { min: 1, max: 2 }), 2, 'the broker\'s newest when the client is newer');
  t.equal(negotiateVersion({ min: 3, max: 5 }, { min: 0, max: 2 }), null, 'no overlap: no version');
  t.equal(negotiateVersion({ min: 0, max: 1 }, { min: 2, max: 4 }), null, 'no overlap the other way');
  const table = apiVersionsTable();
  t.equal(table.length, apiNames.length);
  for (const entry of table) {
    const api = apiNameOf(entry.apiKey)!;
    t.strictSame({ min: entry.minVersion, max: entry.maxVersion }, { ...SUPPORTED_VERSIONS[api] });
  }
  const { frame, bodyOffset } = responseFrame('ApiVersions', 0, { errorCode: 0, apiKeys: table });
  t.strictSame(canonical(decodeResponseBody('ApiVersions', 0, frame, bodyOffset).apiKeys), table, 'the table itself round-trips');
});

t.test('encoders refuse bodies that do not fit the wire types, naming the field', async (t) => {
  t.throws(
    () => encodeRequest('Produce', 0, 1, null, { acks: 1, timeoutMs: 1, topics: [{ name: 't', partitions: [{ partition: 1.5, records: new Uint8Array(0) }] }] }),
    { name: 'RangeError', message: /Produce v0 request: topics\[\]\.partitions\[\]\.partition: 1\.5 is not an i32/ },
  );
  t.throws(
    () => encodeRequest('Fetch', 0, 1, null, { replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 0, topics: [{ name: 't', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 2 ** 53, partitionMaxBytes: 1 }] }] }),
    { message: /fetchOffset: 9007199254740992 is not a safe integer/ },
  );
  t.throws(
    () => encodeRequest('Fetch', 1, 1, null, { replicaId: 1, replicaEpoch: 1, maxWaitMs: 0, minBytes: 0, maxBytes: 0, topics: [{ name: 't', partitions: [{ partition: 0, currentLeaderEpoch: 2 ** 31, fetchOffset: 0, partitionMaxBytes: 1 }] }] }),
    { name: 'RangeError', message: /^Fetch v1 request: topics\[\]\.partitions\[\]\.currentLeaderEpoch: 2147483648 is not an i32/ },
  );
  t.throws(
    () => encodeResponse('Fetch', 1, 1, { throttleTimeMs: 0, errorCode: 0, topics: [{ name: 't', partitions: [{ partition: 0, errorCode: 0, highWatermark: 0, logStartOffset: 0, records: [] } as unknown as FetchResponse['topics'][number]['partitions'][number]] }] }),
    { name: 'RangeError', message: /^Fetch v1 response: topics\[\]\.partitions\[\]\.leaderEpoch: undefined is not an i32/ },
    'a v1 response without the leader epoch is refused, not sent as garbage',
  );
  t.throws(() => encodeRequest('DeleteTopics', 0, 1, 'x'.repeat(40_000), { topics: [], timeoutMs: 0 }), { message: /clientId: .* at most 32767 bytes/ });
  t.throws(() => encodeRequest('DeleteTopics', 0, 2 ** 31, null, { topics: [], timeoutMs: 0 }), { message: /correlationId/ });
  t.throws(
    () => encodeRequest('Metadata', 0, 1, null, { topics: [7], allowAutoTopicCreation: false, includeInternal: false } as unknown as MetadataRequest),
    { name: 'RangeError', message: /^Metadata v0 request: cannot encode the body/ },
  );
});

t.test('Avro evolution: Metadata v1 reads v0 bytes with its defaults, and a v1 value written at v0 is v0\'s bytes', async (t) => {
  // Plain avsc: the newer reader resolves the older writer's bytes.
  const v0 = avroType(metadataV0.request);
  const v1 = avroType(metadataV1.request);
  const v0Bytes = v0.toBuffer({ topics: ['a'], allowAutoTopicCreation: true });
  t.strictSame(canonical(v1.fromBuffer(v0Bytes, v1.createResolver(v0))), { topics: ['a'], allowAutoTopicCreation: true, includeInternal: false });

  // The codec path: decoding at v0 yields the newest shape; encoding at v0 drops what v0 lacks.
  const request = requestFrame('Metadata', 0, { topics: null, allowAutoTopicCreation: false, includeInternal: true });
  t.strictSame(canonical(decodeRequestBody('Metadata', 0, request.frame, request.bodyOffset)), { topics: null, allowAutoTopicCreation: false, includeInternal: false });
  t.equal(request.frame.subarray(request.bodyOffset).toString('hex'), '0000', 'v0 bytes: null topics, false');
  const response = samples.Metadata[1]!.response;
  const v0Response = responseFrame('Metadata', 0, response);
  const decoded = decodeResponseBody('Metadata', 0, v0Response.frame, v0Response.bodyOffset);
  t.strictSame(decoded.topics.map((topic) => topic.isInternal), [false, false, false], 'a v0 response gains the v1 default');
  t.strictSame(decoded.topics[1]!.partitions.map((p) => p.offlineReplicas), [[], []]);
  const v1Response = responseFrame('Metadata', 1, response);
  // isInternal: 1 byte per topic (3); offlineReplicas [1]: count, 1, end (3); []: end (1); [0, I32_MIN]: count, 1 + 5, end (8).
  t.equal(v1Response.frame.byteLength - v0Response.frame.byteLength, 3 + 3 + 1 + 8, 'v1 carries exactly the added fields');
  t.strictSame(decodeResponseBody('Metadata', 1, v1Response.frame, v1Response.bodyOffset).topics.map((topic) => topic.isInternal), [false, false, true]);

  // An incompatible v1 (a new field without a default) is refused when the old version is first used: this test
  // round-trips every version of every API, so such a schema fails here, before any live request.
  const incompatible = {
    request: { ...metadataV0.request, fields: [...metadataV0.request.fields, { name: 'x', type: 'int', doc: 'no default' }] },
    response: metadataV0.response,
  } as unknown as AvroApiVersion;
  const codecs = avroBodyCodecs('Metadata', [metadataV0, incompatible]);
  t.throws(() => codecs[0]!.decodeRequest(Buffer.from([0]), 0), /no matching field for default-less/);
  t.ok(avro.Type.isType(v0), 'avsc types');
});

/**
 * The Avro Parsing Canonical Form fingerprint (names, types and field order:
 * what decides the bytes; docs and defaults left out) of every published
 * schema version. A published version never changes, since peers built
 * before the change still speak it: a new version is a new file and a new
 * line here.
 */
const PUBLISHED: Record<string, string> = {
  'ApiVersions v0 request': '46a9a083e4c1c7d8',
  'ApiVersions v0 response': 'd0973712325c52d8',
  'Metadata v0 request': 'e4027071ee624115',
  'Metadata v0 response': '4c0645896af3b259',
  'Metadata v1 request': '37223336da36bc0a',
  'Metadata v1 response': '4eb69bf07a50e617',
  'CreateTopics v0 request': '144c521768032a85',
  'CreateTopics v0 response': 'c668284e0fe8944d',
  'DeleteTopics v0 request': '68b7814c65430489',
  'DeleteTopics v0 response': '7c13897daeae55af',
  'DescribeConfigs v0 request': '0718981d565e64b2',
  'DescribeConfigs v0 response': 'e2f23a1eede048bd',
  'AlterConfigs v0 request': 'db7166f4fc1b8bec',
  'AlterConfigs v0 response': 'aba3261a409a2fba',
  'ListOffsets v0 request': '448a55b9be439ddd',
  'ListOffsets v0 response': 'f0b2916288bd93bf',
  'ListOffsets v1 request': '0be8516aac85d21a',
  'ListOffsets v1 response': 'f0b2916288bd93bf', // as v0: v1 changed only the request
  'CreatePartitions v0 request': 'c07964d525bd541d',
  'CreatePartitions v0 response': '0abd27594cb8b0aa',
  'OffsetForLeaderEpoch v0 request': 'd30f6906d3a39439',
  'OffsetForLeaderEpoch v0 response': 'cb7fa6ed5634c809',
  'BrokerRegistration v0 request': 'e9f9521ce3000d2a',
  'BrokerRegistration v0 response': 'f873245d31d9a5b5',
  'BrokerRegistration v1 request': 'a9ede77edcb5a59f',
  'BrokerRegistration v1 response': 'f873245d31d9a5b5',
  'BrokerHeartbeat v0 request': '571979414da0afa8',
  'BrokerHeartbeat v0 response': '422890ceafb38deb',
  'BrokerHeartbeat v1 request': '62b4e2da9566b47e',
  'BrokerHeartbeat v1 response': '8e8291edc4a41ee6',
  'AlterPartition v0 request': '78d8862cbaf77113',
  'AlterPartition v0 response': '99b8beb4a19fc93e',
  'MetadataChanges v0 request': 'bfcb2466d675e572',
  'MetadataChanges v0 response': '4b1a3d692cc1dd04',
  'ElectLeaders v0 request': '9d4eb0fc1f7c6e98',
  'ElectLeaders v0 response': '3c0f4011be9a37d4',
  'AlterPartitionReassignments v0 request': 'c5a9431fbfb2025e',
  'AlterPartitionReassignments v0 response': 'fa7e32ed1c39e686',
  'ListPartitionReassignments v0 request': 'e62ab9465635de62',
  'ListPartitionReassignments v0 response': '61399b355ee321e9',
  'FindCoordinator v0 request': 'b3056e0ad0f4eb68',
  'FindCoordinator v0 response': '2dd19973a48d8a44',
  'ConsumerGroupHeartbeat v0 request': 'ff230e65ebe64796',
  'ConsumerGroupHeartbeat v0 response': '37bace198251fcd6',
  'ConsumerGroupDescribe v0 request': '1e966f6895324e18',
  'ConsumerGroupDescribe v0 response': '9d92f1d336ece1d9',
  'OffsetCommit v0 request': '1832460b118c1e40',
  'OffsetCommit v0 response': 'd37a4fe84e1e1f55',
  'OffsetFetch v0 request': '1bc60b3fcaef5c41',
  'OffsetFetch v0 response': '68a41aadb6c83c8d',
  'ListGroups v0 request': '991e733704b2b376',
  'ListGroups v0 response': '488ef21aba70ca22',
  'DeleteGroups v0 request': '554621dfa66ac198',
  'DeleteGroups v0 response': 'b1b6c283e83bee92',
  'InitProducerId v0 request': '493dac2021cb6aa4',
  'InitProducerId v0 response': '904cd4a0b35fb34c',
  'ShareGroupHeartbeat v0 request': '5979613c7fe23d50',
  'ShareGroupHeartbeat v0 response': '4a8c68b7a8b12ed8',
  'ShareGroupDescribe v0 request': 'a0405c807927cfe3',
  'ShareGroupDescribe v0 response': '1e5825d79bbee472',
  'ShareFetch v0 request': '805d7a36b4689d3a',
  'ShareFetch v0 response': 'e60ad732ccbdb4c9',
  'ShareAcknowledge v0 request': '16b70b91f680d4e1',
  'ShareAcknowledge v0 response': '26cfd50b6d64a49f',
  'DeleteRecords v0 request': '60ca920b31cf27c7',
  'DeleteRecords v0 response': '71ce04c10fc1b5af',
  'SaslHandshake v0 request': 'caa862921bab86dc',
  'SaslHandshake v0 response': 'ab0d1824eaeb2eb6',
  'SaslAuthenticate v0 request': '6f93898fdfd65452',
  'SaslAuthenticate v0 response': '73c43a51d39e616d',
  'DescribeUserScramCredentials v0 request': 'c138fe9b4a2ca31d',
  'DescribeUserScramCredentials v0 response': 'b930c737fbeb07ad',
  'AlterUserScramCredentials v0 request': 'b5c9a72c7a1ceee1',
  'AlterUserScramCredentials v0 response': '1c6fac08ec148c1a',
  'DescribeAcls v0 request': 'abc5daaa067b10bb',
  'DescribeAcls v0 response': 'fd17a148784557e6',
  'CreateAcls v0 request': '3460a69146f57083',
  'CreateAcls v0 response': '929e15f7146b63f3',
  'DeleteAcls v0 request': '46b4bee30faf4156',
  'DeleteAcls v0 response': 'ab0e373e991f6710',
  'DescribeClientQuotas v0 request': '82d7983239bd20b6',
  'DescribeClientQuotas v0 response': '44d8d16b12110568',
  'AlterClientQuotas v0 request': '34626456b807a726',
  'AlterClientQuotas v0 response': 'cef550fb24768515',
  'AllocateProducerIds v0 request': 'b00ee7dbb02db009',
  'AllocateProducerIds v0 response': '3580ec8dfa375027',
};

t.test('published Avro schema versions never change (a new version is a new file and a new line here)', async (t) => {
  const seen: Record<string, string> = {};
  for (const [api, versions] of Object.entries(avroSchemaVersions)) {
    versions.forEach((schemas, version) => {
      for (const side of ['request', 'response'] as const) seen[`${api} v${version} ${side}`] = avroType(schemas[side]).fingerprint('sha256').toString('hex').slice(0, 16);
    });
  }
  t.strictSame(seen, PUBLISHED);
});

function frameStream(rng: Rng, count: number): { stream: Buffer; frames: Buffer[] } {
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const size = i % 17 === 5 ? 70_000 + rng.int(70_000) : 1 + rng.int(300);
    frames.push(Buffer.from(opaqueBytes(size, i)));
  }
  const parts: Buffer[] = [];
  for (const frame of frames) {
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(frame.byteLength);
    parts.push(prefix, frame);
  }
  return { stream: Buffer.concat(parts), frames };
}

function readAll(chunks: Iterable<Uint8Array>, maxFrameBytes = 1 << 20): Buffer[] {
  const out: Buffer[] = [];
  const reader = new FrameReader({ maxFrameBytes, onFrame: (frame) => out.push(Buffer.from(frame)) });
  for (const chunk of chunks) reader.push(chunk);
  if (reader.bufferedBytes !== 0) throw new Error(`${reader.bufferedBytes} bytes left over`);
  return out;
}

t.test('FrameReader yields identical frames whole, byte by byte and in seeded random chunkings', async (t) => {
  const { stream, frames } = frameStream(seededRng(1), 60);
  const expected = frames.map((f) => f.toString('hex'));
  t.strictSame(readAll([stream]).map((f) => f.toString('hex')), expected, 'one chunk');
  const bytes = function* () {
    for (let i = 0; i < stream.byteLength; i++) yield stream.subarray(i, i + 1);
  };
  t.strictSame(readAll(bytes()).map((f) => f.toString('hex')), expected, 'byte by byte');
  for (let seed = 1; seed <= 25; seed++) {
    const rng = seededRng(seed);
    const chunks: Buffer[] = [];
    for (let pos = 0; pos < stream.byteLength; ) {
      const size = rng.next() < 0.5 ? 1 + rng.int(8) : 1 + rng.int(rng.next() < 0.9 ? 512 : 200_000);
      chunks.push(stream.subarray(pos, pos + size));
      pos += size;
    }
    t.strictSame(readAll(chunks).map((f) => f.toString('hex')), expected, `random chunking, seed ${seed} (${chunks.length} chunks)`);
  }
});

t.test('FrameReader hands out whole frames in a chunk without copying, and reports buffered bytes', async (t) => {
  const chunk = Buffer.from('00000002aabb00000001cc00000003dd', 'hex');
  const frames: Uint8Array[] = [];
  const reader = new FrameReader({ maxFrameBytes: 16, onFrame: (frame) => frames.push(frame) });
  reader.push(chunk);
  t.equal(frames.length, 2);
  t.equal(frames[0]!.buffer, chunk.buffer, 'subarray of the chunk');
  t.equal(Buffer.from(frames[1]!).toString('hex'), 'cc');
  t.equal(reader.bufferedBytes, 5, 'prefix and one byte of the third frame');
  reader.push(Buffer.from('eeff', 'hex'));
  t.equal(Buffer.from(frames[2]!).toString('hex'), 'ddeeff');
  t.equal(reader.bufferedBytes, 0);
  reader.push(Buffer.from('0000', 'hex'));
  t.equal(reader.bufferedBytes, 2, 'half a length prefix');
  reader.push(Buffer.from('001000', 'hex'));
  t.equal(reader.bufferedBytes, 5, 'a frame of exactly maxFrameBytes is accepted');
});

t.test('FrameReader refuses lengths 0, negative, 2^31-1 and above the limit before buffering the body', async (t) => {
  const maxFrameBytes = 1 << 20;
  const cases: [string, number][] = [
    ['00000000', 0],
    ['ffffffff', -1],
    ['80000000', -0x80000000],
    ['7fffffff', 0x7fffffff],
    ['00100001', maxFrameBytes + 1],
  ];
  for (const [hex, length] of cases) {
    let frames = 0;
    const reader = new FrameReader({ maxFrameBytes, onFrame: () => frames++ });
    const good = Buffer.from('00000001ab', 'hex');
    const bad = Buffer.concat([Buffer.from(hex, 'hex'), Buffer.alloc(64, 1)]);
    const error = caught(() => reader.push(Buffer.concat([good, bad])));
    t.ok(error instanceof FrameError, `length ${length}: FrameError`);
    t.match(error, { frameLength: length, maxFrameBytes, message: new RegExp(`frame length ${length}\\b`) });
    t.equal(frames, 1, 'the good frame before it was delivered');
    t.equal(reader.bufferedBytes, 0, 'nothing of the bad frame was buffered');
    t.throws(() => reader.push(Buffer.from('00000001ab', 'hex')), { name: 'FrameError', message: /unusable after an earlier error/ });

    // The same length arriving one byte at a time fails on its fourth byte.
    const slow = new FrameReader({ maxFrameBytes, onFrame: () => frames++ });
    const prefix = Buffer.from(hex, 'hex');
    for (let i = 0; i < 3; i++) slow.push(prefix.subarray(i, i + 1));
    t.equal(slow.bufferedBytes, 3);
    t.throws(() => slow.push(prefix.subarray(3, 4)), FrameError);
  }
  t.throws(() => new FrameReader({ maxFrameBytes: 100, onFrame: () => {} }).push(Buffer.from('00000065', 'hex')), {
    message: 'frame length 101 exceeds the limit of 100 bytes',
  });
  t.throws(() => new FrameReader({ maxFrameBytes: 0, onFrame: () => {} }), RangeError);
});

t.test('a declared-large frame trickled in holds memory proportional to what arrived', async (t) => {
  const reader = new FrameReader({ maxFrameBytes: 64 << 20, onFrame: () => t.fail('no frame expected') });
  reader.push(Buffer.from('03000000', 'hex')); // 48 MiB declared
  reader.push(Buffer.alloc(10));
  t.equal(reader.bufferedBytes, 14, 'the length prefix and 10 body bytes');
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 100; i++) reader.push(Buffer.alloc(1000));
  t.equal(reader.bufferedBytes, 100_014);
  t.ok(process.memoryUsage().arrayBuffers - before < 16 << 20, 'far less than the 48 MiB declared');
});

t.test('a frame split across chunks arrives in one buffer of exactly its length; pieces held are what arrived', async (t) => {
  const body = Buffer.from(opaqueBytes(300_000, 3));
  const stream = Buffer.concat([lengthPrefixOf(body.byteLength), body]);
  const frames: Uint8Array[] = [];
  const reader = new FrameReader({ maxFrameBytes: 1 << 20, onFrame: (frame) => frames.push(frame) });
  // Big pieces (kept by reference) and trickles (packed) mixed, as a socket under load and a slow peer deliver them.
  const before = process.memoryUsage().arrayBuffers;
  let pos = 0;
  for (let i = 0; pos < stream.byteLength; i++) {
    const size = i % 2 === 0 ? 65_536 : 1 + (i % 7);
    reader.push(stream.subarray(pos, pos + size));
    pos += size;
    if (pos < stream.byteLength) t.equal(reader.bufferedBytes, pos, `buffered bytes after ${pos}`);
  }
  t.ok(process.memoryUsage().arrayBuffers - before < 2 * stream.byteLength, 'held memory is bounded by what arrived');
  t.equal(frames.length, 1);
  const frame = frames[0]!;
  t.equal(frame.buffer.byteLength, body.byteLength, 'a buffer of exactly the frame (no doubling slack)');
  t.ok(Buffer.from(frame).equals(body), 'the bytes are the frame');
  t.not(frame.buffer, stream.buffer, 'owned, not a view of a chunk');

  // A frame whose body arrives whole in the next chunk after its length prefix is that chunk, not a copy.
  const split: Uint8Array[] = [];
  const again = new FrameReader({ maxFrameBytes: 1 << 20, onFrame: (f) => split.push(f) });
  again.push(lengthPrefixOf(body.byteLength));
  again.push(body);
  t.equal(split[0]!.buffer, body.buffer, 'the chunk itself');
});

function lengthPrefixOf(bytes: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(bytes);
  return prefix;
}

t.test('FrameReader stops if onFrame throws', async (t) => {
  const reader = new FrameReader({
    maxFrameBytes: 10,
    onFrame: () => {
      throw new Error('handler bug');
    },
  });
  t.throws(() => reader.push(Buffer.from('00000001aa', 'hex')), /handler bug/);
  t.throws(() => reader.push(Buffer.from('00000001aa', 'hex')), FrameError);
});

t.test('MetadataChanges carries metadata log entries exactly as the log encodes them', async (t) => {
  const entries: MetadataEntry[] = [
    { version: 7, timestampMs: 1_700_000_000_000, change: { kind: 'brokerRegistered', brokerId: 2, incarnationId: 'inc-1', host: '127.0.0.1', port: 9093, rack: null } },
    { version: 8, timestampMs: 1_700_000_000_001, change: { kind: 'topicCreated', name: 'orders', topicId: 'id-1', partitions: 1, replicationFactor: 1, configs: { 'retention.ms': '1000' }, assignments: [[2]] } },
    { version: 9, timestampMs: 1_700_000_000_002, change: { kind: 'topicDeleted', name: 'orders', topicId: 'id-1' } },
  ];
  const sent = { errorCode: 0, errorMessage: null, clusterId: 'c-1', latestVersion: 10, entries: entries.map(encodeEntry) };
  const { frame, bodyOffset } = responseFrame('MetadataChanges', 0, sent);
  const received = decodeResponseBody('MetadataChanges', 0, frame, bodyOffset);
  t.strictSame(received.entries.map((e) => canonical(decodeEntry(e.bytes, e.schemaVersion))), entries.map(canonical), 'the broker decodes what the controller stored');
  t.strictSame(received.entries.map((e) => e.schemaVersion), sent.entries.map((e) => e.schemaVersion), 'each with the schema version it was written in');
  t.equal(received.latestVersion, 10);
});

t.test('the error table: unique codes, names, and a message for every entry', async (t) => {
  const entries = Object.entries(Errors) as [ErrorName, (typeof Errors)[ErrorName]][];
  const codes = entries.map(([, spec]) => spec.code);
  t.equal(new Set(codes).size, codes.length, 'codes are unique');
  for (const [name, spec] of entries) {
    t.match(name, /^[A-Z][A-Z_]*$/, `${name} is UPPER_SNAKE`);
    t.ok(Number.isInteger(spec.code) && spec.code >= -0x8000 && spec.code <= 0x7fff, `${name}'s code fits an i16`);
    t.match(spec.message, /\S.*\.$/, `${name} has a message for a person`);
    t.equal(errorNameOf(spec.code), name);
    const error = new ProtocolError(name);
    t.equal(error.code, spec.code);
    t.equal(error.retriable, spec.retriable);
  }
  t.equal(errorNameOf(12345), 'UNKNOWN_SERVER_ERROR', 'an unknown code from a newer broker');
});

t.test('docs/PROTOCOL.md lists every API, field and error code as the code has them', async (t) => {
  checkGeneratedSections(t, protocolDocPath, GENERATED_SECTIONS, 'npm run build && RUNNEL_UPDATE_DOCS=1 npx tap dist/tests/protocol/wire.test.js');
  const doc = readFileSync(protocolDocPath, 'utf8');
  for (const [name, spec] of Object.entries(Errors)) t.ok(doc.includes(`| ${spec.code} | ${name} |`), `${name} (${spec.code}) is documented`);
  t.match(doc, /min\(/, 'the negotiation rule is documented');
});
