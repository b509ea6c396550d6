/**
 * Failure isolation against real processes: a controller and three brokers
 * on loopback, a topic with one partition on each broker (RF 1, so a stopped
 * broker's partition stays with it: the stop is shorter than a session and
 * nothing fails over).
 *
 * 1. SIGSTOP: one producer writes to all three partitions, one loop per
 *    partition; the loop of the stopped broker's partition pushes far more
 *    than its share of the buffer. While the broker is stopped, records for
 *    the two others keep being acknowledged, and the bytes held for the
 *    stopped one never pass maxBufferedBytesPerBroker (without the share its
 *    records would take the whole buffer and every send would wait). After
 *    SIGCONT everything is acknowledged: parked sends were delayed, not lost.
 * 2. SIGKILL: the dead broker refuses connections; its breaker opens, a
 *    probe goes after the cool-down and fails (reopens), and once the broker
 *    is back the next probe closes it and the sends waiting for it complete.
 *
 * Every process is resumed and killed in teardown; every wait is bounded.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runnel, type ClientEvents } from '../../../client/index.js';
import { startProcessCluster } from '../../support/process-cluster.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const TOPIC = 'isolation';
const KiB = 1024;
const SHARE = 128 * KiB;
const VALUE = 'v'.repeat(KiB);
const STOP_MS = 3000;
// No fencing during the stop (sessions outlast it, a dropped connection does not end one); the killed broker's
// session runs out before its restart can register again.
const FLAGS = ['--set', 'broker.session.timeout.ms=6000', '--set', 'broker.session.disconnect.timeout.ms=0', '--set', 'broker.heartbeat.interval.ms=300', '--set', 'logger.format=json'];

/** Resolves when `cond` holds, checked every 20 ms; rejects after `timeoutMs`. */
async function until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

t.test('one stopped or dead broker does not hold up the others; its breaker opens, probes and closes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-isolation-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cluster = await startProcessCluster(t, { dir, brokers: 3, flags: FLAGS });
  const { controller, ports, brokers } = cluster;
  t.teardown(async () => {
    for (const cli of [...brokers.values(), controller]) {
      if (cli.child.exitCode === null && cli.child.signalCode === null) {
        cli.child.kill('SIGCONT');
        cli.child.kill('SIGKILL');
      }
      await cli.exited;
    }
  });

  const runnel = new Runnel({
    bootstrap: [...ports.values()].map((port) => `127.0.0.1:${port}`), logger: silent, connectTimeoutMs: 1000,
    retry: { initialBackoffMs: 50, maxBackoffMs: 300 },
    resilience: { breaker: { failureThreshold: 3, openMs: 500, maxOpenMs: 2000 } },
  });
  t.teardown(() => runnel.close());
  await runnel.admin().createTopic({ name: TOPIC, partitions: 3, replicationFactor: 1 });
  const leaders = new Map((await runnel.admin().describeTopic(TOPIC)).partitions.map((p) => [p.partition, p.leader]));
  t.same(new Set(leaders.values()).size, 3, 'each partition on its own broker');
  const victimPartition = 0;
  const victim = leaders.get(victimPartition)!;
  const victimCli = (): ReturnType<typeof cluster.start> => brokers.get(victim)!;

  const producer = runnel.producer({
    lingerMs: 2, batchBytes: 16 * KiB, bufferMemoryBytes: 4 * SHARE, maxBufferedBytesPerBroker: SHARE,
    requestTimeoutMs: 3000, deliveryTimeoutMs: 60_000,
  });
  const events: { name: keyof ClientEvents; nodeId: number | null; atMs: number }[] = [];
  for (const name of ['breaker-open', 'breaker-half-open', 'breaker-closed', 'bulkhead-full'] as const) {
    producer.on(name, (e) => events.push({ name, nodeId: e.nodeId, atMs: performance.now() }));
  }
  const seen = (name: keyof ClientEvents, sinceMs = 0): number => events.filter((e) => e.name === name && e.nodeId === victim && e.atMs >= sinceMs).length;

  const acked = [0, 0, 0];
  const failures: string[] = [];
  let running = true;
  /** Sends one record at a time to `partition`, keeping `window` unacknowledged, until told to stop. */
  const loop = async (partition: number, window: number): Promise<void> => {
    const outstanding = new Set<Promise<void>>();
    while (running) {
      const sent: Promise<void> = producer.send({ topic: TOPIC, messages: [{ value: VALUE, partition }] }).then(
        () => void acked[partition]!++,
        (err: Error) => void failures.push(`${partition}: ${err.message}`),
      ).finally(() => outstanding.delete(sent));
      outstanding.add(sent);
      if (outstanding.size >= window) await Promise.race(outstanding);
      else if (outstanding.size % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(outstanding);
  };
  // The victim's loop keeps 8x its share unacknowledged: only the share stops it taking the whole buffer.
  const loops = [0, 1, 2].map((p) => loop(p, p === victimPartition ? (8 * SHARE) / KiB : 32));
  const healthy = (): number => acked.reduce((sum, n, p) => sum + (p === victimPartition ? 0 : n), 0);
  const held = (): number => producer.brokerStats().find((s) => s.nodeId === victim)?.bufferedBytes ?? 0;

  await until('records acknowledged on every partition', () => acked.every((n) => n >= 50));

  // 1. SIGSTOP.
  victimCli().child.kill('SIGSTOP');
  const stoppedAtMs = performance.now();
  let maxHeld = 0;
  const healthyAt: number[] = [];
  while (performance.now() - stoppedAtMs < STOP_MS) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    maxHeld = Math.max(maxHeld, held());
    healthyAt.push(healthy());
  }
  const victimAckedWhileStopped = acked[victimPartition]!;
  victimCli().child.kill('SIGCONT');
  const third = Math.floor(healthyAt.length / 3);
  t.ok(healthyAt.at(-1)! - healthyAt[2 * third]! > 20, `the other brokers kept acknowledging in the last third of the stop (${healthyAt[2 * third]} -> ${healthyAt.at(-1)})`);
  t.ok(maxHeld >= SHARE / 2, `the stopped broker's share filled up (${maxHeld} bytes held at most)`);
  t.ok(maxHeld <= SHARE + 2 * KiB, `and never held more than its share of ${SHARE} bytes (held ${maxHeld})`);
  // Its loop may have filled the share before the stop too (announced once per filling).
  t.ok(seen('bulkhead-full') >= 1, 'bulkhead-full was announced for it');
  t.comment(`while stopped: victim share at most ${maxHeld} B; healthy acks ${healthyAt[0]} -> ${healthyAt.at(-1)}; breaker opened ${seen('breaker-open', stoppedAtMs)} time(s)`);
  await until('the stopped broker acknowledges again after SIGCONT', () => acked[victimPartition]! > victimAckedWhileStopped + 50);

  // 2. SIGKILL, and back.
  const killedAtMs = performance.now();
  victimCli().child.kill('SIGKILL');
  await victimCli().exited;
  await until('its breaker opens', () => seen('breaker-open', killedAtMs) >= 1);
  await until('a probe after the cool-down', () => seen('breaker-half-open', killedAtMs) >= 1);
  await until('the probe fails and the breaker reopens', () => seen('breaker-open', killedAtMs) >= 2);
  const stats = producer.brokerStats().find((s) => s.nodeId === victim)!;
  t.ok(stats.breakerRejected > 0, `requests to the dead broker failed fast (${stats.breakerRejected})`);
  t.not(stats.breaker, 'closed', `its breaker is ${stats.breaker} while the broker is dead`);
  const healthyBeforeRestart = healthy();
  await until('the others keep acknowledging while it is dead', () => healthy() > healthyBeforeRestart + 50);
  const restartedAtMs = performance.now();
  const restarted = cluster.start(victim);
  await restarted.printed(/"event":"listening"/);
  await until('the breaker closes once the broker is back', () => events.some((e) => e.name === 'breaker-closed' && e.nodeId === victim && e.atMs >= restartedAtMs));
  t.equal(producer.brokerStats().find((s) => s.nodeId === victim)!.breaker, 'closed');
  const victimBefore = acked[victimPartition]!;
  await until('its partition is acknowledged again', () => acked[victimPartition]! > victimBefore + 50);

  running = false;
  await Promise.all(loops);
  t.same(failures, [], 'no send failed: parked and retried sends were delayed, not lost');
  await producer.close();
});
