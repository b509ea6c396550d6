/**
 * A real broker process with four listeners (PLAINTEXT, SSL with client
 * certificates requested, SASL_SSL, SASL_PLAINTEXT), its first
 * administrator written into its data directory before it starts
 * (`runnel users create admin --data`), and certificates made at run time
 * (tests/support/tls-certs.ts, openssl). Checked end to end through the SDK,
 * the CLI and raw frames:
 * - TLS + SCRAM with the SDK: produce and consume, and Metadata answers with
 *   the port of the listener the client came in through;
 * - a wrong password fails fast with SASL_AUTHENTICATION_FAILED (not
 *   retried), and an unknown user fails the same way;
 * - before authentication only ApiVersions and the SASL APIs pass: anything
 *   else closes the connection with a log line saying why;
 * - mutual TLS: a verified client certificate is User:<CN>, an untrusted one
 *   is User:ANONYMOUS (the broker log's principal field);
 * - a client that does not trust the broker's CA is refused;
 * - the CLI creates a user over SASL_SSL, who then logs in.
 */
import t from 'tap';
import { Runnel, RunnelError, type Message } from '../../client/index.js';
import { ScramClient } from '../../client/security/scram-client.js';
import { freshDataDir, startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { runCliProcess } from '../support/cli-process.js';
import { RawClient } from '../support/raw-client.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';

let pki: TestPki;
let broker: BrokerProcess;
const ADMIN_PASSWORD = 'correct horse battery staple';
const clients: Runnel[] = [];

function client(port: number, extra: Partial<ConstructorParameters<typeof Runnel>[0]> = {}): Runnel {
  const runnel = new Runnel({ bootstrap: [`127.0.0.1:${port}`], clientId: 'security-test', connectTimeoutMs: 5000, retry: { retries: 2, initialBackoffMs: 50, maxBackoffMs: 200 }, ...extra });
  clients.push(runnel);
  return runnel;
}

function port(name: string): number {
  const found = broker.listeners.get(name);
  if (found === undefined) throw new Error(`no listener ${name}: ${[...broker.listeners.keys()].join(', ')}`);
  return found;
}

/** Log lines of the broker (JSON) that match. */
function logLines(match: (line: Record<string, unknown>) => boolean): Record<string, unknown>[] {
  return broker.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter(match);
}

/** Resolves once the broker closed `raw`; fails the test past a bound instead of hanging. */
async function closedByBroker(raw: RawClient, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([raw.closed.then(() => true), new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), 10_000); })]);
  clearTimeout(timer);
  raw.close();
  if (!closed) throw new Error(`the broker did not close the connection after ${what} within 10 s`);
}

async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

t.before(async () => {
  pki = makeTestPki();
  const dataDir = freshDataDir();
  const made = await runCliProcess(['users', 'create', 'admin', '--data', dataDir, '--password-stdin', '--mechanism', 'SCRAM-SHA-256', '--mechanism', 'SCRAM-SHA-512'], { input: `${ADMIN_PASSWORD}\n` });
  if (made.code !== 0) throw new Error(`users create --data failed: ${made.stderr}`);
  broker = await startBrokerProcess({
    dataDir,
    args: [
      '--set', 'listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      '--set', `tls.cert.file=${pki.serverCertFile}`, '--set', `tls.key.file=${pki.serverKeyFile}`, '--set', `tls.ca.file=${pki.caFile}`,
      '--set', 'tls.client.auth=requested', '--set', 'logger.format=json', '--set', 'logger.level=debug',
    ],
  });
});

t.teardown(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await broker?.stop();
});

t.test('TLS + SCRAM with the SDK: produce, consume, and Metadata on the SASL_SSL port', async (t) => {
  for (const mechanism of ['scram-sha-256', 'scram-sha-512'] as const) {
    const runnel = client(port('SASL_SSL'), { tls: { ca: pki.ca }, sasl: { mechanism, username: 'admin', password: ADMIN_PASSWORD } });
    const cluster = await runnel.admin().describeCluster();
    t.same(cluster.brokers.map((b) => b.port), [port('SASL_SSL')], `${mechanism}: the broker is advertised at the listener the client came through`);
  }
  const runnel = client(port('SASL_SSL'), { tls: { ca: pki.ca }, sasl: { mechanism: 'scram-sha-512', username: 'admin', password: ADMIN_PASSWORD } });
  await runnel.admin().createTopic({ name: 'secure', partitions: 1 });
  const producer = runnel.producer({ lingerMs: 1 });
  await producer.send({ topic: 'secure', messages: [{ value: 'one' }, { value: 'two' }] });
  await producer.close();
  const consumer = runnel.consumer({ maxWaitMs: 100 });
  consumer.assign([{ topic: 'secure', partition: 0, offset: 'earliest' }]);
  const got: Message[] = [];
  const timer = setTimeout(() => void consumer.close(), 15_000);
  for await (const m of consumer) {
    got.push(m);
    if (got.length === 2) break;
  }
  clearTimeout(timer);
  await consumer.close();
  t.same(got.map((m) => m.value?.toString()), ['one', 'two'], 'what was produced over SASL_SSL comes back');
  const plain = await client(port('PLAINTEXT')).admin().describeCluster();
  t.same(plain.brokers.map((b) => b.port), [port('PLAINTEXT')], 'a PLAINTEXT client is told the PLAINTEXT port');
  t.ok(logLines((l) => l['principal'] === 'User:admin' && l['listener'] === 'SASL_SSL' && l['event'] === 'authenticated').length > 0, 'the connection logger names the authenticated principal');
});

t.test('a wrong password or an unknown user fails with SASL_AUTHENTICATION_FAILED, not retried', async (t) => {
  for (const [username, password] of [['admin', 'wrong'], ['nobody', ADMIN_PASSWORD]] as const) {
    const started = Date.now();
    const error = await client(port('SASL_PLAINTEXT'), { sasl: { mechanism: 'scram-sha-256', username, password } }).admin().describeCluster().catch((e: unknown) => e);
    t.type(error, RunnelError);
    t.equal((error as RunnelError).errorName, 'SASL_AUTHENTICATION_FAILED', `${username}: the error says authentication failed`);
    t.equal((error as RunnelError).retriable, false);
    t.match((error as RunnelError).message, /invalid credentials/);
    t.ok(Date.now() - started < 4000, `${username}: failed at once, not after retries (${Date.now() - started} ms)`);
  }
  // The broker writes the line as it closes the connection, about when the client hears: waited for, bounded.
  await eventually(() => logLines((l) => typeof l['reason'] === 'string' && /SASL authentication failed \(SCRAM-SHA-256\): unknown user nobody/.test(l['reason'] as string)).length > 0, 'the broker log says why (an unknown user), the client is not told');
});

t.test('before authentication only ApiVersions and the SASL APIs pass; anything else closes the connection', async (t) => {
  const raw = await RawClient.connect('127.0.0.1', port('SASL_PLAINTEXT'));
  const versions = await raw.request('ApiVersions', { clientSoftwareName: 't', clientSoftwareVersion: '0' });
  t.equal(versions.errorCode, 0, 'ApiVersions is answered before authentication');
  await t.rejects(raw.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false }), /closed/, 'Metadata before authentication closes the connection');
  await closedByBroker(raw, 'Metadata before authentication');
  await eventually(() => logLines((l) => /Metadata before SASL authentication on listener SASL_PLAINTEXT/.test(String(l['reason']))).length > 0, 'the log line');

  const handshake = await RawClient.connect('127.0.0.1', port('SASL_PLAINTEXT'));
  const refused = await handshake.request('SaslHandshake', { mechanism: 'PLAIN' });
  t.equal(refused.errorCode, 33, 'an unknown mechanism is UNSUPPORTED_SASL_MECHANISM');
  t.same(refused.mechanisms, ['SCRAM-SHA-256', 'SCRAM-SHA-512'], 'with the mechanisms enabled');
  await closedByBroker(handshake, 'an unknown mechanism');
  t.pass('and the connection is closed after the answer');

  const early = await RawClient.connect('127.0.0.1', port('SASL_PLAINTEXT'));
  const out = await early.request('SaslAuthenticate', { authBytes: Buffer.from('n,,n=admin,r=abc') });
  t.equal(out.errorCode, 34, 'SaslAuthenticate before SaslHandshake is ILLEGAL_SASL_STATE');
  await closedByBroker(early, 'SaslAuthenticate before SaslHandshake');

  // A complete exchange by hand, then a proof for the wrong password: the answer carries the error, then the connection closes.
  const manual = await RawClient.connect('127.0.0.1', port('SASL_PLAINTEXT'));
  t.equal((await manual.request('SaslHandshake', { mechanism: 'SCRAM-SHA-256' })).errorCode, 0);
  const scram = new ScramClient('SCRAM-SHA-256', 'admin', 'not the password', 'rawnonce');
  const first = await manual.request('SaslAuthenticate', { authBytes: Buffer.from(scram.firstMessage()) });
  t.equal(first.errorCode, 0, 'client-first is answered with server-first');
  const final = await manual.request('SaslAuthenticate', { authBytes: Buffer.from(scram.finalMessage(Buffer.from(first.authBytes).toString())) });
  t.equal(final.errorCode, 58, 'a wrong proof is SASL_AUTHENTICATION_FAILED');
  await closedByBroker(manual, 'a wrong proof');
  t.pass('and the connection is closed');
});

t.test('mutual TLS on the SSL listener: a verified certificate is User:<CN>; an untrusted one is anonymous; a client that distrusts the broker is refused', async (t) => {
  const alice = pki.client('alice');
  await client(port('SSL'), { tls: { ca: pki.ca, cert: alice.cert, key: alice.key } }).admin().describeCluster();
  await eventually(() => logLines((l) => l['listener'] === 'SSL' && l['principal'] === 'User:alice').length > 0, 'a connection logged as User:alice');
  const mallory = pki.client('mallory', { trusted: false });
  await client(port('SSL'), { tls: { ca: pki.ca, cert: mallory.cert, key: mallory.key } }).admin().describeCluster();
  t.equal(logLines((l) => l['principal'] === 'User:mallory').length, 0, 'a certificate from another CA names nobody');
  t.ok(logLines((l) => l['listener'] === 'SSL' && l['principal'] === 'User:ANONYMOUS').length > 0, 'it is User:ANONYMOUS (tls.client.auth=requested)');
  const error = await client(port('SSL'), { tls: true }).admin().describeCluster().catch((e: unknown) => e);
  t.type(error, RunnelError, 'a client checking against the system CAs does not trust a private CA');
  t.match((error as RunnelError).message, /127\.0\.0\.1/);
});

t.test('the CLI logs in over SASL_SSL and creates a user, who can then log in; users list shows mechanisms only', async (t) => {
  const common = ['-b', `127.0.0.1:${port('SASL_SSL')}`, '--tls-ca', pki.caFile, '--username', 'admin'];
  const created = await runCliProcess(['users', 'create', 'bob', ...common, '--password-stdin', '--mechanism', 'SCRAM-SHA-256'], { input: 'bobs password\n', env: { RUNNEL_PASSWORD: ADMIN_PASSWORD } });
  t.equal(created.code, 0, created.stderr);
  const listed = await runCliProcess(['users', 'list', '--json', ...common], { env: { RUNNEL_PASSWORD: ADMIN_PASSWORD } });
  t.equal(listed.code, 0, listed.stderr);
  const users = JSON.parse(listed.stdout) as { name: string; credentials: { mechanism: string }[] }[];
  t.same(users.map((u) => [u.name, u.credentials.map((c) => c.mechanism)]), [['admin', ['SCRAM-SHA-256', 'SCRAM-SHA-512']], ['bob', ['SCRAM-SHA-256']]]);
  const asBob = await runCliProcess(['topic', 'list', '-b', `127.0.0.1:${port('SASL_SSL')}`, '--tls-ca', pki.caFile, '--username', 'bob', '--sasl-mechanism', 'SCRAM-SHA-256', '--password-stdin'], { input: 'bobs password\n' });
  t.equal(asBob.code, 0, asBob.stderr);
  t.match(asBob.stdout, /secure/, 'bob sees the topics');
  const wrong = await runCliProcess(['topic', 'list', '-b', `127.0.0.1:${port('SASL_SSL')}`, '--tls-ca', pki.caFile, '--username', 'bob', '--sasl-mechanism', 'SCRAM-SHA-256'], { env: { RUNNEL_PASSWORD: 'guess' } });
  t.not(wrong.code, 0);
  t.match(wrong.stderr, /authentication/i, 'a wrong password is said to be an authentication failure');
  const deleted = await runCliProcess(['users', 'delete', 'bob', ...common], { env: { RUNNEL_PASSWORD: ADMIN_PASSWORD } });
  t.equal(deleted.code, 0, deleted.stderr);
  const gone = await runCliProcess(['topic', 'list', '-b', `127.0.0.1:${port('SASL_SSL')}`, '--tls-ca', pki.caFile, '--username', 'bob', '--sasl-mechanism', 'SCRAM-SHA-256'], { env: { RUNNEL_PASSWORD: 'bobs password' } });
  t.not(gone.code, 0, 'a deleted user can no longer log in');
});
