/**
 * Bad input against a live broker process: impossible frame lengths,
 * truncated headers and bodies, unknown API keys and versions, random bytes,
 * invalid topic names and settings, a client that sends one byte at a time,
 * and clients that declare huge frames and then trickle. After every attack a
 * well-behaved client on its own connection must still be answered, and the
 * memory the broker holds in buffers must stay bounded by what was sent, not
 * by what was declared: `arrayBuffers`, asked of the broker process itself
 * after a full collection (tests/support/broker-memory.ts). Resident memory
 * would not do: pages of a buffer allocated for a declared length and never
 * written do not become resident. Bounded: a fixed number of attacks, each
 * with its own deadline.
 */
import t from 'tap';
import net from 'node:net';
import { buildBatch } from '../../protocol/batch/builder.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { decodeResponseBody, decodeResponseHeader, encodeRequest } from '../../protocol/codec.js';
import { decodeErrorResponse } from '../../protocol/error-response.js';
import { Errors } from '../../protocol/errors.js';
import { seededRng } from '../../broker/world/rng.js';
import { startBrokerProcess } from '../support/broker-process.js';
import { memoryProbe, mib, MiB } from '../support/broker-memory.js';
import { RawClient, rawRequestFrame } from '../support/raw-client.js';

function lengthPrefix(length: number): Uint8Array {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(length >>> 0, 0);
  return buf;
}

/** Resolves true if the broker closes the connection within `withinMs`. */
async function closedWithin(client: RawClient, withinMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([client.closed.then(() => true), new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), withinMs); })]);
  clearTimeout(timer);
  return result;
}

t.test('the broker survives bad input and keeps answering a well-behaved client', async (t) => {
  const memory = memoryProbe();
  const broker = await startBrokerProcess({ args: ['--set', 'max.request.bytes=104857600'], env: memory.env });
  t.teardown(() => broker.kill('SIGKILL'));
  const connect = async (): Promise<RawClient> => {
    const client = await RawClient.connect(broker.host, broker.port);
    t.teardown(() => client.close());
    return client;
  };
  const good = await connect();
  let checks = 0;
  const stillServes = async (after: string): Promise<void> => {
    const metadata = await good.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false });
    checks += 1;
    t.equal(metadata.brokers[0]?.port, broker.port, `still answers after ${after}`);
  };
  await good.request('CreateTopics', { topics: [{ name: 'target', partitions: 1, replicationFactor: 1, configs: [] }], timeoutMs: 5000, validateOnly: false });
  const buffersAtStart = (await memory.read()).arrayBuffers;

  await t.test('impossible lengths close that connection only', async (t) => {
    for (const [label, length] of [['0', 0], ['-1', -1], ['-2^31', -0x80000000], ['2^31-1', 0x7fffffff], ['max.request.bytes + 1', 100 * MiB + 1]] as const) {
      const bad = await connect();
      await bad.sendRaw(lengthPrefix(length));
      t.ok(await closedWithin(bad, 10_000), `length ${label}: closed without waiting for a body`);
      await stillServes(`length ${label}`);
    }
    const short = await connect();
    await short.sendRaw(Buffer.concat([lengthPrefix(3), Buffer.from([0, 3, 0])]));
    t.ok(await closedWithin(short, 10_000), 'a frame too short for a request header closes the connection');
    await stillServes('a 3-byte frame');
    t.match(broker.output(), /malformed frame: frame length 0/, 'the reason is logged');
  });

  await t.test('unknown keys, unsupported versions and bodies that do not decode get error responses', async (t) => {
    const client = await connect();
    const errorOf = async (frame: Uint8Array, correlationId: number) => {
      const response = client.expectResponse(correlationId);
      await client.sendRaw(frame);
      const body = await response;
      return decodeErrorResponse(body, decodeResponseHeader(body).bodyOffset);
    };
    const unknownKey = await errorOf(rawRequestFrame({ apiKey: 999, apiVersion: 0, correlationId: 11 }), 11);
    t.equal(unknownKey.errorCode, Errors.UNKNOWN_API.code);
    t.match(unknownKey.errorMessage, /API key 999/);
    const badVersion = await errorOf(rawRequestFrame({ apiKey: ApiKey.Metadata, apiVersion: 99, correlationId: 12 }), 12);
    t.equal(badVersion.errorCode, Errors.UNSUPPORTED_VERSION.code);
    t.match(badVersion.errorMessage, /Metadata v99/);
    const negativeVersion = await errorOf(rawRequestFrame({ apiKey: ApiKey.Produce, apiVersion: -1, correlationId: 13 }), 13);
    t.equal(negativeVersion.errorCode, Errors.UNSUPPORTED_VERSION.code);

    const apiVersionsResponse = client.expectResponse(14);
    await client.sendRaw(rawRequestFrame({ apiKey: ApiKey.ApiVersions, apiVersion: 42, correlationId: 14 }));
    const frame = await apiVersionsResponse;
    const versions = decodeResponseBody('ApiVersions', 0, frame, decodeResponseHeader(frame).bodyOffset);
    t.equal(versions.errorCode, Errors.UNSUPPORTED_VERSION.code, 'ApiVersions at an unknown version answers v0 with the error');
    t.ok(versions.apiKeys.length >= 9, 'and the versions the broker speaks');

    // A valid Produce request cut short at every length: INVALID_REQUEST each time, connection intact.
    const whole = Buffer.concat(encodeRequest('Produce', 0, 20, 'x', { acks: 1, timeoutMs: 1000, topics: [{ name: 'target', partitions: [{ partition: 0, records: new Uint8Array(70) }] }] }));
    const headerBytes = 4 + 2 + 2 + 4 + 2 + 1;
    for (let cut = headerBytes; cut < whole.length; cut += 7) {
      const truncated = Buffer.from(whole.subarray(0, cut));
      truncated.writeInt32BE(cut - 4, 0);
      truncated.writeInt32BE(1000 + cut, 8);
      const error = await errorOf(truncated, 1000 + cut);
      t.equal(error.errorCode, Errors.INVALID_REQUEST.code, `body cut at ${cut} bytes: INVALID_REQUEST`);
    }
    t.notOk(client.isClosed, 'the connection carries on after error responses');
    await stillServes('error responses');
  });

  await t.test('random frames', async (t) => {
    const rng = seededRng(20260101);
    const keys = Object.values(ApiKey);
    const outcomes = { answered: [0, 0], closed: [0, 0], hung: [0, 0] };
    for (let round = 0; round < 60; round++) {
      const client = await connect();
      const body = Buffer.alloc(rng.int(200));
      for (let i = 0; i < body.length; i++) body[i] = rng.int(256);
      const apiKey = rng.int(4) === 0 ? rng.int(0x7fff) : keys[rng.int(keys.length)]!;
      const kind = round % 2;
      // Even rounds: a valid header and a random body. Odd rounds: random bytes after the length from the
      // client id on (api key below 40, version 0, correlation id 0): a header that happens to parse is answered
      // with correlation id 0, one that does not closes the connection. Either way within the bound, or it hung.
      const correlationId = kind === 0 ? 5000 + round : 0;
      const response = client.expectResponse(correlationId).then(() => 'answered' as const, () => 'closed' as const);
      await client.sendRaw(kind === 0 ? rawRequestFrame({ apiKey, apiVersion: rng.int(3) === 0 ? rng.int(5) : 0, correlationId }, body) : Buffer.concat([lengthPrefix(body.length + 8), Buffer.from([0, rng.int(40), 0, 0, 0, 0, 0, 0]), body]));
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([response, new Promise<'hung'>((resolve) => { timer = setTimeout(() => resolve('hung'), 10_000); })]);
      clearTimeout(timer);
      outcomes[outcome][kind]! += 1;
      client.close();
      if (outcome === 'hung') break; // one is enough to fail; the rest would each wait out the bound
    }
    const described = (kind: number) => `${outcomes.answered[kind]} answered, ${outcomes.closed[kind]} closed, ${outcomes.hung[kind]} hung`;
    t.same(outcomes.hung, [0, 0], `every random frame was answered or its connection closed within 10 s, none hung (random bodies: ${described(0)}; random headers: ${described(1)})`);
    await stillServes('random frames');

    const garbage = await connect();
    const noise = Buffer.alloc(4096);
    for (let i = 0; i < noise.length; i++) noise[i] = rng.int(256);
    await garbage.sendRaw(noise);
    await stillServes('4 KiB of noise');
  });

  await t.test('invalid topic names and settings are refused with a reason', async (t) => {
    const names = ['', '.', '..', 'a b', 'x'.repeat(250), 'ü', 'a/b'];
    const created = await good.request('CreateTopics', { topics: names.map((name) => ({ name, partitions: 1, replicationFactor: 1, configs: [] })), timeoutMs: 5000, validateOnly: false });
    t.same(created.topics.map((r) => r.errorCode), names.map(() => Errors.INVALID_TOPIC_EXCEPTION.code));
    const configs = [['segment.bytes', '-5'], ['fsync', 'never'], ['cleanup.policy', 'shred'], ['__proto__', 'x'], ['max.message.bytes', '9'.repeat(30)]];
    const withConfigs = await good.request('CreateTopics', { topics: configs.map(([name, value], i) => ({ name: `c${i}`, partitions: 1, replicationFactor: 1, configs: [{ name: name!, value: value! }] })), timeoutMs: 5000, validateOnly: false });
    t.same(withConfigs.topics.map((r) => r.errorCode), configs.map(() => Errors.INVALID_CONFIG.code));
    for (const [i, [name]] of configs.entries()) t.match(withConfigs.topics[i]!.errorMessage, name === '__proto__' ? /__proto__/ : new RegExp(name!.replace(/\./g, '\\.')));
    const huge = await good.request('CreateTopics', { topics: [{ name: 'many', partitions: 1_000_000, replicationFactor: 1, configs: [] }], timeoutMs: 5000, validateOnly: false });
    t.equal(huge.topics[0]!.errorCode, Errors.INVALID_PARTITIONS.code);
    const metadata = await good.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false });
    t.same(metadata.topics.map((topic) => topic.name), ['target'], 'nothing invalid was created');
  });

  await t.test('a client sending a frame byte by byte neither blocks others nor is dropped', async (t) => {
    const slow = await connect();
    const frame = Buffer.concat(encodeRequest('Metadata', 0, 777, 'slowpoke', { topics: ['target'], allowAutoTopicCreation: false, includeInternal: false }));
    const response = slow.expectResponse(777);
    for (let i = 0; i < frame.length; i++) {
      await slow.sendRaw(frame.subarray(i, i + 1));
      await new Promise((resolve) => setTimeout(resolve, 15));
      if (i % 8 === 0) await stillServes(`byte ${i} of a slow frame`);
    }
    const answer = await response;
    const metadata = decodeResponseBody('Metadata', 0, answer, decodeResponseHeader(answer).bodyOffset);
    t.equal(metadata.topics[0]?.name, 'target', 'the slow client is answered in the end');
  });

  await t.test('declared-huge frames that trickle do not grow memory with the declared size', async (t) => {
    const tricklers: RawClient[] = [];
    for (let i = 0; i < 16; i++) {
      const client = await connect();
      tricklers.push(client);
      await client.sendRaw(lengthPrefix(90 * MiB));
      await client.sendRaw(rawRequestFrame({ apiKey: ApiKey.Produce, apiVersion: 0, correlationId: 1 }).subarray(4));
      await client.sendRaw(Buffer.alloc(256 * 1024, 7));
    }
    await stillServes('16 clients each declaring a 90 MiB frame');
    const grown = (await memory.read()).arrayBuffers - buffersAtStart;
    const declared = 16 * 90 * MiB;
    const sent = 16 * 256 * 1024;
    // What was sent, held once, plus room for the connections' own buffers: a reader that allocated the
    // declared length would hold 90 MiB a connection.
    t.ok(grown < sent + 8 * MiB, `the broker's buffers grew by ${mib(grown)} for ${mib(sent)} sent and ${mib(declared)} declared (bounded by what was sent)`);
    for (const client of tricklers) client.close();
  });

  await t.test('a client that pipelines fetches and never reads the answers is paused, not buffered', async (t) => {
    await good.request('CreateTopics', { topics: [{ name: 'big', partitions: 1, replicationFactor: 1, configs: [] }], timeoutMs: 5000, validateOnly: false });
    for (let i = 0; i < 4; i++) {
      const records = buildBatch([{ key: null, value: Buffer.alloc(900 * 1024, i) }], { nowMs: Date.now() });
      const produced = await good.request('Produce', { acks: 1, timeoutMs: 5000, topics: [{ name: 'big', partitions: [{ partition: 0, records }] }] });
      t.equal(produced.topics[0]!.partitions[0]!.errorCode, 0);
    }
    const buffersBefore = (await memory.read()).arrayBuffers;
    const fetches = 300;
    const requests = Buffer.concat(Array.from({ length: fetches }, (_v, i) => Buffer.concat(encodeRequest('Fetch', 0, i + 1, 'hog', {
      replicaId: -1, replicaEpoch: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 8 * MiB,
      topics: [{ name: 'big', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, partitionMaxBytes: 8 * MiB }] }],
    }))));
    const hog = net.connect({ host: broker.host, port: broker.port });
    t.teardown(() => hog.destroy());
    await new Promise<void>((resolve) => hog.once('connect', () => resolve()));
    hog.pause(); // never read: the kernel buffers fill, then the broker's
    hog.write(requests);
    // Give the broker time to answer all it will answer.
    for (let i = 0; i < 10; i++) await stillServes(`pipelined fetches that are never read (${i})`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await stillServes('pipelined fetches that are never read');
    const grown = (await memory.read()).arrayBuffers - buffersBefore;
    // max.unflushed.response.bytes (16 MiB) of answers queued, the one read that crosses it (3.6 MiB), and slack.
    t.ok(grown < 32 * MiB, `the broker's buffers grew by ${mib(grown)}, not by the ${mib(fetches * 3.6 * MiB)} the answers would take`);
    hog.destroy();
  });

  await stillServes('everything');
  t.ok(checks >= 15, `the well-behaved client was answered ${checks} times`);
  // Every attacker is gone: what they made the broker hold (4 MiB of trickled frames, 17 MiB of unread
  // answers) must be gone too. No spare read buffer stays either: every fetch here read more than one holds.
  let buffersAtEnd = (await memory.read()).arrayBuffers;
  // The broker hears of the last closes asynchronously: a few round trips let it get there; a leak stays.
  for (let i = 0; i < 5 && buffersAtEnd - buffersAtStart >= 2 * MiB; i++) {
    await stillServes(`the attackers left (${i})`);
    buffersAtEnd = (await memory.read()).arrayBuffers;
  }
  t.ok(buffersAtEnd - buffersAtStart < 2 * MiB, `the broker's buffers at the end: ${mib(buffersAtEnd)} (${mib(buffersAtStart)} at the start)`);
  t.notMatch(broker.output(), /unexpected error|"level":"(error|fatal)"/, 'bad input is never mistaken for a broker bug (no UNKNOWN_SERVER_ERROR, nothing logged as an error)');
  t.equal(await broker.stop(), 0, 'and shuts down cleanly afterwards');
});
