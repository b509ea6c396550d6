/**
 * ACLs end to end on a real broker process: SASL_PLAINTEXT, authorizer.enabled,
 * a super user `admin` written into the data directory before start
 * (`runnel users create admin --data`) and `alice`, made by admin over the
 * network. Each check would fail if its enforcement were missing:
 * - alice, with no ACL, is refused producing, fetching, creating a topic and
 *   describing a group, each with its own error naming the resource;
 * - a grant lets her through; a deny on top of the grant wins (with
 *   IDEMPOTENT_WRITE on the cluster, so the refusal is Produce's own);
 * - a prefixed grant and a `*` grant cover the names they should, no others;
 * - a listing of every topic leaves out what she may not describe;
 * - the bindings survive a broker restart, and still decide;
 * - `runnel acl add|list|remove` round-trips through the CLI.
 */
import t from 'tap';
import { Runnel, RunnelError, type AclBinding } from '../../client/index.js';
import { freshDataDir, startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { runCliProcess } from '../support/cli-process.js';

const ADMIN_PASSWORD = 'admin-secret-password';
const ALICE_PASSWORD = 'alice-secret-password';
let broker: BrokerProcess;
let dataDir: string;
const clients: Runnel[] = [];

async function start(): Promise<BrokerProcess> {
  return startBrokerProcess({
    dataDir,
    args: ['--set', 'listeners=SASL_PLAINTEXT://127.0.0.1:0', '--set', 'authorizer.enabled=true', '--set', 'super.users=User:admin', '--set', 'auto.create.topics=false'],
  });
}

function as(username: string, password: string): Runnel {
  const runnel = new Runnel({ bootstrap: [broker.bootstrap], clientId: `acl-${username}`, connectTimeoutMs: 5000, requestTimeoutMs: 10_000, retry: { retries: 2, initialBackoffMs: 50, maxBackoffMs: 200 }, sasl: { mechanism: 'scram-sha-256', username, password } });
  clients.push(runnel);
  return runnel;
}
const admin = (): Runnel => as('admin', ADMIN_PASSWORD);
const alice = (): Runnel => as('alice', ALICE_PASSWORD);

async function refusal(what: Promise<unknown>): Promise<RunnelError> {
  const error = await what.then(() => null, (e: unknown) => e);
  if (!(error instanceof RunnelError)) throw new Error(`expected a RunnelError, got ${String(error)}`);
  return error;
}

async function produce(runnel: Runnel, topic: string): Promise<void> {
  const producer = runnel.producer({ lingerMs: 1, deliveryTimeoutMs: 12_000 });
  try {
    await producer.send({ topic, messages: [{ value: 'v' }] });
  } finally {
    await producer.close();
  }
}

/** Reads the first record of partition 0 (bounded), or throws what the fetch answered. */
async function fetchOne(runnel: Runnel, topic: string): Promise<string | undefined> {
  const consumer = runnel.consumer({ maxWaitMs: 100 });
  consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
  const timer = setTimeout(() => void consumer.close(), 10_000);
  try {
    for await (const m of consumer) return m.value?.toString();
    return undefined;
  } finally {
    clearTimeout(timer);
    await consumer.close();
  }
}

const allow = (resourceType: AclBinding['resourceType'], resourceName: string, operation: AclBinding['operation'], extra: Partial<AclBinding> = {}): AclBinding => ({ resourceType, resourceName, operation, principal: 'User:alice', permission: 'allow', ...extra });

t.before(async () => {
  dataDir = freshDataDir();
  const made = await runCliProcess(['users', 'create', 'admin', '--data', dataDir, '--password-stdin', '--mechanism', 'SCRAM-SHA-256'], { input: `${ADMIN_PASSWORD}\n` });
  if (made.code !== 0) throw new Error(`users create --data failed: ${made.stderr}`);
  broker = await start();
  const a = admin().admin();
  await a.upsertScramUser('alice', ALICE_PASSWORD, { mechanisms: ['SCRAM-SHA-256'] });
  for (const name of ['orders', 'pay.eu', 'pay.us', 'secret']) await a.createTopic({ name, partitions: 1 });
  await produce(admin(), 'orders');
  await produce(admin(), 'pay.eu');
});

t.teardown(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await broker?.stop();
});

t.test('without ACLs alice is refused, each refusal naming its resource; the super user is not', async (t) => {
  const listed = await alice().admin().listTopics();
  t.same(listed, [], 'a listing of every topic hides those she may not describe');
  const produced = await refusal(produce(alice(), 'orders'));
  t.equal(produced.errorName, 'TOPIC_AUTHORIZATION_FAILED');
  t.match(produced.message, /orders/);
  const created = await refusal(alice().admin().createTopic({ name: 'mine', partitions: 1 }));
  t.equal(created.errorName, 'TOPIC_AUTHORIZATION_FAILED');
  t.match(created.message, /create topic "mine"/);
  const group = await refusal(alice().admin().describeGroups(['team']));
  t.equal(group.errorName, 'GROUP_AUTHORIZATION_FAILED');
  const cluster = await refusal(alice().admin().describeAcls());
  t.equal(cluster.errorName, 'CLUSTER_AUTHORIZATION_FAILED');
  t.equal((await admin().admin().listTopics()).length, 4, 'the super user sees every topic');
  // Allowed to see the topic but not to write anything: her idempotent producer cannot get a producer id.
  await admin().admin().createAcls([allow('topic', 'orders', 'describe')]);
  const startedMs = Date.now();
  const noId = await refusal(produce(alice(), 'orders'));
  t.equal(noId.errorName, 'CLUSTER_AUTHORIZATION_FAILED', 'without IDEMPOTENT_WRITE (or WRITE on some topic) InitProducerId is refused');
  t.ok(Date.now() - startedMs < 8000, `the send fails when the id is refused, not at its 12 s delivery timeout (${Date.now() - startedMs} ms)`);
});

t.test('granted, she may; a deny on top of the grant wins', async (t) => {
  const a = admin().admin();
  // IDEMPOTENT_WRITE on the cluster: the producer's InitProducerId, so only Produce's own check stands between her and the topic.
  await a.createAcls([allow('topic', 'orders', 'write'), allow('topic', 'orders', 'read'), allow('cluster', 'runnel-cluster', 'idempotent_write')]);
  await produce(alice(), 'orders');
  t.equal(await fetchOne(alice(), 'orders'), 'v', 'read allowed: the fetch answers');
  t.same(await alice().admin().listTopics(), ['orders'], 'read/write imply describe: the topic is listed');
  await a.createAcls([allow('topic', 'orders', 'write', { permission: 'deny' })]);
  const denied = await refusal(produce(alice(), 'orders'));
  t.equal(denied.errorName, 'TOPIC_AUTHORIZATION_FAILED', 'deny wins over the allow');
  t.equal(await fetchOne(alice(), 'orders'), 'v', 'the deny of write leaves read alone');
  const fetchDenied = await refusal(fetchOne(alice(), 'secret'));
  t.equal(fetchDenied.errorName, 'TOPIC_AUTHORIZATION_FAILED', 'a topic she has nothing on');
});

t.test('a prefixed grant covers its prefix only; User:* on * covers everyone', async (t) => {
  const a = admin().admin();
  await a.createAcls([allow('topic', 'pay.', 'read', { patternType: 'prefixed' })]);
  t.equal(await fetchOne(alice(), 'pay.eu'), 'v', 'pay.eu starts with pay.');
  t.equal((await refusal(fetchOne(alice(), 'secret'))).errorName, 'TOPIC_AUTHORIZATION_FAILED', 'secret does not');
  t.same(await alice().admin().listTopics(), ['orders', 'pay.eu', 'pay.us']);
  await a.createAcls([{ resourceType: 'topic', resourceName: '*', operation: 'describe', principal: 'User:*', permission: 'allow' }]);
  t.same(await alice().admin().listTopics(), ['orders', 'pay.eu', 'pay.us', 'secret'], 'describe on every topic for everyone');
  t.equal((await refusal(fetchOne(alice(), 'secret'))).errorName, 'TOPIC_AUTHORIZATION_FAILED', 'describe is not read');
  const described = await a.describeAcls({ resourceType: 'topic', resourceName: 'pay.us', patternType: 'match' });
  t.same(described.map((b) => `${b.patternType}:${b.resourceName}:${b.operation}`).sort(), ['literal:*:describe', 'prefixed:pay.:read'], 'match: every binding that applies to pay.us');
});

t.test('the bindings survive a restart and still decide', async (t) => {
  const before = await admin().admin().describeAcls();
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  t.equal(await broker.stop(), 0);
  broker = await start();
  const after = await admin().admin().describeAcls();
  t.same(after, before, 'the same bindings after the restart');
  t.equal(await fetchOne(alice(), 'pay.eu'), 'v', 'the prefixed grant still lets her read');
  t.equal((await refusal(produce(alice(), 'orders'))).errorName, 'TOPIC_AUTHORIZATION_FAILED', 'the deny still wins');
});

t.test('runnel acl add, list and remove round-trip', async (t) => {
  const env = { RUNNEL_PASSWORD: ADMIN_PASSWORD };
  const login = ['--bootstrap', broker.bootstrap, '--username', 'admin', '--sasl-mechanism', 'SCRAM-SHA-256'];
  const added = await runCliProcess(['acl', 'add', '--allow', '--principal', 'User:bob', '--operation', 'read,describe', '--group', 'team-', '--prefixed', ...login], { env });
  t.equal(added.code, 0, added.stderr);
  t.match(added.stdout, /added 2 ACL binding/);
  const listed = await runCliProcess(['acl', 'list', '--principal', 'User:bob', '--json', ...login], { env });
  t.equal(listed.code, 0, listed.stderr);
  t.same((JSON.parse(listed.stdout) as AclBinding[]).map((b) => `${b.permission} ${b.operation} ${b.resourceType} ${b.patternType} ${b.resourceName}`).sort(), ['allow describe group prefixed team-', 'allow read group prefixed team-']);
  const removed = await runCliProcess(['acl', 'remove', '--principal', 'User:bob', '--operation', 'read', ...login], { env });
  t.equal(removed.code, 0, removed.stderr);
  t.match(removed.stdout, /removed 1 ACL binding/);
  t.match(removed.stdout, /team-/);
  const left = await admin().admin().describeAcls({ principal: 'User:bob' });
  t.same(left.map((b) => b.operation), ['describe'], 'only the read binding went');
  const bad = await runCliProcess(['acl', 'add', '--allow', '--principal', 'User:bob', '--operation', 'fly', '--cluster', ...login], { env });
  t.equal(bad.code, 2, 'an unknown operation is a usage error');
  t.match(bad.stderr, /unknown operation "fly"/);
});

/** The error a queue's first receive ends with (its join refused), or null when it joined. */
async function joinRefusal(runnel: Runnel, deadLetterTopic: string): Promise<RunnelError | null> {
  const queue = runnel.queue({ topic: 'pay.eu', group: `dlq-${deadLetterTopic}`, deadLetterTopic });
  try {
    await queue.receive({ max: 1, waitMs: 100 });
    return null;
  } catch (error) {
    if (!(error instanceof RunnelError)) throw error;
    return error;
  } finally {
    await queue.close();
  }
}

t.test('a share group copies into its dead-letter topic on its members\' behalf: naming one needs WRITE on it, and CREATE to have it made', async (t) => {
  const a = admin().admin();
  await a.createAcls([allow('group', 'dlq-', 'read', { patternType: 'prefixed' })]);
  const toSecret = await joinRefusal(alice(), 'secret');
  t.equal(toSecret?.errorName, 'TOPIC_AUTHORIZATION_FAILED', 'READ on pay.eu is no way to write into secret');
  t.match(toSecret?.message, /dead-letter topic needs WRITE on it.*write topic "secret"/);

  await a.createAcls([allow('topic', 'pay.dlq', 'write')]);
  const notCreatable = await joinRefusal(alice(), 'pay.dlq');
  t.equal(notCreatable?.errorName, 'TOPIC_AUTHORIZATION_FAILED', 'a dead-letter topic to be made needs CREATE');
  t.match(notCreatable?.message, /does not exist, and creating it needs CREATE.*create topic "pay.dlq"/);
  t.notOk((await a.listTopics()).includes('pay.dlq'), 'and it was not made');

  await a.createAcls([allow('topic', 'pay.dlq', 'create')]);
  t.equal(await joinRefusal(alice(), 'pay.dlq'), null, 'with WRITE and CREATE she creates the group, and the topic is made');
  t.ok((await a.listTopics()).includes('pay.dlq'));
});
