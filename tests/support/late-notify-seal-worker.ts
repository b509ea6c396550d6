/**
 * A seal worker whose thread is held up for 40 ms between storing a job's
 * answer and notifying the event loop (tests/storage/parallel-sealer), as
 * a descheduled thread would be: the event loop may see the answer, go on
 * and post the next job before that notify arrives.
 */
import { serveSealJobs } from '../../broker/storage/encryption/seal-job.js';

const notify = Atomics.notify.bind(Atomics);
const nap = new Int32Array(new SharedArrayBuffer(4));
Atomics.notify = ((array: Int32Array, index: number, count?: number): number => {
  Atomics.wait(nap, 0, 0, 40);
  return notify(array, index, count);
}) as typeof Atomics.notify;
serveSealJobs();
