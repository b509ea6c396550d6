/**
 * The CRC-32C of batches (protocol/batch/crc32c.ts) comes from the
 * project's addon (native/crc32c.c: three interleaved streams of the CPU's
 * instruction, joined by a tabulated shift) where it is built: it must be
 * fast-crc32c's CRC, to the bit, for every length, alignment and starting
 * state, or every batch a producer seals and every check the broker makes
 * would disagree with Kafka's clients and with the disk.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import fastCrc32c from 'fast-crc32c';
import { crc32c, crc32cSource } from '../../protocol/batch/crc32c.js';

t.test('batches are checksummed by the addon (built by npm install; the reference machine and CI have the instruction)', async (t) => {
  t.equal(crc32cSource(), 'addon');
});

t.test('the CRC-32C is fast-crc32c\'s: every length around the 3 x 512-byte blocks, any alignment, chained states', async (t) => {
  t.equal(crc32c(Buffer.from('123456789')), 0xe3069283, 'the check value of CRC-32C');
  const pool = randomBytes(8 * 1024 + 64);
  let mismatches = 0;
  let checked = 0;
  // Every length to past two blocks, then a sample of longer ones; each at all 8 alignments, from 0 and from a state.
  const lengths = [...Array.from({ length: 3 * 1024 + 20 }, (_, i) => i), 4095, 4096, 4097, 6143, 6144, 6145, 8 * 1024];
  for (const length of lengths) {
    for (let align = 0; align < 8; align++) {
      const piece = pool.subarray(align, align + length);
      const state = (length * 2654435761) >>> 0;
      if (crc32c(piece) !== fastCrc32c.calculate(piece, 0) >>> 0 || crc32c(piece, state) !== fastCrc32c.calculate(piece, state) >>> 0) mismatches++;
      checked++;
    }
  }
  t.equal(mismatches, 0, `${checked} lengths x alignments agree`);
  const split = 1000;
  t.equal(crc32c(pool.subarray(split), crc32c(pool.subarray(0, split))), crc32c(pool), 'a CRC continued from a piece\'s is the whole\'s');
  t.equal(crc32c(new Uint8Array(0), 0x1234abcd), 0x1234abcd, 'nothing added: the state as it was');
});
