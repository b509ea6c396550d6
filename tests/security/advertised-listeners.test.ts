/**
 * advertised.listeners on a real broker process: the EXTERNAL listener sits
 * behind a TCP forwarder on another port (as behind NAT or a mapped
 * container port), and the broker is told so. A client that connects
 * through EXTERNAL, at the forwarder or straight at the bound port, is told
 * the forwarder's address; one through INTERNAL (not advertised) is told
 * INTERNAL's bound port; and produce and consume through the forwarder work.
 */
import t from 'tap';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Runnel, type Message } from '../../client/index.js';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';

/** A loopback forwarder to a port told later; counts the connections it carried. */
async function forwarder(): Promise<{ port: number; target: { port: number }; connections: () => number; close(): Promise<void> }> {
  const target = { port: 0 };
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((client) => {
    connections += 1;
    const upstream = connect(target.port, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the forwarder has no port');
  return {
    port: address.port,
    target,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

let broker: BrokerProcess;
let proxy: Awaited<ReturnType<typeof forwarder>>;
const clients: Runnel[] = [];

function client(port: number): Runnel {
  const runnel = new Runnel({ bootstrap: [`127.0.0.1:${port}`], clientId: 'advertised-test', connectTimeoutMs: 5000, retry: { retries: 2, initialBackoffMs: 50, maxBackoffMs: 200 } });
  clients.push(runnel);
  return runnel;
}

function bound(name: string): number {
  const port = broker.listeners.get(name);
  if (port === undefined) throw new Error(`no listener ${name}: ${[...broker.listeners.keys()].join(', ')}`);
  return port;
}

t.before(async () => {
  proxy = await forwarder();
  broker = await startBrokerProcess({
    args: [
      '--set', 'listeners=INTERNAL://127.0.0.1:0,EXTERNAL://127.0.0.1:0',
      '--set', 'listener.security.protocol.map=INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT',
      '--set', 'inter.broker.listener.name=INTERNAL',
      '--set', `advertised.listeners=EXTERNAL://127.0.0.1:${proxy.port}`,
    ],
  });
  proxy.target.port = bound('EXTERNAL');
});

t.teardown(async () => {
  for (const runnel of clients) await runnel.close().catch(() => undefined);
  await broker?.stop();
  await proxy?.close();
});

t.test('each listener is told as advertised: EXTERNAL at the forwarder, INTERNAL at its bound port', async (t) => {
  t.not(proxy.port, bound('EXTERNAL'), 'the forwarder is not the port the broker listens on');
  const viaProxy = await client(proxy.port).admin().describeCluster();
  t.same(viaProxy.brokers.map((b) => `${b.host}:${b.port}`), [`127.0.0.1:${proxy.port}`], 'through the forwarder: told the forwarder');
  const direct = await client(bound('EXTERNAL')).admin().describeCluster();
  t.same(direct.brokers.map((b) => `${b.host}:${b.port}`), [`127.0.0.1:${proxy.port}`], 'straight at EXTERNAL\'s bound port: still told the advertised address');
  const internal = await client(bound('INTERNAL')).admin().describeCluster();
  t.same(internal.brokers.map((b) => `${b.host}:${b.port}`), [`127.0.0.1:${bound('INTERNAL')}`], 'INTERNAL, not advertised: its bound port');
});

t.test('produce and consume through the forwarder', async (t) => {
  const before = proxy.connections();
  const runnel = client(proxy.port);
  await runnel.admin().createTopic({ name: 'natted', partitions: 2 });
  const producer = runnel.producer({ lingerMs: 1 });
  await producer.send({ topic: 'natted', messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
  await producer.close();
  const consumer = runnel.consumer({ maxWaitMs: 100 });
  consumer.assign([0, 1].map((partition) => ({ topic: 'natted', partition, offset: 'earliest' as const })));
  const got: Message[] = [];
  const timer = setTimeout(() => void consumer.close(), 15_000);
  for await (const m of consumer) {
    got.push(m);
    if (got.length === 20) break;
  }
  clearTimeout(timer);
  await consumer.close();
  t.same(got.map((m) => m.value?.toString()).sort(), Array.from({ length: 20 }, (_, i) => `v${i}`).sort(), 'every record back');
  t.ok(proxy.connections() > before, `${proxy.connections() - before} connections through the forwarder`);
});
