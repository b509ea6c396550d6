/**
 * Bad input against a live broker process: impossible frame lengths,
 * truncated headers and bodies, unknown API keys and versions, random bytes,
 * invalid topic names and settings, a client that sends one byte at a time,
 * and clients that declare huge frames and then trickle. After every attack a
 * well-behaved client on its own connection must still be answered, and the
 * broker's resident memory must stay bounded (VmRSS from /proc). Bounded:
 * a fixed number of attacks, each with its own deadline.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { buildBatch } from '../../protocol/batch/builder.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { decodeResponseBody, decodeResponseHeader, encodeRequest } from '../../protocol/codec.js';
import { decodeErrorResponse } from '../../protocol/error-response.js';
import { Errors } from '../../protocol/errors.js';
import { seededRng } from '../../broker/world/rng.js';
import { startBrokerProcess } from '../support/broker-process.js';
import { RawClient, rawRequestFrame } from '../support/raw-client.js';

const MiB = 1024 * 1024;

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

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
  const broker = await startBrokerProcess({ args: ['--set', 'max.request.bytes=104857600'] });
  t.teardown(() => broker.kill('SIGKILL'));
  const connect = async (): Promise<RawClient> => {
    const client = await RawClient.connect(broker.host, broker.port);
    t.teardown(() => client.close());
    return client;
  };
  const good = await connect();
  let checks = 0;
  const stillServes = async (after: string): Promise<void> => {
    const metadata = await good.request('Metadata', { topics: null, allowAutoTopicCreation: false });
    checks += 1;
    t.equal(metadata.brokers[0]?.port, broker.port, `still answers after ${after}`);
  };
  await good.request('CreateTopics', { topics: [{ name: 'target', partitions: 1, replicationFactor: 1, configs: [] }], timeoutMs: 5000, validateOnly: false });
  const rssStart = rssBytes(broker.pid);

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
    let answered = 0;
    let closed = 0;
    for (let round = 0; round < 60; round++) {
      const client = await connect();
      const correlationId = 5000 + round;
      const body = Buffer.alloc(rng.int(200));
      for (let i = 0; i < body.length; i++) body[i] = rng.int(256);
      const apiKey = rng.int(4) === 0 ? rng.int(0x7fff) : keys[rng.int(keys.length)]!;
      const wellFramedHeader = round % 2 === 0;
      const response = wellFramedHeader ? client.expectResponse(correlationId).then(() => 'answered', () => 'closed') : client.closed.then(() => 'closed');
      // Even rounds: a valid header and a random body. Odd rounds: random bytes after the length, header included.
      await client.sendRaw(wellFramedHeader ? rawRequestFrame({ apiKey, apiVersion: rng.int(3) === 0 ? rng.int(5) : 0, correlationId }, body) : Buffer.concat([lengthPrefix(body.length + 8), Buffer.from([0, rng.int(40), 0, 0, 0, 0, 0, 0]), body]));
      if (!wellFramedHeader) {
        // A frame whose random header happens to parse is answered; either way the broker must not hang or die.
        await Promise.race([response, new Promise((resolve) => setTimeout(resolve, 300))]);
        answered += client.isClosed ? 0 : 1;
        closed += client.isClosed ? 1 : 0;
        client.close();
        continue;
      }
      const outcome = await Promise.race([response, new Promise((resolve) => setTimeout(() => resolve('timeout'), 10_000))]);
      if (outcome === 'answered') answered += 1;
      else if (outcome === 'closed') closed += 1;
      client.close();
    }
    t.equal(answered + closed, 60, `every random frame was answered (${answered}) or its connection closed (${closed}), none hung`);
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
    const metadata = await good.request('Metadata', { topics: null, allowAutoTopicCreation: false });
    t.same(metadata.topics.map((topic) => topic.name), ['target'], 'nothing invalid was created');
  });

  await t.test('a client sending a frame byte by byte neither blocks others nor is dropped', async (t) => {
    const slow = await connect();
    const frame = Buffer.concat(encodeRequest('Metadata', 0, 777, 'slowpoke', { topics: ['target'], allowAutoTopicCreation: false }));
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
    const rssNow = rssBytes(broker.pid);
    const declared = 16 * 90 * MiB;
    t.ok(rssNow - rssStart < 200 * MiB, `RSS grew by ${((rssNow - rssStart) / MiB).toFixed(1)} MiB for ${declared / MiB} MiB declared (bounded by what was sent)`);
    for (const client of tricklers) client.close();
  });

  await t.test('a client that pipelines fetches and never reads the answers is paused, not buffered', async (t) => {
    await good.request('CreateTopics', { topics: [{ name: 'big', partitions: 1, replicationFactor: 1, configs: [] }], timeoutMs: 5000, validateOnly: false });
    for (let i = 0; i < 4; i++) {
      const records = buildBatch([{ key: null, value: Buffer.alloc(900 * 1024, i) }], { nowMs: Date.now() });
      const produced = await good.request('Produce', { acks: 1, timeoutMs: 5000, topics: [{ name: 'big', partitions: [{ partition: 0, records }] }] });
      t.equal(produced.topics[0]!.partitions[0]!.errorCode, 0);
    }
    const rssBefore = rssBytes(broker.pid);
    const fetches = 300;
    const requests = Buffer.concat(Array.from({ length: fetches }, (_v, i) => Buffer.concat(encodeRequest('Fetch', 0, i + 1, 'hog', {
      replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 8 * MiB,
      topics: [{ name: 'big', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 8 * MiB }] }],
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
    const grownBytes = rssBytes(broker.pid) - rssBefore;
    t.ok(grownBytes < 200 * MiB, `RSS grew by ${(grownBytes / MiB).toFixed(1)} MiB, not by the ${((fetches * 3.6 * MiB) / MiB).toFixed(0)} MiB the answers would take`);
    hog.destroy();
  });

  await stillServes('everything');
  t.ok(checks >= 15, `the well-behaved client was answered ${checks} times`);
  const rssEnd = rssBytes(broker.pid);
  t.ok(rssEnd < rssStart + 300 * MiB, `RSS at the end ${(rssEnd / MiB).toFixed(0)} MiB (start ${(rssStart / MiB).toFixed(0)} MiB)`);
  t.notMatch(broker.output(), /unexpected error|"level":"(error|fatal)"/, 'bad input is never mistaken for a broker bug (no UNKNOWN_SERVER_ERROR, nothing logged as an error)');
  t.equal(await broker.stop(), 0, 'and shuts down cleanly afterwards');
});
