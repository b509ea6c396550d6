/**
 * The plaintext cache's copy into its ring (broker/storage/encryption/stream-copy.ts,
 * native/stream_copy.c): the same bytes as an ordinary copy at every length
 * around its thresholds and at every alignment of source and target, nothing
 * written outside the target range, and the addon's own refusals.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { copyStreaming } from '../../broker/storage/encryption/stream-copy.js';
import { nativeAddon } from '../../protocol/native-addon.js';

t.test('copies exactly what an ordinary copy does, at every alignment, and nothing around it', async (t) => {
  let agreed = 0;
  let tried = 0;
  for (const length of [0, 1, 15, 16, 17, 63, 64, 65, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 16 * 1024 + 63, 100_000, 1 << 20]) {
    for (const targetAt of [0, 1, 7, 8, 15, 16, 33]) {
      const sourceAt = (targetAt * 5) % 17;
      const source = randomBytes(length + sourceAt).subarray(sourceAt);
      const target = Buffer.alloc(length + targetAt + 64, 0xa5);
      const expected = Buffer.from(target);
      expected.set(source, targetAt);
      copyStreaming(target, targetAt, source);
      tried += 1;
      if (target.equals(expected)) agreed += 1;
      else t.fail(`${length} bytes at target offset ${targetAt}, source offset ${sourceAt}: not an ordinary copy's result`);
    }
  }
  t.equal(agreed, tried, `${tried} lengths and alignments agree`);
});

t.test('the native copy refuses a target too short or overlapping its source', async (t) => {
  const addon = nativeAddon();
  if (typeof addon === 'string') return t.fail(`the addon did not load: ${addon}`);
  const streamCopy = (addon as { streamCopy: (target: Uint8Array, source: Uint8Array) => void }).streamCopy;
  const buffer = new Uint8Array(1 << 16);
  t.throws(() => streamCopy(new Uint8Array(10), new Uint8Array(11)), /target must hold source/);
  t.throws(() => streamCopy(buffer.subarray(100, 40_100), buffer.subarray(0, 40_000)), /must not overlap/);
  t.doesNotThrow(() => streamCopy(buffer.subarray(40_000, 60_000), buffer.subarray(0, 20_000)), 'apart in one buffer');
});
