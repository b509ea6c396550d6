/**
 * The encryption-at-rest benchmark still runs: a smoke run (one unmeasured
 * and one measured run of each kind, small counts) exits 0, names the
 * cipher engine the broker uses, and prints every figure line with a value,
 * every encrypted kind with its ratio against plain on its own broker
 * (each broker runs a plain topic too). Each run deletes its
 * topic and waits for the broker to remove the files (bench-support.ts
 * dropTopic): a bench that deleted nothing, or waited for ever, would fail
 * here. The figures themselves are not judged: that is the bench's reader's
 * job.
 */
import t from 'tap';
import { runBench } from './run-bench.js';

const TIMEOUT_MS = 90_000;

const RATIO_LINES = [
  'produce  encrypted, tail from the plaintext cache',
  'produce  encrypted, decrypted from disk (cache off)',
  'produce  encrypted, default settings, tail unread',
  'consume  encrypted, tail from the plaintext cache',
  'consume  encrypted, decrypted from disk (cache off)',
];

t.test('bench/encryption --quick prints every figure', async (t) => {
  const { code, stdout, stderr } = await runBench('encryption', ['--quick', '--records', '3000'], TIMEOUT_MS);
  t.equal(code, 0, `exit 0; stderr:\n${stderr}`);
  t.match(stdout, /^# the broker's cipher: native, (vaes|openssl)$/m, 'the engine the broker uses');
  t.match(stdout, /^cipher {3}64 KiB batches, CPU us\/MiB \(median of \d+\): native \w+ seal [\d,]+ open [\d,]+/m, 'the cipher alone');
  for (const what of ['produce', 'consume']) t.match(stdout, new RegExp(`^${what} +plain +[\\d,.]+ MB/s`, 'm'), `plain ${what}`);
  for (const line of ['produce  plain, on the cache-off broker', 'produce  plain, on the default broker', 'consume  plain, on the cache-off broker']) t.ok(stdout.split('\n').some((l) => l.startsWith(line) && / MB\/s \[/.test(l)), `"${line}", the baseline of its broker's encrypted kinds`);
  for (const label of RATIO_LINES) {
    const line = stdout.split('\n').find((l) => l.startsWith(label));
    t.match(line ?? '', /[\d,.]+ MB\/s \[[\d,]+\.\.[\d,]+\]\s+ratio \d+%$/, `a value and a ratio for "${label}"`);
  }
  t.match(stdout, /^produce +broker CPU us\/MB: plain [\d,]+; cached [\d,]+ .*plainUncached [\d,]+; disk [\d,]+ .*plainDefaults [\d,]+; unread [\d,]+/m, 'the brokers\' CPU per MB');
});
