/**
 * /health as a load balancer sees it, on a broker of a real cluster (a
 * controller process and one broker process): 200 once registered and
 * unfenced; 503 "fenced" once its controller stops answering (SIGSTOP) for
 * the session timeout; 200 again when the controller is back; and 503
 * "shutting down" from the start of a clean shutdown (SIGTERM), while the
 * controlled shutdown still waits for the stopped controller.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAST_CLUSTER, startProcessCluster } from '../../support/process-cluster.js';
import { unusedPort } from '../../support/unused-port.js';
import { getText } from './scrape.js';

interface Health {
  status: number;
  reasons: string[];
}

t.test('/health: 200 serving, 503 fenced, 200 again, 503 shutting down', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-health-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const metricsPort = await unusedPort();
  // The controller process ignores metrics.listen; the one broker serves it.
  const cluster = await startProcessCluster(t, { dir, brokers: 1, flags: [...FAST_CLUSTER, '--set', `metrics.listen=127.0.0.1:${metricsPort}`, '--set', 'controlled.shutdown.timeout.ms=4000'] });
  const controller = cluster.controller.child;
  t.teardown(() => void controller.kill('SIGCONT'));
  const health = async (): Promise<Health> => {
    const answer = await getText(`http://127.0.0.1:${metricsPort}/health`, 5000);
    return { status: answer.status, reasons: (JSON.parse(answer.body) as { reasons: string[] }).reasons };
  };
  /** Polls /health (every 100 ms, at most `withinMs`) until `until` holds; returns the last answer. */
  const poll = async (until: (h: Health) => boolean, withinMs: number): Promise<Health> => {
    const deadline = Date.now() + withinMs;
    let last = await health();
    while (!until(last) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      last = await health();
    }
    return last;
  };

  const serving = await poll((h) => h.status === 200, 10_000);
  t.equal(serving.status, 200, `serving once unfenced (${serving.reasons.join('; ')})`);

  controller.kill('SIGSTOP');
  const fenced = await poll((h) => h.status === 503, 10_000);
  t.equal(fenced.status, 503, 'unavailable while the controller does not answer');
  t.match(fenced.reasons.join('; '), /fenced/, `the reason says fenced (${fenced.reasons.join('; ')})`);

  controller.kill('SIGCONT');
  const back = await poll((h) => h.status === 200, 15_000);
  t.equal(back.status, 200, `serving again once the controller answers (${back.reasons.join('; ')})`);

  // The controlled shutdown waits for a controller that does not answer: the window in which /health must say 503.
  controller.kill('SIGSTOP');
  const broker = cluster.brokers.get(1)!;
  broker.child.kill('SIGTERM');
  const stopping = await poll((h) => h.reasons.includes('shutting down'), 5_000);
  t.equal(stopping.status, 503, 'unavailable from the start of the shutdown');
  t.ok(stopping.reasons.includes('shutting down'), `the reason says so (${stopping.reasons.join('; ')})`);
  controller.kill('SIGCONT');
  const exit = await broker.exited;
  t.equal(exit.code, 0, 'the broker then stops cleanly');
  await t.rejects(health(), 'the metrics listener is closed with the broker');
});
