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
import { freshDataDir, startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { runnel as cli } from '../tools/run-cli.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const RECORDS = 300;
const secret = (i: number): string => `SECRET-PAYLOAD-${String(i).padStart(4, '0')}`;

t.test('a real broker: plaintext on the wire, ciphertext on disk, dump-log reads it only with the keyring', async (t) => {
  const keyDir = freshDataDir('runnel-keys-');
  const keyFile = join(keyDir, 'keyring');
  writeFileSync(keyFile, `# made by the test\nk1=${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  const brokerArgs = ['--set', `encryption.key.file=${keyFile}`, '--set', 'logger.format=json', '--set', 'metrics.listen=127.0.0.1:0'];
  const broker = await startBrokerProcess({ args: brokerArgs });
  t.teardown(() => broker.kill());

  const client = new Runnel({ bootstrap: [broker.bootstrap], logger: silent });
  t.teardown(() => client.close());
  await client.admin().createTopic({ name: 'vault', partitions: 1, config: { 'encryption.enabled': 'true', 'segment.bytes': '4096' } });
  const producer = client.producer({ acks: 'all', lingerMs: 1 });
  // Two rounds: the second lands in later segments (segment.bytes).
  for (let i = 0; i < RECORDS; i += RECORDS / 2) {
    await Promise.all(Array.from({ length: RECORDS / 2 }, (_, j) => producer.send({ topic: 'vault', messages: [{ key: `k${(i + j) % 10}`, value: secret(i + j) }] })));
  }
  t.same(await consumeAll(client), Array.from({ length: RECORDS }, (_, i) => secret(i)), 'the consumer reads every record as produced, in order');
  const warm = await cacheReads(broker);
  t.ok(warm.hit > RECORDS * 20 && warm.miss === 0, `read right after it was written, the tail comes from the plaintext cache (${warm.hit} bytes hit, ${warm.miss} missed)`);

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

  // A restarted broker has nothing cached: the same records are decrypted from the segment files.
  const again = await startBrokerProcess({ args: brokerArgs, dataDir: broker.dataDir });
  t.teardown(() => again.kill());
  const reader = new Runnel({ bootstrap: [again.bootstrap], logger: silent });
  t.teardown(() => reader.close());
  t.same(await consumeAll(reader), Array.from({ length: RECORDS }, (_, i) => secret(i)), 'after a restart the consumer reads the same records');
  const cold = await cacheReads(again);
  t.ok(cold.miss > RECORDS * 20 && cold.hit === 0, `after a restart every read decrypts from disk (${cold.miss} bytes missed, ${cold.hit} hit)`);
});

/** Every record of the vault topic, from the start, as text. */
async function consumeAll(client: Runnel): Promise<string[]> {
  const consumer = client.consumer({ maxWaitMs: 100 });
  consumer.assign([{ topic: 'vault', partition: 0, offset: 'earliest' }]);
  const got: Message[] = [];
  const deadline = Date.now() + 30_000;
  try {
    for await (const m of consumer) {
      got.push(m);
      if (got.length === RECORDS || Date.now() > deadline) break;
    }
  } finally {
    await consumer.close();
  }
  return got.map((m) => m.value?.toString() ?? '');
}

/** The broker's plaintext-cache read counters, from its /metrics. */
async function cacheReads(broker: BrokerProcess): Promise<{ hit: number; miss: number }> {
  const port = broker.output().split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    const entry = JSON.parse(line) as { event?: string; port?: number };
    return entry.event === 'metricsListening' && typeof entry.port === 'number' ? [entry.port] : [];
  })[0];
  if (port === undefined) throw new Error('no metricsListening line');
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (result: string): number => Number(new RegExp(`^runnel_encryption_cache_read_bytes_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { hit: value('hit'), miss: value('miss') };
}
