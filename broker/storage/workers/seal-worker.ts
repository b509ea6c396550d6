/**
 * Worker thread: seals the second half of large appends of encrypted
 * topics while the event loop seals the first (encryption/parallel-sealer.ts).
 */
import { serveSealJobs } from '../encryption/seal-job.js';

serveSealJobs();
