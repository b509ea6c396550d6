import t from 'tap';
import { SerialQueue } from '../../broker/serial-queue.js';

t.test('tasks run one at a time in queue order; a failure fails only its caller', async (t) => {
  const queue = new SerialQueue();
  const log: string[] = [];
  let running = 0;
  const task = (name: string, fail = false) => async (): Promise<string> => {
    running++;
    t.equal(running, 1, `${name} runs alone`);
    log.push(`start ${name}`);
    await new Promise((resolve) => setImmediate(resolve));
    log.push(`end ${name}`);
    running--;
    if (fail) throw new Error(`${name} failed`);
    return name;
  };
  const a = queue.run(task('a'));
  const b = queue.run(task('b', true));
  const c = queue.run(task('c'));
  t.equal(await a, 'a');
  await t.rejects(b, /b failed/);
  t.equal(await c, 'c', 'the task after a failed one still runs');
  await queue.idle();
  t.same(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
});

t.test('idle() waits for every task queued so far and never rejects', async (t) => {
  const queue = new SerialQueue();
  let done = false;
  void queue.run(async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    done = true;
  });
  void queue.run(() => Promise.reject(new Error('refused'))).catch(() => undefined);
  await queue.idle();
  t.ok(done);
});
