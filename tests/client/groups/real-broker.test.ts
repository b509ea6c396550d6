/**
 * Consumer groups end to end on a real broker process (its coordinator):
 * three members on a six-partition topic under load, a fourth joining and
 * one leaving, every record processed at least once, and after a clean stop
 * nothing left to redeliver; a static member restarting gets its partitions
 * back without disturbing the others. Bounded waits throughout.
 */
import t from 'tap';
import { Runnel, type Consumer, type PartitionsEvent } from '../../../client/index.js';
import { startBrokerProcess, type BrokerProcess } from '../../support/broker-process.js';
import { newMemberReads, silent, until } from './support.js';

let broker: BrokerProcess;
let runnel: Runnel;

t.before(async () => {
  broker = await startBrokerProcess({ args: ['--set', 'group.consumer.heartbeat.interval.ms=200'] });
  runnel = new Runnel({ bootstrap: [broker.bootstrap], logger: silent, retry: { initialBackoffMs: 20, maxBackoffMs: 200 } });
});

t.teardown(async () => {
  await runnel?.close();
  await broker?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('3 members, a 4th joins and one leaves under load: every record processed, nothing redelivered after a clean stop', async (t) => {
  await runnel.admin().createTopic({ name: 'work', partitions: 6 });
  const producer = runnel.producer({ lingerMs: 2 });
  const processed = new Map<string, string[]>();
  /** [partition, offset] of each record the first time any member processed it, in processing order. */
  const firstTimes: [number, number][] = [];
  const members = new Map<string, { consumer: Consumer; running: Promise<void> }>();
  const join = (name: string): void => {
    const consumer = runnel.consumer({ groupId: 'g', maxWaitMs: 100, autoCommitIntervalMs: 500 });
    consumer.subscribe({ topics: ['work'], fromBeginning: true });
    const running = consumer.run({
      eachMessage: async (m) => {
        const id = m.value!.toString();
        if (!processed.has(id)) firstTimes.push([m.partition, m.offset]);
        processed.set(id, [...(processed.get(id) ?? []), name]);
        // A little work per record, so handovers happen with messages in hand.
        if (m.offset % 50 === 0) await sleep(5);
      },
    });
    members.set(name, { consumer, running });
  };
  for (const name of ['c1', 'c2', 'c3']) join(name);
  const sent: string[] = [];
  const total = 3000;
  for (let i = 0; i < total; i += 50) {
    const messages = Array.from({ length: 50 }, (_, k) => ({ key: `k${(i + k) % 97}`, value: `r${i + k}` }));
    await producer.send({ topic: 'work', messages });
    sent.push(...messages.map((m) => m.value));
    if (i === 1000) join('c4');
    if (i === 2000) await members.get('c2')!.consumer.close();
    await sleep(20);
  }
  await until('every record processed', () => sent.every((id) => processed.has(id)), 30_000);
  // Handovers go through commits: at most the message in hand when a member closed comes again (c2's, one per partition it had).
  const by = (name: string): number => [...processed.values()].filter((list) => list.includes(name)).length;
  t.ok(by('c4') > 0 && by('c1') > 0 && by('c3') > 0, `the newcomer took partitions over (c1 ${by('c1')}, c2 ${by('c2')}, c3 ${by('c3')}, c4 ${by('c4')})`);
  const repeated = [...processed].filter(([, list]) => list.length > 1);
  t.ok(repeated.length <= 6, `records processed twice: ${repeated.map(([id, list]) => `${id} by ${list.join('+')}`).join(', ') || 'none'}`);
  // Handovers start the new owner where the old one finished: each partition's records are first processed in offset order.
  for (let p = 0; p < 6; p++) {
    const offsets = firstTimes.filter(([partition]) => partition === p).map(([, offset]) => offset);
    t.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!), `work-${p}: first processed in offset order (${offsets.length} records)`);
  }
  for (const name of ['c1', 'c3', 'c4']) await members.get(name)!.consumer.close();
  await Promise.all([...members.values()].map((m) => m.running));

  // A new member of the group after a clean stop: everything was committed, so it has nothing to read.
  const late = await newMemberReads(runnel, 'g', 'work', 6);
  t.equal(late.records, 0, 'nothing redelivered after a clean stop');
  t.same(late.lag, [0, 0, 0, 0, 0, 0], 'lag 0 everywhere');
  const ends = await runnel.admin().listOffsets('work');
  t.equal(ends.reduce((n, e) => n + e.latest, 0), total, 'every record sent is in the topic');
});

t.test('a static member that restarts within the session gets its partitions back; the other member is not disturbed', async (t) => {
  await runnel.admin().createTopic({ name: 'static', partitions: 4 });
  const other = runnel.consumer({ groupId: 's', maxWaitMs: 100 });
  const otherEvents: string[] = [];
  const note = (kind: string) => (e: PartitionsEvent): void => void otherEvents.push(`${kind} ${e.partitions.map((p) => p.partition).join(',')}`);
  other.on('partitions-assigned', note('assigned')).on('partitions-revoked', note('revoked')).on('partitions-lost', note('lost'));
  other.subscribe({ topics: ['static'] });
  const otherRun = other.run({ eachMessage: () => undefined });
  const first = runnel.consumer({ groupId: 's', groupInstanceId: 'host-a', maxWaitMs: 100 });
  first.subscribe({ topics: ['static'] });
  const firstRun = first.run({ eachMessage: () => undefined });
  await until('two partitions each', () => first.assignment().length === 2 && other.assignment().length === 2, 20_000);
  const had = first.assignment().map((p) => p.partition).sort();
  const eventsBefore = otherEvents.length;
  await first.close();
  await firstRun;
  const again = runnel.consumer({ groupId: 's', groupInstanceId: 'host-a', maxWaitMs: 100 });
  again.subscribe({ topics: ['static'] });
  const againRun = again.run({ eachMessage: () => undefined });
  await until('the restarted member has partitions', () => again.assignment().length === 2, 20_000);
  t.same(again.assignment().map((p) => p.partition).sort(), had, 'the same partitions');
  await sleep(600);
  t.same(otherEvents.slice(eventsBefore), [], 'the other member was not touched');
  t.equal(other.assignment().length, 2);
  await Promise.all([again.close(), other.close()]);
  await Promise.all([againRun, otherRun]);
});

t.test('a pattern subscription in a group: matching topics, including one created later, are assigned', async (t) => {
  const admin = runnel.admin();
  await admin.createTopic({ name: 'pat-a', partitions: 2 });
  const member = runnel.consumer({ groupId: 'p', maxWaitMs: 100 });
  member.subscribe({ topics: [/pat-.*/], fromBeginning: true });
  const seen: string[] = [];
  const running = member.run({ eachMessage: (m) => void seen.push(`${m.topic}:${m.value!.toString()}`) });
  await until('pat-a assigned', () => member.assignment().length === 2, 20_000);
  await admin.createTopic({ name: 'pat-b', partitions: 1 });
  await admin.createTopic({ name: 'other-c', partitions: 1 });
  const producer = runnel.producer({ lingerMs: 0 });
  await producer.send({ topic: 'pat-b', messages: [{ value: 'x' }] });
  await producer.send({ topic: 'other-c', messages: [{ value: 'y' }] });
  await until('pat-b assigned and read', () => seen.includes('pat-b:x'), 20_000);
  t.same(member.assignment().map((p) => `${p.topic}-${p.partition}`).sort(), ['pat-a-0', 'pat-a-1', 'pat-b-0']);
  await member.close();
  await running;
});
