/**
 * A cluster whose only listener is SASL_SSL, inter-broker traffic included:
 * `runnel controller` and three `runnel broker`s, each listening on
 * SASL_SSL://127.0.0.1, the brokers logging in to the controller and to each
 * other as the SCRAM user `broker` (inter.broker.sasl.*; its password in a
 * file), with the users written into the controller's data directory before
 * it starts. A topic with three replicas and min.insync.replicas=3 takes an
 * acks=all produce only if both followers fetched it over authenticated TLS,
 * and every broker then serves it. A broker with the wrong password never
 * registers.
 *
 * Authorization is on everywhere (authorizer.enabled, super users `broker`
 * and `admin`): replication, registration and heartbeats pass as the
 * inter-broker principal's, and an ACL added through one broker decides on
 * every other (alice is refused, then, once granted, sees the topic through
 * a broker she alone talks to). Each broker also has an EXTERNAL listener
 * (SASL_PLAINTEXT) and registers both: a client that knows only one
 * broker's EXTERNAL port is told every broker's EXTERNAL port and produces
 * to all the leaders through them.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runnel } from '../../client/index.js';
import { freshDataDir, listeningOf } from '../support/broker-process.js';
import { runCliProcess } from '../support/cli-process.js';
import { makeTestPki } from '../support/tls-certs.js';
import { spawnCli } from '../tools/run-cli.js';

t.test('three brokers replicate a topic over SASL_SSL among themselves', async (t) => {
  const pki = makeTestPki();
  const dir = freshDataDir('runnel-sasl-cluster-');
  const controllerDir = join(dir, 'controller');
  for (const [user, password] of [['broker', 'inter-broker-secret'], ['admin', 'admin-secret']]) {
    const made = await runCliProcess(['users', 'create', user!, '--data', controllerDir, '--password-stdin', '--mechanism', 'SCRAM-SHA-512'], { input: `${password}\n` });
    t.equal(made.code, 0, made.stderr);
  }
  const passwordFile = join(dir, 'broker.password');
  writeFileSync(passwordFile, 'inter-broker-secret\n');
  const wrongPasswordFile = join(dir, 'wrong.password');
  writeFileSync(wrongPasswordFile, 'not-it\n');
  const tls = ['--set', `tls.cert.file=${pki.serverCertFile}`, '--set', `tls.key.file=${pki.serverKeyFile}`, '--set', `tls.ca.file=${pki.caFile}`];
  const fast = ['--set', 'broker.session.timeout.ms=3000', '--set', 'broker.heartbeat.interval.ms=300', '--set', 'logger.format=json', '--set', 'authorizer.enabled=true', '--set', 'super.users=User:broker;User:admin'];
  const controller = spawnCli(t, ['controller', '--node-id', '0', '--data', controllerDir, '--set', 'listeners=SASL_SSL://127.0.0.1:0', ...tls, ...fast]);
  await controller.printed(/"event":"listening"/, 30_000);
  const controllerPort = listeningOf(controller.stdout()).port;
  // Each broker also has an EXTERNAL listener (SASL without TLS) that clients may use; brokers talk over SASL_SSL.
  // Ports picked by the OS and read back from each broker's listening line; a broker then registers the ports it bound.
  const brokerArgs = (id: number, password: string) => ['broker', '--node-id', String(id), '--data', join(dir, `b${id}`), '--controller', `127.0.0.1:${controllerPort}`, '--set', 'listeners=SASL_SSL://127.0.0.1:0,EXTERNAL://127.0.0.1:0', '--set', 'listener.security.protocol.map=EXTERNAL:SASL_PLAINTEXT', '--set', 'inter.broker.listener.name=SASL_SSL', '--set', 'inter.broker.sasl.username=broker', '--set', `inter.broker.sasl.password.file=${password}`, ...tls, ...fast];
  const ports: number[] = [];
  const externalPorts: number[] = [];
  const brokers: ReturnType<typeof spawnCli>[] = [];
  for (const id of [1, 2, 3]) brokers.push(spawnCli(t, brokerArgs(id, passwordFile)));
  for (const b of brokers) {
    await b.printed(/"event":"listening"/, 30_000);
    const bound = listeningOf(b.stdout()).listeners;
    ports.push(bound.get('SASL_SSL')!);
    externalPorts.push(bound.get('EXTERNAL')!);
  }
  t.teardown(() => {
    for (const b of [...brokers, controller]) b.child.kill('SIGKILL');
  });

  const runnel = new Runnel({ bootstrap: ports.map((p) => `127.0.0.1:${p}`), tls: { ca: pki.ca }, sasl: { mechanism: 'scram-sha-512', username: 'admin', password: 'admin-secret' }, connectTimeoutMs: 5000 });
  t.teardown(() => runnel.close());
  const admin = runnel.admin();
  const deadline = Date.now() + 30_000;
  while ((await admin.describeCluster()).brokers.length < 3) {
    if (Date.now() > deadline) throw new Error('three brokers did not register over SASL_SSL within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await admin.createTopic({ name: 'replicated', partitions: 3, replicationFactor: 3, config: { 'min.insync.replicas': '3' } });
  const producer = runnel.producer({ acks: 'all', lingerMs: 1 });
  const sent = await producer.send({ topic: 'replicated', messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
  await producer.close();
  t.equal(sent.length, 30, 'acks=all with min.insync.replicas=3: every follower fetched over SASL_SSL');
  const offsets = await admin.listOffsets('replicated');
  t.equal(offsets.reduce((sum, p) => sum + p.latest, 0), 30, 'all 30 records are committed');
  t.ok(brokers.every((b) => /"principal":"User:broker"/.test(b.stdout())), 'every broker saw another log in as User:broker');

  await admin.upsertScramUser('alice', 'alice-secret', { mechanisms: ['SCRAM-SHA-512'] });
  const alice = new Runnel({ bootstrap: [`127.0.0.1:${ports[2]}`], tls: { ca: pki.ca }, sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'alice-secret' }, connectTimeoutMs: 5000 });
  t.teardown(() => alice.close());
  t.same(await alice.admin().listTopics(), [], 'alice describes nothing without an ACL');
  await admin.createAcls([{ resourceType: 'topic', resourceName: 'replicated', operation: 'describe', principal: 'User:alice', permission: 'allow' }]);
  const granted = Date.now() + 15_000;
  while ((await alice.admin().listTopics()).length === 0) {
    if (Date.now() > granted) throw new Error('the ACL added through the cluster did not reach broker 3 within 15 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.same(await alice.admin().listTopics(), ['replicated'], 'the grant reached the broker alice talks to');

  // A client on EXTERNAL is told every broker's EXTERNAL endpoint (each registered all its listeners), and works through them.
  const outside = new Runnel({ bootstrap: [`127.0.0.1:${externalPorts[0]}`], sasl: { mechanism: 'scram-sha-512', username: 'admin', password: 'admin-secret' }, connectTimeoutMs: 5000 });
  t.teardown(() => outside.close());
  const seen = (await outside.admin().describeCluster()).brokers.map((b) => b.port).sort((a, b) => a - b);
  t.same(seen, [...externalPorts].sort((a, b) => a - b), 'Metadata on EXTERNAL names each broker at its EXTERNAL port, not its SASL_SSL one');
  const outsideProducer = outside.producer({ acks: 'all', lingerMs: 1 });
  const outsideSent = await outsideProducer.send({ topic: 'replicated', messages: Array.from({ length: 9 }, (_, i) => ({ key: `x${i}`, value: `outside ${i}` })) });
  await outsideProducer.close();
  t.equal(outsideSent.length, 9, 'a produce over EXTERNAL reaches the leaders of every partition');

  const intruder = spawnCli(t, brokerArgs(4, wrongPasswordFile));
  t.teardown(() => intruder.child.kill('SIGKILL'));
  await controller.printed(/SASL authentication failed \(SCRAM-SHA-512\): wrong proof for user broker/, 30_000);
  t.equal((await admin.describeCluster()).brokers.length, 3, 'a broker with the wrong inter-broker password never registers');
});
