/**
 * A seal worker that never answers (tests/storage/parallel-sealer): it
 * says it runs, then blocks its thread for good, as a worker stuck in a
 * job would look to the event loop.
 */
import { parentPort } from 'node:worker_threads';

parentPort?.postMessage('ready');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
