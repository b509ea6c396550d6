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
import { metadataV0 } from '../../protocol/schemas/metadata/v0.js';
import { GENERATED_SECTIONS, protocolDocPath } from './protocol-doc.js';
import { checkGeneratedSections } from '../support/doc-sections.js';
import { opaqueBytes, samples } from './samples.js';

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
        t.strictSame(canonical(decodeRequestBody(api, version, request, bodyOffset)), canonical(sample.request), `${api} v${version} #${i} request`);

        const response = frameOf(encodeResponse(api, version, correlationId, sample.response));
        const decodedHeader = decodeResponseHeader(response);
        t.equal(decodedHeader.correlationId, correlationId, `${api} v${version} #${i} response correlation id`);
        t.strictSame(
          canonical(decodeResponseBody(api, version, response, decodedHeader.bodyOffset)),
          canonical(asDecoded(api, sample.response)),
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
    const chunks = encodeRequest('Metadata', 0, 1, null, { topics: ['ab'], allowAutoTopicCreation: true });
    // union branch 1 (array), block of 1, string "ab", end of array, true
    t.equal(concat(chunks).subarray(4 + 10).toString('hex'), '0202046162' + '00' + '01');
    t.equal(chunks.length, 1, 'a control-plane frame is one chunk');
  });

  t.test('Fetch v0 response: header chunks interleaved with the record slices', async (t) => {
    const a = Uint8Array.from([1, 2]);
    const b = Uint8Array.from([3]);
    const chunks = encodeResponse('Fetch', 0, 9, {
      throttleTimeMs: 0,
      errorCode: 0,
      topics: [{ name: 'x', partitions: [{ partition: 0, errorCode: 0, highWatermark: 5, logStartOffset: 0, records: [a, b] }] }],
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
  const fetchChunks = encodeResponse('Fetch', 0, 1, fetch);
  for (const slice of fetch.topics.flatMap((topic) => topic.partitions.flatMap((p) => p.records))) {
    if (slice.byteLength > 0) t.ok(fetchChunks.includes(slice), 'each fetch slice is a chunk as given');
  }
  const fetchFrame = responseFrame('Fetch', 0, fetch);
  const fetched = decodeResponseBody('Fetch', 0, fetchFrame.frame, fetchFrame.bodyOffset);
  t.equal(fetched.topics[0]!.partitions[0]!.records[0]!.buffer, fetchFrame.frame.buffer, 'fetched records share the frame\'s memory');
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
  t.throws(() => encodeRequest('Metadata', 99, 1, null, { topics: null, allowAutoTopicCreation: false }), /Metadata v99 is not supported; this build speaks v0 to v0/);
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
    () => encodeRequest('Fetch', 0, 1, null, { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 0, topics: [{ name: 't', partitions: [{ partition: 0, fetchOffset: 2 ** 53, partitionMaxBytes: 1 }] }] }),
    { message: /fetchOffset: 9007199254740992 is not a safe integer/ },
  );
  t.throws(() => encodeRequest('DeleteTopics', 0, 1, 'x'.repeat(40_000), { topics: [], timeoutMs: 0 }), { message: /clientId: .* at most 32767 bytes/ });
  t.throws(() => encodeRequest('DeleteTopics', 0, 2 ** 31, null, { topics: [], timeoutMs: 0 }), { message: /correlationId/ });
  t.throws(
    () => encodeRequest('Metadata', 0, 1, null, { topics: [7], allowAutoTopicCreation: false } as unknown as MetadataRequest),
    { name: 'RangeError', message: /^Metadata v0 request: cannot encode the body/ },
  );
});

t.test('Avro evolution: a v1 that adds fields with defaults reads v0 bytes, and writes v0 bytes from a v1 value', async (t) => {
  // A hypothetical Metadata v1: the request gains includeConfigs, each topic gains isInternal.
  const topicV0 = (metadataV0.response.fields[3].type as { items: { fields: readonly unknown[] } }).items;
  const metadataV1 = {
    request: {
      ...metadataV0.request,
      fields: [...metadataV0.request.fields, { name: 'includeConfigs', type: 'boolean', default: false, doc: 'v1: also return configs.' }],
    },
    response: {
      ...metadataV0.response,
      fields: [
        ...metadataV0.response.fields.slice(0, 3),
        {
          name: 'topics',
          doc: 'v1 topics.',
          type: { type: 'array', items: { ...topicV0, fields: [...topicV0.fields, { name: 'isInternal', type: 'boolean', default: false, doc: 'v1.' }] } },
        },
      ],
    },
  } as unknown as AvroApiVersion;

  // Plain avsc: the newer reader resolves the older writer's bytes.
  const v0 = avroType(metadataV0.request);
  const v1 = avroType(metadataV1.request);
  const v0Bytes = v0.toBuffer({ topics: ['a'], allowAutoTopicCreation: true });
  t.strictSame(canonical(v1.fromBuffer(v0Bytes, v1.createResolver(v0))), { topics: ['a'], allowAutoTopicCreation: true, includeConfigs: false });

  // The codec path: decoding at v0 yields the newest shape; encoding at v0 drops what v0 lacks.
  const codecs = avroBodyCodecs<MetadataRequest & { includeConfigs: boolean }, MetadataResponse>('Metadata', [metadataV0, metadataV1]);
  const request = codecs[0]!.encodeRequest({ topics: null, allowAutoTopicCreation: false, includeConfigs: true }, 0);
  t.strictSame(canonical(codecs[0]!.decodeRequest(concat(request), 0)), { topics: null, allowAutoTopicCreation: false, includeConfigs: false });
  t.equal(concat(request).toString('hex'), '0000', 'v0 bytes: null topics, false');
  const response = samples.Metadata[1]!.response;
  const v0Response = concat(codecs[0]!.encodeResponse(response, 0));
  const decoded = codecs[0]!.decodeResponse(v0Response, 0) as unknown as { topics: { isInternal: boolean }[] };
  t.strictSame(decoded.topics.map((topic) => topic.isInternal), [false, false], 'a v0 response gains the v1 default');
  const v1Response = concat(codecs[1]!.encodeResponse({ ...response, topics: response.topics.map((topic) => ({ ...topic, isInternal: true })) } as MetadataResponse, 0));
  t.ok(v1Response.byteLength === v0Response.byteLength + 2, 'v1 carries one more byte per topic');
  t.strictSame((codecs[1]!.decodeResponse(v1Response, 0) as unknown as { topics: { isInternal: boolean }[] }).topics.map((topic) => topic.isInternal), [true, true]);

  // An incompatible v1 (a new field without a default) is refused when the codecs are built, not on a live request.
  const incompatible = {
    request: { ...metadataV0.request, fields: [...metadataV0.request.fields, { name: 'x', type: 'int', doc: 'no default' }] },
    response: metadataV0.response,
  } as unknown as AvroApiVersion;
  t.throws(() => avroBodyCodecs('Metadata', [metadataV0, incompatible]), /no matching field for default-less/);
  t.ok(avro.Type.isType(v0), 'avsc types');
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
  checkGeneratedSections(t, protocolDocPath, GENERATED_SECTIONS, 'RUNNEL_UPDATE_DOCS=1 npx tap tests/protocol/wire.test.ts');
  const doc = readFileSync(protocolDocPath, 'utf8');
  for (const [name, spec] of Object.entries(Errors)) t.ok(doc.includes(`| ${spec.code} | ${name} |`), `${name} (${spec.code}) is documented`);
  t.match(doc, /min\(/, 'the negotiation rule is documented');
});
