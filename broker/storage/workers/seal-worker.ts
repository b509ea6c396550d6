/**
 * Worker thread: seals the second half of large appends of encrypted
 * topics while the event loop seals the first (encryption/parallel-sealer.ts).
 * It tells its parent it runs, then serves jobs on shared memory until
 * told to stop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SealWorkerSide } from '../encryption/seal-job.js';

const { control, board, port } = workerData as { control: Int32Array; board: Uint8Array; port: import('node:worker_threads').MessagePort };
const side = new SealWorkerSide(control, board, port);
parentPort?.postMessage('ready');
side.serve();
