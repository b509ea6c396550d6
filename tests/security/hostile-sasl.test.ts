/**
 * The hostile wire (tests/broker/bad-input.test.ts) against a SASL
 * listener, before and during authentication: impossible frame lengths,
 * random frames with random API keys, requests before authentication,
 * malformed SCRAM messages, a wrong proof, a replayed nonce, a handshake for
 * an unknown mechanism, a second handshake. Each attack gets its connection
 * closed (or an error answer and then a close) within a bound, never a hang
 * and never an authenticated session; after each, a client that
 * authenticated properly on its own connection is still answered.
 */
import t from 'tap';
import { ApiKey } from '../../protocol/api-keys.js';
import { seededRng } from '../../broker/world/rng.js';
import { ScramClient } from '../../client/security/scram-client.js';
import { freshDataDir, startBrokerProcess } from '../support/broker-process.js';
import { runCliProcess } from '../support/cli-process.js';
import { RawClient, rawRequestFrame } from '../support/raw-client.js';

const PASSWORD = 'hostile-test-password';

async function closedWithin(client: RawClient, withinMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([client.closed.then(() => true), new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), withinMs); })]);
  clearTimeout(timer);
  return result;
}

function lengthPrefix(length: number): Uint8Array {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(length >>> 0, 0);
  return buf;
}

t.test('a SASL listener survives hostile input before and during authentication', async (t) => {
  const dataDir = freshDataDir();
  const made = await runCliProcess(['users', 'create', 'admin', '--data', dataDir, '--password-stdin', '--mechanism', 'SCRAM-SHA-256'], { input: `${PASSWORD}\n` });
  t.equal(made.code, 0, made.stderr);
  const broker = await startBrokerProcess({ dataDir, args: ['--set', 'listeners=SASL_PLAINTEXT://127.0.0.1:0', '--set', 'logger.format=json'] });
  t.teardown(() => broker.kill('SIGKILL'));
  const connect = async (): Promise<RawClient> => {
    const client = await RawClient.connect(broker.host, broker.port);
    t.teardown(() => client.close());
    return client;
  };
  /** A raw connection through the whole SCRAM exchange. */
  const login = async (password = PASSWORD): Promise<{ client: RawClient; ok: boolean }> => {
    const client = await connect();
    await client.request('SaslHandshake', { mechanism: 'SCRAM-SHA-256' });
    const scram = new ScramClient('SCRAM-SHA-256', 'admin', password, `n${Math.floor(Math.random() * 1e9)}`);
    const first = await client.request('SaslAuthenticate', { authBytes: Buffer.from(scram.firstMessage()) });
    const final = await client.request('SaslAuthenticate', { authBytes: Buffer.from(scram.finalMessage(Buffer.from(first.authBytes).toString())) });
    if (final.errorCode === 0) scram.verifyServerFinal(Buffer.from(final.authBytes).toString());
    return { client, ok: final.errorCode === 0 };
  };
  const good = (await login()).client;
  const stillServes = async (after: string): Promise<void> => {
    const metadata = await good.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false });
    t.equal(metadata.brokers[0]?.port, broker.port, `the authenticated client is still answered after ${after}`);
  };
  await stillServes('logging in');

  await t.test('impossible lengths before authentication close that connection only', async (t) => {
    for (const length of [0, -1, 0x7fffffff]) {
      const bad = await connect();
      await bad.sendRaw(lengthPrefix(length));
      t.ok(await closedWithin(bad, 10_000), `length ${length}: closed`);
    }
    await stillServes('impossible lengths');
  });

  await t.test('every API but the SASL ones and ApiVersions closes an unauthenticated connection', async (t) => {
    for (const [name, key] of Object.entries(ApiKey)) {
      if (name === 'ApiVersions' || name === 'SaslHandshake' || name === 'SaslAuthenticate') continue;
      const bad = await connect();
      await bad.sendRaw(rawRequestFrame({ apiKey: key, apiVersion: 0, correlationId: 1 }, Buffer.alloc(16)));
      t.ok(await closedWithin(bad, 10_000), `${name} before authentication: closed`);
    }
    t.match(broker.output(), /Produce before SASL authentication on listener SASL_PLAINTEXT/, 'the reason is logged');
    await stillServes('requests before authentication');
  });

  await t.test('random frames before authentication: answered or closed, never hung, never authenticated', async (t) => {
    const rng = seededRng(20261203);
    let hung = 0;
    for (let round = 0; round < 30; round++) {
      const client = await connect();
      const body = Buffer.alloc(rng.int(120));
      for (let i = 0; i < body.length; i++) body[i] = rng.int(256);
      const apiKey = [ApiKey.SaslHandshake, ApiKey.SaslAuthenticate, ApiKey.Metadata, rng.int(0x7fff)][rng.int(4)]!;
      const response = client.expectResponse(round + 1).then(() => 'answered', () => 'closed');
      await client.sendRaw(rawRequestFrame({ apiKey, apiVersion: 0, correlationId: round + 1 }, body));
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([response, new Promise<string>((resolve) => { timer = setTimeout(() => resolve('hung'), 10_000); })]);
      clearTimeout(timer);
      if (outcome === 'hung') hung += 1;
      // Whatever it was, a Metadata request after it must not be served: the connection never authenticated.
      if (!client.isClosed) {
        const metadata = client.request('Metadata', { topics: null, allowAutoTopicCreation: false, includeInternal: false }).then(() => 'served', () => 'refused');
        t.equal(await metadata, 'refused', `round ${round}: no Metadata without authentication`);
      }
      client.close();
      if (hung > 0) break;
    }
    t.equal(hung, 0, 'no random frame hung its connection');
    await stillServes('random frames');
  });

  await t.test('malformed SCRAM, a wrong proof, a second handshake, an unknown mechanism', async (t) => {
    const garbage = await connect();
    t.equal((await garbage.request('SaslHandshake', { mechanism: 'scram-sha-256' })).errorCode, 0, 'mechanism names are case-insensitive');
    const answer = await garbage.request('SaslAuthenticate', { authBytes: Buffer.from([0xff, 0x00, 0x2c, 0x3d]) });
    t.equal(answer.errorCode, 58, 'garbage client-first: SASL_AUTHENTICATION_FAILED');
    t.match(answer.errorMessage, /malformed/);
    t.ok(await closedWithin(garbage, 10_000), 'then closed');

    const wrong = await login('not the password');
    t.equal(wrong.ok, false, 'a wrong proof does not authenticate');
    t.ok(await closedWithin(wrong.client, 10_000), 'and closes the connection');

    const twice = await connect();
    await twice.request('SaslHandshake', { mechanism: 'SCRAM-SHA-256' });
    t.equal((await twice.request('SaslHandshake', { mechanism: 'SCRAM-SHA-256' })).errorCode, 34, 'a second handshake: ILLEGAL_SASL_STATE');
    t.ok(await closedWithin(twice, 10_000));

    const unknown = await connect();
    t.equal((await unknown.request('SaslHandshake', { mechanism: 'GSSAPI' })).errorCode, 33, 'an unknown mechanism: UNSUPPORTED_SASL_MECHANISM');
    t.ok(await closedWithin(unknown, 10_000));

    // A client-final whose nonce is not the one the server extended (a replay of another exchange).
    const replay = await connect();
    await replay.request('SaslHandshake', { mechanism: 'SCRAM-SHA-256' });
    await replay.request('SaslAuthenticate', { authBytes: Buffer.from('n,,n=admin,r=abc') });
    const replayed = await replay.request('SaslAuthenticate', { authBytes: Buffer.from('c=biws,r=abcSOMEONEELSE,p=AAAA') });
    t.equal(replayed.errorCode, 58, 'a foreign nonce: SASL_AUTHENTICATION_FAILED');
    t.ok(await closedWithin(replay, 10_000));
    await stillServes('SCRAM attacks');
  });
});
