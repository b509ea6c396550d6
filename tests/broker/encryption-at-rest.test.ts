/**
 * Encryption at rest end to end with a real broker process on loopback
 * (`encryption.key.file` from a keyring made at run time with node:crypto):
 * the SDK produces and consumes plaintext to an encrypted topic, the segment
 * files hold no record value, and `runnel dump-log` names the key without
 * the keyring and shows the records with it. Replication of an encrypted
 * topic: encryption-replication.test.ts (in process, much faster than a
 * cluster of processes).
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runnel, type Message } from '../../client/index.js';
import { freshDataDir, startBrokerProcess } from '../support/broker-process.js';
import { runnel as cli } from '../tools/run-cli.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const RECORDS = 300;
const secret = (i: number): string => `SECRET-PAYLOAD-${String(i).padStart(4, '0')}`;

t.test('a real broker: plaintext on the wire, ciphertext on disk, dump-log reads it only with the keyring', async (t) => {
  const keyDir = freshDataDir('runnel-keys-');
  const keyFile = join(keyDir, 'keyring');
  writeFileSync(keyFile, `# made by the test\nk1=${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  const broker = await startBrokerProcess({ args: ['--set', `encryption.key.file=${keyFile}`] });
  t.teardown(() => broker.kill());

  const client = new Runnel({ bootstrap: [broker.bootstrap], logger: silent });
  t.teardown(() => client.close());
  await client.admin().createTopic({ name: 'vault', partitions: 1, config: { 'encryption.enabled': 'true', 'segment.bytes': '4096' } });
  const producer = client.producer({ acks: 'all', lingerMs: 1 });
  // Two rounds: the second lands in later segments (segment.bytes).
  for (let i = 0; i < RECORDS; i += RECORDS / 2) {
    await Promise.all(Array.from({ length: RECORDS / 2 }, (_, j) => producer.send({ topic: 'vault', messages: [{ key: `k${(i + j) % 10}`, value: secret(i + j) }] })));
  }
  const consumer = client.consumer({ maxWaitMs: 100 });
  consumer.assign([{ topic: 'vault', partition: 0, offset: 'earliest' }]);
  const got: Message[] = [];
  const deadline = Date.now() + 30_000;
  for await (const m of consumer) {
    got.push(m);
    if (got.length === RECORDS || Date.now() > deadline) break;
  }
  t.same(got.map((m) => m.value?.toString()), Array.from({ length: RECORDS }, (_, i) => secret(i)), 'the consumer reads every record as produced, in order');

  const partitionDir = join(broker.dataDir, 'vault-0');
  const logs = readdirSync(partitionDir).filter((name) => name.endsWith('.log')).sort();
  const all = Buffer.concat(logs.map((name) => readFileSync(join(partitionDir, name))));
  t.ok(logs.length > 1 && all.byteLength > RECORDS * 20, `${all.byteLength} bytes in ${logs.length} segments`);
  t.notOk(all.includes('SECRET-PAYLOAD'), 'no record value in the segment files');
  await broker.stop();

  const first = join(partitionDir, logs[0] as string);
  const bare = await cli(['dump-log', first, '--records'], { env: { RUNNEL_ENCRYPTION_KEYS: '' } });
  t.equal(bare.code, 0, `without the keyring the file is still sound: ${bare.stderr}`);
  t.match(bare.stdout, /crcValid: true .*encryptedUnderKey: k1/, 'each batch names its key');
  t.match(bare.stdout, /\| encrypted under key 'k1': give the keyring \(--key-file, or RUNNEL_ENCRYPTION_KEYS\)/, 'and says how to read its records');
  t.notMatch(bare.stdout, /SECRET-PAYLOAD/);

  const keyed = await cli(['dump-log', first, '--records', '--key-file', keyFile]);
  t.equal(keyed.code, 0, keyed.stderr);
  t.match(keyed.stdout, /\| offset: 0 timestamp: \d+ key: "k0" value: "SECRET-PAYLOAD-0000"/, 'with the keyring: the records');
});
