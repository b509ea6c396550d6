/**
 * The simulation's kill and pause switch for one node (broker/world/node-switch.ts),
 * and the ManualClock's one-timer-at-a-time stepping it relies on: a killed
 * node's timers never fire, its connection events are dropped, its disk calls
 * never settle (or throw, if synchronous) and touch nothing; a paused node's
 * timers and deliveries wait and then run in their order at resume.
 */
import t from 'tap';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { MemoryNetwork } from '../../broker/world/memory-transport.js';
import { NodeSwitch } from '../../broker/world/node-switch.js';
import { seededRng } from '../../broker/world/rng.js';

function world(): { clock: ManualClock; network: MemoryNetwork; disk: SimulatedFileSystem } {
  const clock = new ManualClock(0);
  return { clock, network: new MemoryNetwork({ clock, rng: seededRng(1), minDelayMs: 1, maxDelayMs: 1 }), disk: new SimulatedFileSystem() };
}

t.test('ManualClock fires one timer at a time in (due time, creation) order, skipping cancelled ones', async (t) => {
  const clock = new ManualClock(0);
  const fired: string[] = [];
  clock.schedule(5, () => fired.push('b5'));
  clock.schedule(1, () => fired.push('a1'));
  const cancelled = clock.schedule(3, () => fired.push('cancelled'));
  clock.schedule(5, () => fired.push('c5'));
  cancelled.cancel();
  t.equal(clock.nextDueMs(), 1);
  t.ok(clock.fireNext());
  t.same(fired, ['a1']);
  t.equal(clock.nextDueMs(), 5, 'the cancelled timer is skipped');
  while (clock.fireNext());
  t.same(fired, ['a1', 'b5', 'c5'], 'same due time: creation order');
  t.equal(clock.nowMs(), 5);
  t.equal(clock.nextDueMs(), undefined);
  clock.advance(10);
  t.equal(clock.nowMs(), 15);
});

t.test('a killed node: timers never fire, disk calls never settle or throw, nothing reaches the disk', async (t) => {
  const { clock, network, disk } = world();
  const node = new NodeSwitch({ clock, fs: disk, transport: network.node('n1') });
  const fired: number[] = [];
  node.clock.schedule(10, () => fired.push(10));
  await node.fs.mkdirp('/data');
  const handle = node.fs.open('/data/f', 'w+');
  handle.write(Buffer.from('abc'), 0);
  node.kill();
  node.clock.schedule(1, () => fired.push(1));
  clock.advance(100);
  t.same(fired, [], 'no timer of the dead node fired');
  let settled = false;
  void node.fs.stat('/data/f').then(() => (settled = true), () => (settled = true));
  void handle.datasync().then(() => (settled = true), () => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  t.notOk(settled, 'its asynchronous disk calls never settle');
  t.throws(() => node.fs.open('/data/g', 'w+'), /process is dead/, 'synchronous ones throw');
  t.throws(() => handle.write(Buffer.from('xyz'), 3), /process is dead/);
  t.equal(disk.list('/data')?.join(','), 'f', 'nothing it tried reached the disk');
  t.equal(Buffer.from(disk.peek('/data/f')!).toString(), 'abc');
});

t.test('a killed node hears nothing of its connections; a paused one hears it all at resume, in order', async (t) => {
  const { clock, network, disk } = world();
  const server = new NodeSwitch({ clock, fs: disk, transport: network.node('server') });
  const heard: string[] = [];
  await server.transport.listen({ host: 'server', port: 1 }, (connection) => {
    connection.attach({ data: (chunk) => heard.push(Buffer.from(chunk).toString()), drain: () => undefined, close: () => heard.push('close') });
    connection.resume();
  });
  const client = network.node('client').connect({ host: 'server', port: 1 });
  client.attach({ connect: () => undefined, data: () => undefined, drain: () => undefined, close: () => undefined });
  clock.advance(5);
  const ticks: string[] = [];
  server.clock.schedule(3, () => ticks.push('timer'));
  server.pause();
  client.write([Buffer.from('one')]);
  clock.advance(2);
  client.write([Buffer.from('two')]);
  clock.advance(5);
  t.same(heard, [], 'paused: nothing delivered');
  t.same(ticks, [], 'paused: its timer waits');
  server.resume();
  t.same(heard, ['one', 'two'], 'resumed: the deliveries in order');
  t.same(ticks, ['timer']);
  server.kill();
  network.kill('server');
  client.write([Buffer.from('three')]);
  clock.advance(10);
  t.same(heard, ['one', 'two'], 'dead: neither data nor the reset reaches it');
});
