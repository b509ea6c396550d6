/**
 * V8 settings a broker process runs with, set once when `runnel start` (or
 * `node dist/broker/main.js`) starts, before the broker allocates anything.
 *
 * `--no-concurrent-array-buffer-sweeping`: V8 counts the memory behind
 * ArrayBuffers (every socket read, request frame and read buffer of a
 * broker) as "external", and external memory allocated since the last full
 * collection against the old generation's limit. A scavenge finds the dead
 * young buffers at once but, by default, frees them later on a background
 * thread; until then they still count. A broker taking produce traffic
 * allocates buffers at hundreds of MB a second, so that lag alone kept the
 * count over a small heap's limit, and V8 fell into full collections every
 * ~50 ms, which also held the limit low, so it stayed there. Measured on
 * the reference machine (2 cores), 300k 1 KiB records a run, broker CPU
 * per MB produced: 4,200-5,700 µs in the runs where that happened (9 of 10
 * on a broker with the plaintext cache, 1 in 5 without), 1,900-2,700 when
 * it did not; with the buffers freed at the scavenge itself, 9 of 9 runs
 * had 1-4 full collections and 1,950-2,960 µs. bench/encryption.ts, 5
 * runs of each kind, twice: plain produce 330-350 MB/s before, 490-550
 * after; encrypted 258-278, after 344-391. Freeing on the main thread costs
 * it a few µs per scavenge.
 *
 * A flag read each time V8 sweeps, so setting it at run time takes effect
 * at the next scavenge. Only the broker's process entry sets it: a program
 * that embeds a broker (the tests' in-process brokers) keeps its own V8.
 */
import v8 from 'node:v8';

export const BROKER_V8_FLAGS = ['--no-concurrent-array-buffer-sweeping'] as const;

export function tuneBrokerProcess(): void {
  for (const flag of BROKER_V8_FLAGS) v8.setFlagsFromString(flag);
}
