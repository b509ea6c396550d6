/**
 * Throttling in process, on a manual clock:
 * - the broker side (net/connection.ts with quota/client-quotas.ts): a
 *   request over its quota is answered at once with its throttle time in
 *   the response, and then the connection reads nothing more until that
 *   time has passed on the clock, even though the next request has
 *   already arrived; follower fetches are exempt; a quota set at run time
 *   (a new image) applies to the next request;
 * - the SDK side (client/connection.ts): after a response with a throttle
 *   time, the next request is not written until it has passed, and
 *   brokerStats()'s counters see it;
 * - the connection limits in process: per-address overrides and the
 *   creation rate refuse the connection past them, and say which limit.
 */
import t from 'tap';
import { brokerConfig } from '../../broker/config.js';
import { registered, type ApiHandler } from '../../broker/handlers/handler.js';
import { silentLogger } from '../../broker/log.js';
import type { ClientQuotas } from '../../broker/metadata/apply-client-quota.js';
import { ClientConnection } from '../../broker/net/connection.js';
import { BrokerServer, type RefusedBy } from '../../broker/net/server.js';
import { ClientQuotaEnforcer } from '../../broker/quota/client-quotas.js';
import { quotaEntityKey, type QuotaEntry } from '../../broker/quota/quota-entities.js';
import { ManualClock } from '../../broker/world/clock.js';
import type { Transport, TransportConnection } from '../../broker/world/transport.js';
import { FakeTransport } from '../support/fake-transport.js';
import { Connection } from '../../client/connection.js';
import type { OutgoingConnection, OutgoingConnectionEvents } from '../../client/transport.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { apiVersionsTable, decodeRequestHeader, decodeResponseBody, decodeResponseHeader, encodeRequest, encodeResponse } from '../../protocol/codec.js';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const concat = (chunks: readonly Uint8Array[]): Buffer => Buffer.concat(chunks.map((c) => Buffer.from(c)));

function quotaMap(entries: QuotaEntry[]): ClientQuotas {
  return new Map(entries.map((e) => [quotaEntityKey(e.entity.user, e.entity.clientId), e]));
}

const describeHandler: ApiHandler<'DescribeClientQuotas'> = {
  api: 'DescribeClientQuotas',
  versions: { min: 0, max: 0 },
  handle: async () => ({ throttleTimeMs: 0, errorCode: 0, errorMessage: null, entries: [] }),
};
const noFaults = { fatal: () => undefined };

function describeRequest(correlationId: number, clientId: string): Buffer {
  return concat(encodeRequest('DescribeClientQuotas', 0, correlationId, clientId, { components: [], strict: false }));
}

function throttleOf(response: Uint8Array): number {
  const frame = response.subarray(4);
  const { bodyOffset } = decodeResponseHeader(frame);
  return decodeResponseBody('DescribeClientQuotas', 0, frame, bodyOffset).throttleTimeMs;
}

t.test('the broker answers at once with the throttle time, then reads nothing from the connection until it has passed', async (t) => {
  const clock = new ManualClock();
  let quotas = quotaMap([{ entity: { user: null, clientId: 'greedy' }, quotas: { request_rate: 2 } }]);
  const transport = new FakeTransport();
  const enforcer = new ClientQuotaEnforcer({ quotas: () => quotas, clock });
  const handlers = new Map([[ApiKey.DescribeClientQuotas, registered(describeHandler, noFaults)]]);
  new ClientConnection({ id: 1, transport, handlers, limits: { maxRequestBytes: 1 << 20, queuedMaxRequests: 100, maxUnflushedResponseBytes: 1 << 20 }, clock, logger: silentLogger(), quotas: enforcer });
  // Three pipelined requests: a burst of 2 (one second at 2/s) passes; the third overflows by 1, 500 ms.
  transport.events!.data(Buffer.concat([1, 2, 3].map((id) => describeRequest(id, 'greedy'))));
  await settle();
  t.equal(transport.written.length, 3, 'all three answered: the third at once, over its quota');
  t.same(transport.written.map(throttleOf), [0, 0, 500], 'the third carries its throttle time');
  t.ok(transport.paused, 'the connection is muted');
  transport.events!.data(describeRequest(4, 'greedy'));
  await settle();
  clock.advance(499);
  await settle();
  t.equal(transport.written.length, 3, 'the fourth, already received, is not read before the throttle time has passed');
  clock.advance(1);
  await settle();
  t.equal(transport.written.length, 4, 'and is answered once it has');
  t.equal(throttleOf(transport.written[3]!), 500, 'itself over the quota (the bucket drained 1 of the 2 over)');
  clock.advance(500);
  await settle();
  t.notOk(transport.paused, 'reading again once the second throttle has passed');

  transport.events!.data(describeRequest(5, 'polite'));
  await settle();
  t.equal(throttleOf(transport.written[4]!), 0, 'another client id has no quota: never throttled');
  quotas = quotaMap([{ entity: { user: '<default>', clientId: null }, quotas: { request_rate: 1 } }]);
  transport.events!.data(Buffer.concat([describeRequest(6, 'polite'), describeRequest(7, 'polite')]));
  await settle();
  t.same(transport.written.slice(5).map(throttleOf), [0, 1000], 'a quota on the default user, set at run time, applies to the next requests');
});

t.test('follower fetches and the controller APIs are exempt from client quotas', async (t) => {
  const clock = new ManualClock();
  const enforcer = new ClientQuotaEnforcer({ quotas: () => quotaMap([{ entity: { user: '<default>', clientId: null }, quotas: { request_rate: 1, consumer_byte_rate: 1 } }]), clock });
  const ask = (api: 'Fetch' | 'BrokerHeartbeat', replicaId: number): number => enforcer.throttleMs({ api, principal: 'User:ANONYMOUS', clientId: 'x', request: { replicaId }, requestBytes: 100, responseBytes: 1_000_000 });
  t.equal(ask('Fetch', 2) + ask('Fetch', 2) + ask('BrokerHeartbeat', -1) + ask('BrokerHeartbeat', -1), 0, 'never throttled');
  t.ok(ask('Fetch', -1) > 0, 'a consumer\'s fetch of the same size is');
});

/** A broker on the other end of the SDK's connection: answers ApiVersions, and DescribeClientQuotas with the throttle times given, noting when each request was written. */
function fakeBroker(clock: ManualClock, throttles: number[]): { transport: { connect(): OutgoingConnection }; writtenAtMs: number[] } {
  const writtenAtMs: number[] = [];
  const transport = {
    connect(): OutgoingConnection {
      let events: OutgoingConnectionEvents;
      const answer = (chunks: Uint8Array[]): void => void Promise.resolve().then(() => events.data(concat(chunks)));
      return {
        remoteAddress: 'broker:9092',
        bufferedBytes: 0,
        attach(e) {
          events = e;
          void Promise.resolve().then(() => events.connect());
        },
        write(chunks) {
          const frame = concat(chunks).subarray(4);
          const { header } = decodeRequestHeader(frame);
          if (header.apiKey === ApiKey.ApiVersions) answer(encodeResponse('ApiVersions', header.apiVersion, header.correlationId, { errorCode: 0, apiKeys: apiVersionsTable() }));
          else {
            writtenAtMs.push(clock.nowMs());
            answer(encodeResponse('DescribeClientQuotas', 0, header.correlationId, { throttleTimeMs: throttles.shift() ?? 0, errorCode: 0, errorMessage: null, entries: [] }));
          }
          return true;
        },
        pause() {},
        resume() {},
        destroy() {},
        end() {},
        ref() {},
        unref() {},
      };
    },
  };
  return { transport, writtenAtMs };
}

t.test('the SDK sends nothing to a broker until its throttle time has passed, and counts it', async (t) => {
  const clock = new ManualClock();
  const broker = fakeBroker(clock, [300]);
  const heard: number[] = [];
  const connection = new Connection({
    host: 'broker', port: 9092, clientId: 'greedy', connectTimeoutMs: 60_000, requestTimeoutMs: 60_000, maxInFlightRequests: 5, maxFrameBytes: 1 << 20,
    reconnect: { initialBackoffMs: 10, maxBackoffMs: 10 }, logger: silentLogger(), onThrottled: (ms) => heard.push(ms),
    world: { transport: broker.transport, clock, rng: { next: () => 0.5 } },
  });
  const body = { components: [], strict: false };
  const first = await connection.request('DescribeClientQuotas', body);
  t.equal(first.throttleTimeMs, 300);
  const second = connection.request('DescribeClientQuotas', body);
  await settle();
  t.same(broker.writtenAtMs, [clock.nowMs()], 'the next request waits: not written yet');
  clock.advance(299);
  await settle();
  t.equal(broker.writtenAtMs.length, 1, 'not before the throttle time has passed');
  clock.advance(1);
  await second;
  t.equal(broker.writtenAtMs.length, 2, 'written once it has');
  t.equal(broker.writtenAtMs[1]! - broker.writtenAtMs[0]!, 300);
  t.same([connection.throttledResponses, connection.throttleTimeMs, heard], [1, 300, [300]], 'counted (brokerStats) and reported (the throttled event)');
  await connection.close();
});

t.test('connection limits in process: per-address overrides and the creation rate, each named when it refuses', async (t) => {
  let accept!: (connection: TransportConnection) => void;
  const transport: Pick<Transport, 'listen'> = {
    async listen(_opts, onConnection) {
      accept = onConnection;
      return { host: '0.0.0.0', port: 1, close: async () => undefined };
    },
  };
  const clock = new ManualClock();
  const refused: RefusedBy[] = [];
  const config = brokerConfig({ 'connections.max.idle.ms': -1, 'max.connections.per.ip': 1, 'max.connections.per.ip.overrides': '10.0.0.9:3', 'max.connection.creation.rate': 2 });
  t.same([...config.maxConnectionsPerIpOverrides], [['10.0.0.9', 3]]);
  const server = await BrokerServer.start({ transport, config, handlers: new Map(), clock, logger: silentLogger(), caps: { maxConnections: 100, maxConnectionsPerIp: 1, adminReservedConnections: 0, maxConnectionsPerIpOverrides: config.maxConnectionsPerIpOverrides, maxConnectionCreationRate: 2 }, onRefused: (by) => refused.push(by) });
  const open = (address: string): FakeTransport => {
    const connection = new FakeTransport(address);
    accept(connection);
    return connection;
  };
  t.same([open('10.0.0.1:1'), open('10.0.0.1:2')].map((c) => c.destroyed), [false, true], 'max.connections.per.ip 1');
  const overridden = [open('10.0.0.9:1'), open('10.0.0.9:2'), open('10.0.0.9:3')];
  t.same(overridden.map((c) => c.destroyed), [false, false, true], 'the override gives 10.0.0.9 three, but only two a second (the creation rate)');
  overridden[0]!.destroy();
  overridden[1]!.destroy();
  t.ok(open('10.0.0.9:4').destroyed, 'still past the creation rate within the same second, though under the count');
  clock.advance(1000);
  t.notOk(open('10.0.0.9:5').destroyed, 'admitted once the rate allows');
  t.same(refused, ['max.connections.per.ip', 'max.connection.creation.rate', 'max.connection.creation.rate'], 'each refusal names its limit (metrics)');
  await server.close(0);
});
