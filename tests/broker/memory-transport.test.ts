/**
 * The simulated network: what a TCP connection shows an application (ordered
 * bytes, flow control, FIN and reset, refused connects), every event on the
 * injected clock, and the faults a simulation injects (partitions held or
 * reset, killed hosts), replayed exactly from a seed.
 */
import t from 'tap';
import { ManualClock } from '../../broker/world/clock.js';
import { MemoryNetwork } from '../../broker/world/memory-transport.js';
import { seededRng } from '../../broker/world/rng.js';
import type { OutgoingConnection, TransportConnection } from '../../broker/world/transport.js';

interface Recorded {
  log: string[];
  /** Everything received, as text. */
  text(): string;
  closed: boolean;
  error: (Error & { code?: string }) | undefined;
  drains: number;
}

/** Attaches to a connection and records what it hears. */
function record(connection: TransportConnection | OutgoingConnection, clock: ManualClock): Recorded {
  const r: Recorded & { received: string } = {
    log: [],
    received: '',
    text: () => r.received,
    closed: false,
    error: undefined,
    drains: 0,
  };
  const at = (): number => clock.nowMs() - START;
  connection.attach({
    connect: () => r.log.push(`connect@${at()}`),
    data: (chunk) => {
      r.received += Buffer.from(chunk).toString();
      r.log.push(`data(${Buffer.from(chunk).toString()})@${at()}`);
    },
    drain: () => {
      r.drains++;
      r.log.push(`drain@${at()}`);
    },
    close: (error) => {
      r.closed = true;
      r.error = error;
      r.log.push(`close(${(error as { code?: string } | undefined)?.code ?? ''})@${at()}`);
    },
  });
  return r;
}

const START = 1_000_000;

/** A network of two nodes, a server listening on `server:9000` that records each accepted connection. */
async function twoNodes(opts: { seed?: number; minDelayMs?: number; maxDelayMs?: number; highWaterMark?: number } = {}) {
  const clock = new ManualClock(START);
  const network = new MemoryNetwork({ clock, rng: seededRng(opts.seed ?? 1), minDelayMs: opts.minDelayMs ?? 1, maxDelayMs: opts.maxDelayMs ?? 1, highWaterMark: opts.highWaterMark });
  const accepted: { connection: TransportConnection; seen: Recorded }[] = [];
  const listener = await network.node('server').listen({ host: 'server', port: 9000 }, (connection) => {
    accepted.push({ connection, seen: record(connection, clock) });
  });
  const connect = (): { connection: OutgoingConnection; seen: Recorded } => {
    const connection = network.node('client').connect({ host: 'server', port: 9000 });
    return { connection, seen: record(connection, clock) };
  };
  return { clock, network, accepted, listener, connect };
}

t.test('bytes arrive in order, only as the clock moves, after the network delay', async (t) => {
  const { clock, accepted, connect } = await twoNodes();
  const { connection, seen } = connect();
  connection.write([Buffer.from('he'), Buffer.from('llo')]);
  connection.write([Buffer.from(' world')]);
  t.same(accepted, [], 'nothing happens until the clock moves');
  clock.advance(1);
  t.equal(accepted.length, 1, 'the SYN arrives after 1 ms: accepted');
  t.same(seen.log, [], 'the client is not connected before the SYN-ACK is back');
  clock.advance(1);
  t.same(seen.log, ['connect@2']);
  t.equal(connection.bufferedBytes, 11, 'written before connect: queued');
  clock.advance(1);
  t.same(accepted[0]!.seen.log, ['data(hello)@3', 'data( world)@3'], 'one chunk per write, in order');
  t.equal(connection.bufferedBytes, 0);
  accepted[0]!.connection.write([Buffer.from('pong')]);
  clock.advance(1);
  t.same(seen.log, ['connect@2', 'data(pong)@4']);
  t.equal(accepted[0]!.connection.remoteAddress, 'client:32768', 'the server sees the client node and its ephemeral port');
  t.equal(connection.remoteAddress, 'server:9000');
});

t.test('a written buffer is copied: the writer may reuse it once written', async (t) => {
  const { clock, accepted, connect } = await twoNodes();
  const { connection } = connect();
  const buffer = Buffer.from('abc');
  let written = false;
  connection.write([buffer], () => { written = true; });
  buffer.write('xyz');
  clock.advance(3);
  t.ok(written);
  t.equal(accepted[0]!.seen.text(), 'abc');
});

t.test('nothing listening: the connect fails with ECONNREFUSED, and no connect event', async (t) => {
  const { clock, network } = await twoNodes();
  const connection = network.node('client').connect({ host: 'server', port: 9001 });
  const seen = record(connection, clock);
  clock.advance(10);
  t.same(seen.log, ['close(ECONNREFUSED)@2']);
  t.match(seen.error?.message, /ECONNREFUSED/);
  t.equal(network.openConnections, 0);
});

t.test('flow control: a receiver that does not read fills the sender\'s buffer; drain when it reads again', async (t) => {
  const { clock, accepted, connect } = await twoNodes({ highWaterMark: 10 });
  const { connection, seen } = connect();
  clock.advance(2);
  const server = accepted[0]!;
  server.connection.pause();
  const written: number[] = [];
  t.equal(connection.write([Buffer.from('12345')], () => written.push(1)), true, 'below the mark');
  t.equal(connection.write([Buffer.from('67890')], () => written.push(2)), false, 'at the mark: write says stop');
  connection.write([Buffer.from('!')], () => written.push(3));
  clock.advance(100);
  t.equal(connection.bufferedBytes, 11, 'a paused receiver takes nothing');
  t.same(written, [], 'nothing is written while the receiver does not read');
  t.same(server.seen.log, []);
  t.equal(seen.drains, 0);
  server.connection.resume();
  clock.advance(1);
  t.same(server.seen.log, ['data(12345)@103', 'data(67890)@103', 'data(!)@103']);
  t.same(written, [1, 2, 3], 'onWritten in write order, once delivered');
  t.equal(connection.bufferedBytes, 0);
  t.equal(seen.drains, 1, 'drain once the buffer emptied after a write said stop');
  connection.write([Buffer.from('x')]);
  clock.advance(2);
  t.equal(seen.drains, 1, 'no drain when no write said stop');
});

t.test('a receiver that pauses inside data stops the rest of the delivery', async (t) => {
  const { clock, network } = await twoNodes();
  let server!: TransportConnection;
  const got: string[] = [];
  await network.node('server').listen({ host: '0.0.0.0', port: 9100 }, (connection) => {
    server = connection;
    connection.attach({ data: (chunk) => { got.push(Buffer.from(chunk).toString()); connection.pause(); }, drain() {}, close() {} });
  });
  const client = network.node('client').connect({ host: 'server', port: 9100 });
  record(client, clock);
  client.write([Buffer.from('a')]);
  client.write([Buffer.from('b')]);
  clock.advance(10);
  t.same(got, ['a']);
  t.equal(client.bufferedBytes, 1);
  server.resume();
  clock.advance(1);
  t.same(got, ['a', 'b']);
});

t.test('destroy: closes this end now; the peer sees a clean close, or ECONNRESET if unsent data was dropped', async (t) => {
  const { clock, accepted, connect } = await twoNodes();
  const a = connect();
  clock.advance(2);
  a.connection.destroy();
  t.equal(a.connection.write([Buffer.from('late')]), false, 'a destroyed connection takes no writes');
  t.same(a.seen.log, ['connect@2'], 'close is an event, never inside destroy()');
  clock.advance(1);
  t.same(a.seen.log, ['connect@2', 'close()@2']);
  t.same(accepted[0]!.seen.log, ['close()@3'], 'nothing unsent: a clean close at the peer');

  const b = connect();
  clock.advance(2);
  accepted[1]!.connection.pause();
  b.connection.write([Buffer.from('unsent')]);
  clock.advance(5);
  b.connection.destroy();
  clock.advance(1);
  t.same(accepted[1]!.seen.log, ['close(ECONNRESET)@11'], 'unsent data dropped: the peer is reset, and never gets the data');
});

t.test('end: flushes, then both ends close cleanly; a peer that never reads gets a reset after the grace', async (t) => {
  const { clock, accepted, connect } = await twoNodes();
  const a = connect();
  clock.advance(2);
  a.connection.write([Buffer.from('last words')]);
  a.connection.end();
  clock.advance(10);
  t.equal(accepted[0]!.seen.text(), 'last words');
  t.same(accepted[0]!.seen.log.slice(-1), ['close()@4']);
  t.ok(a.seen.closed && a.seen.error === undefined);

  const b = connect();
  clock.advance(2);
  accepted[1]!.connection.pause();
  b.connection.write([Buffer.from('never read')]);
  b.connection.end();
  clock.advance(4_990);
  t.notOk(b.seen.closed, 'still trying to flush within the grace');
  clock.advance(20);
  t.equal(b.seen.closed, true, 'destroyed after 5 s');
  t.equal(accepted[1]!.seen.error?.code, 'ECONNRESET');
});

t.test('listen: a taken port, a foreign address, and port 0', async (t) => {
  const { network } = await twoNodes();
  const server = network.node('server');
  await t.rejects(server.listen({ host: 'server', port: 9000 }, () => {}), { code: 'EADDRINUSE' });
  await t.rejects(server.listen({ host: 'other', port: 9001 }, () => {}), { code: 'EADDRNOTAVAIL' });
  const any = await server.listen({ host: 'server', port: 0 }, () => {});
  t.ok(any.port >= 32_768, `an ephemeral port (${any.port})`);
  await any.close();
  await t.resolves(server.listen({ host: 'server', port: any.port }, () => {}), 'a closed listener frees its port');
});

t.test('a held partition: nothing arrives and nothing is lost; connects hang; all flows at heal', async (t) => {
  const { clock, network, accepted, connect } = await twoNodes();
  const a = connect();
  clock.advance(2);
  network.partition('client', 'server', 'hold');
  a.connection.write([Buffer.from('during')]);
  accepted[0]!.connection.write([Buffer.from('reply')]);
  const hanging = connect();
  clock.advance(60_000);
  t.same(accepted[0]!.seen.log, [], 'held');
  t.same(a.seen.log, ['connect@2']);
  t.same(hanging.seen.log, [], 'a connect across the partition neither succeeds nor fails');
  t.equal(accepted.length, 1);
  t.equal(a.connection.bufferedBytes, 6, 'the data waits in the sender\'s buffer');
  network.heal('server', 'client');
  clock.advance(5);
  t.equal(accepted[0]!.seen.text(), 'during');
  t.equal(a.seen.text(), 'reply');
  t.same(hanging.seen.log, ['connect@60004'], 'the held connect completes at heal');
  t.equal(accepted.length, 2);
});

t.test('a held connect given up by its caller is not accepted at heal', async (t) => {
  const { clock, network, accepted, connect } = await twoNodes();
  network.partition('client', 'server');
  const gaveUp = connect();
  clock.advance(1_000);
  gaveUp.connection.destroy();
  network.heal('client', 'server');
  clock.advance(10);
  t.equal(accepted.length, 0);
  t.equal(network.openConnections, 0);
});

t.test('a reset partition: connections between the two are reset, connects refused, until heal', async (t) => {
  const { clock, network, accepted, connect } = await twoNodes();
  const a = connect();
  const other = network.node('third').connect({ host: 'server', port: 9000 });
  const otherSeen = record(other, clock);
  clock.advance(2);
  network.partition('server', 'client', 'reset');
  clock.advance(2);
  t.equal(a.seen.error?.code, 'ECONNRESET');
  t.equal(accepted[0]!.seen.error?.code, 'ECONNRESET');
  t.notOk(otherSeen.closed, 'a third node is not affected');
  const refused = connect();
  clock.advance(2);
  t.equal(refused.seen.error?.code, 'ECONNREFUSED');
  network.heal('client', 'server');
  const again = connect();
  clock.advance(2);
  t.same(again.seen.log, ['connect@8']);
});

t.test('kill: the host\'s listeners vanish and its connections are reset at both ends', async (t) => {
  const { clock, network, accepted, connect } = await twoNodes();
  const a = connect();
  clock.advance(2);
  network.kill('server');
  clock.advance(2);
  t.equal(a.seen.error?.code, 'ECONNRESET', 'the client hears the reset');
  t.equal(accepted[0]!.seen.error?.code, 'ECONNRESET', 'the dead side\'s objects are told too');
  const refused = connect();
  clock.advance(2);
  t.equal(refused.seen.error?.code, 'ECONNREFUSED', 'nothing listens any more');
  await t.resolves(network.node('server').listen({ host: 'server', port: 9000 }, () => {}), 'a restarted process can listen on the same port');
  t.equal(network.openConnections, 0);
});

t.test('a seed replays exactly; delays stay within their bounds', async (t) => {
  const run = async (seed: number): Promise<string[]> => {
    const { clock, accepted, connect } = await twoNodes({ seed, minDelayMs: 1, maxDelayMs: 20 });
    const clients = [connect(), connect(), connect()];
    clock.advance(50);
    clients.forEach((c, i) => c.connection.write([Buffer.from(`c${i}`)]));
    const trace: string[] = [];
    for (let step = 0; step < 30; step++) {
      clock.advance(1);
      for (const [i, a] of accepted.entries()) for (const line of a.seen.log.splice(0)) trace.push(`${i}:${line}`);
    }
    return trace;
  };
  const first = await run(7);
  t.same(await run(7), first, 'the same seed, the same trace');
  t.equal(first.length, 3, 'every write arrived');
  const times = first.map((line) => Number(line.split('@')[1]));
  t.ok(times.every((at) => at >= 51 && at <= 70), `each within 1..20 ms of its write (${times.join(', ')})`);
  const traces = new Set<string>();
  for (const seed of [1, 2, 3, 4, 5]) traces.add(JSON.stringify(await run(seed)));
  t.ok(traces.size > 1, 'other seeds order the deliveries otherwise');
});
