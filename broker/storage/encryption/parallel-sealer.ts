/**
 * Sealing a large append on two threads at once: the event loop seals the
 * first half of its batches while a worker thread seals the second, and
 * the append goes on when both are done.
 *
 * Why: the event loop is the broker's one thread for every partition's
 * appends, and a single-partition producer has one request in flight
 * (sender.ts), so the time the broker takes to answer a Produce request is
 * time that pipeline stands still. Sealing (AES-256-GCM plus the
 * envelope's CRC-32C, ~0.25 ms per MB on the reference machine) is about
 * a fifth of what an encrypted append costs the event loop; with a core
 * idle beside it, nearly half of that can run there. Where no core is
 * idle it costs more than it saves (`parallelSealingPays`).
 *
 * Why not the batch opener's Piscina pool (batch-opener.ts): a message to a
 * pool and its answer cost the event loop 25-40 µs and come back on a later
 * turn, while an append is synchronous from validation to the write (its
 * offsets are taken, and its bytes must reach the segment before the next
 * append is stamped). Here the two threads meet on shared memory: the event
 * loop posts the job with Atomics and, after its own half, waits for the
 * worker with Atomics.wait (a few µs when the worker is done first, as it
 * usually is: it gets a slightly smaller half).
 *
 * What the worker reads and writes is shared memory: its half of the
 * plaintext is copied into a shared input buffer (the request's own
 * buffer is not shared), and both halves are sealed into one shared output
 * buffer, which the caller writes like any sealed bytes. Nonces are drawn
 * on the event loop from the injected Rng, in batch order, so the sealed
 * bytes are those an inline seal gives (tests/storage/parallel-sealer).
 *
 * Failure: a worker that does not start, exits or does not answer within
 * `answerTimeoutMs` is abandoned for good (every later seal is inline), and
 * the append it was sealing is finished inline into fresh memory (the stray
 * worker may still write into the old buffers). A batch the worker cannot
 * seal fails the append with its message; nothing is written.
 *
 * Only the event loop that made it may use it (one job at a time).
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { type GcmKey } from './aes-gcm.js';
import { NONCE_BYTES, sealBatch } from './batch-envelope.js';
import { BOARD_BYTES, CONTROL_WORDS, ERROR_AT, ERROR_MAX_BYTES, KEY_AT, KEY_ID_AT, MAX_JOB_BATCHES, NONCES_AT, SealState, Word, type SealerBuffers } from './seal-job.js';

/** One append to seal: its batches (validated, stamped), their sizes, and what sealing them needs. */
export interface SealJob {
  records: Uint8Array;
  /** Byte size of each batch, in order. */
  sizes: readonly number[];
  /** Bytes of the sealed result (every batch plus its envelope overhead). */
  totalBytes: number;
  /** Bytes each envelope adds to its batch. */
  overhead: number;
  keyIdBytes: Uint8Array;
  /** The raw key (the worker makes its own cipher key from it) and the event loop's ready key. */
  keyBytes: Uint8Array;
  key: GcmKey;
  /** The next fresh nonce (valid until the next call). */
  nonce: () => Uint8Array;
}

export interface ParallelSealerOptions {
  /** Appends with fewer plaintext bytes than this are sealed inline (default 256 KiB). */
  minBytes?: number;
  /** How long the event loop waits for the worker's half before abandoning it (default 1 s). */
  answerTimeoutMs?: number;
  /** Told once when the worker is abandoned (every later seal is inline). */
  onAbandoned?: (reason: string) => void;
  /** The worker's script (default workers/seal-worker; tests give one that never answers). */
  workerFile?: URL;
}

/**
 * Below this an append is sealed inline: the copy of the worker's half, the
 * wake-up and the wait cost some 10-20 µs, about what sealing 64 KiB costs,
 * and a small append's answer is quick anyway.
 */
export const PARALLEL_SEAL_MIN_BYTES = 256 * 1024;
/** Larger sealed appends are done inline (into memory of their own, as LogCipher does past its scratch). */
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
/**
 * A healthy worker answers within a few ms even on a busy host; one that
 * died without its exit event handled yet (it is delivered on a later turn)
 * would hold the event loop this long.
 */
const DEFAULT_ANSWER_TIMEOUT_MS = 1_000;
/**
 * The event loop's share of the plaintext: a little more than half, since
 * it starts at once while the worker starts after the copy and a wake-up,
 * and a worker that finishes first costs nothing, where an event loop
 * that waits costs the whole wait.
 */
const EVENT_LOOP_SHARE = 0.55;
/** Notifies of earlier jobs that can still arrive while a job is posted (one: see #awaitWorker), with room to spare. */
const STALE_NOTIFIES_MAX = 2;

const workerExtension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/**
 * Whether a broker on this machine should seal on two threads: from 4
 * cores, as for the batch opener (broker/main.ts). On 2 cores shared with
 * the producing client it cost more than it saved (bench/encryption's
 * method, 20 runs each, one broker with it and one without, alternating:
 * encrypted produce 618 MB/s with it, 666 without; broker CPU 1,358 µs per
 * MB against 1,123): the worker took the client's core, and the halves
 * crossed between cores' caches. On an idle second core a 4 MiB append
 * takes the event loop 0.67 ms instead of 1.03.
 */
export function parallelSealingPays(): boolean {
  return availableParallelism() >= 4;
}

export class ParallelSealer {
  readonly #control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  readonly #board = new Uint8Array(new SharedArrayBuffer(BOARD_BYTES));
  readonly #port: MessagePort;
  readonly #minBytes: number;
  readonly #answerTimeoutMs: number;
  readonly #onAbandoned: (reason: string) => void;
  #worker: Worker | null;
  #ready = false;
  #abandoned = false;
  /** Settles when the worker says it runs (true), or is abandoned first (false). */
  readonly #started: Promise<boolean>;
  #settleStarted: (running: boolean) => void = () => {};
  #input: Uint8Array = new Uint8Array(new SharedArrayBuffer(0));
  #output: Uint8Array = new Uint8Array(new SharedArrayBuffer(0));
  #buffersSent = 0;
  #jobs = 0;
  /** The event loop's nonces for its half, copied out of the Rng's draw. */
  #ownNonces = new Uint8Array(0);

  constructor(opts: ParallelSealerOptions = {}) {
    this.#minBytes = opts.minBytes ?? PARALLEL_SEAL_MIN_BYTES;
    this.#answerTimeoutMs = opts.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS;
    this.#onAbandoned = opts.onAbandoned ?? (() => {});
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    const filename = opts.workerFile ?? new URL(`../workers/seal-worker${workerExtension}`, import.meta.url);
    const worker = new Worker(filename, { workerData: { control: this.#control, board: this.#board, port: port2 }, transferList: [port2] });
    this.#worker = worker;
    // Neither the worker nor its port keeps a broker process alive that is otherwise done.
    worker.unref();
    this.#port.unref();
    this.#started = new Promise((resolve) => (this.#settleStarted = resolve));
    worker.once('message', () => {
      this.#ready = true;
      this.#settleStarted(!this.#abandoned);
    });
    worker.once('error', (err) => this.#abandon(`the worker failed: ${err.message}`));
    worker.once('exit', (code) => this.#abandon(`the worker exited (code ${code})`));
  }

  /** Whether `seal` would split an append of `bytes` plaintext bytes in `batches` batches (else seal it inline). */
  takes(bytes: number, batches: number, totalBytes: number): boolean {
    return this.#ready && !this.#abandoned && bytes >= this.#minBytes && batches >= 2 && batches <= MAX_JOB_BATCHES && totalBytes <= MAX_OUTPUT_BYTES;
  }

  /** True once the worker answered that it runs, until it is abandoned. */
  get ready(): boolean {
    return this.#ready && !this.#abandoned;
  }

  /** Resolves true once the worker runs, false if it was abandoned before (tests wait for it). */
  whenStarted(): Promise<boolean> {
    return this.#started;
  }

  /** Appends sealed on two threads so far. */
  get jobs(): number {
    return this.#jobs;
  }

  /**
   * The sealed form of `job`'s batches, in memory shared with the worker:
   * good until the next seal. Call only when `takes` said yes.
   */
  seal(job: SealJob): Uint8Array {
    const { records, sizes, overhead } = job;
    // The worker takes the batches after the event loop's share: at least one each.
    let split = 0;
    let splitPos = 0;
    const ownBytes = EVENT_LOOP_SHARE * records.byteLength;
    while (split < sizes.length - 1 && (split === 0 || splitPos + (sizes[split] as number) <= ownBytes)) {
      splitPos += sizes[split] as number;
      split += 1;
    }
    const workerOutputAt = splitPos + split * overhead;
    const output = this.#outputFor(job.totalBytes);
    // Shared memory is copied a word at a time only where source and target agree on the alignment (else a byte at a time: 8x slower).
    const inputAt = (records.byteOffset + splitPos) & 7;
    const input = this.#inputFor(inputAt + records.byteLength - splitPos);
    input.set(records.subarray(splitPos), inputAt);
    // Nonces in batch order (the event loop's first), so the result is byte for byte an inline seal's.
    if (this.#ownNonces.byteLength < split * NONCE_BYTES) this.#ownNonces = new Uint8Array(2 * split * NONCE_BYTES);
    for (let i = 0; i < split; i++) this.#ownNonces.set(job.nonce(), i * NONCE_BYTES);
    for (let i = split; i < sizes.length; i++) this.#board.set(job.nonce(), NONCES_AT + (i - split) * NONCE_BYTES);
    this.#board.set(job.keyBytes, KEY_AT);
    this.#board.set(job.keyIdBytes, KEY_ID_AT);
    const control = this.#control;
    control[Word.Batches] = sizes.length - split;
    control[Word.InputBytes] = records.byteLength - splitPos;
    control[Word.InputAt] = inputAt;
    control[Word.OutputAt] = workerOutputAt;
    control[Word.KeyIdBytes] = job.keyIdBytes.byteLength;
    control[Word.BuffersSent] = this.#buffersSent;
    Atomics.store(control, Word.State, SealState.Posted);
    Atomics.notify(control, Word.State);
    let outPos = 0;
    let pos = 0;
    let ownHalfDone = false;
    try {
      for (let i = 0; i < split; i++) {
        const size = sizes[i] as number;
        outPos += sealBatch(records, pos, size, job.keyIdBytes, job.key, this.#ownNonces.subarray(i * NONCE_BYTES, (i + 1) * NONCE_BYTES), output, outPos);
        pos += size;
      }
      ownHalfDone = true;
    } finally {
      if (!ownHalfDone) {
        // The event loop's half threw: the worker must be done with the buffers before anything reuses them, or never touch them again.
        this.#awaitWorker();
        if (Atomics.load(control, Word.State) === SealState.Posted) this.#abandon(`no answer within ${this.#answerTimeoutMs} ms`);
        else Atomics.store(control, Word.State, SealState.Idle);
      }
    }
    this.#awaitWorker();
    const state = Atomics.load(control, Word.State);
    if (state === SealState.Done) {
      Atomics.store(control, Word.State, SealState.Idle);
      this.#jobs += 1;
      return output.subarray(0, job.totalBytes);
    }
    if (state === SealState.Failed) {
      const message = Buffer.from(this.#board.subarray(ERROR_AT, ERROR_AT + Math.min(control[Word.ErrorBytes] as number, ERROR_MAX_BYTES))).toString('utf8');
      Atomics.store(control, Word.State, SealState.Idle);
      throw new Error(`sealing the second half of an append on the worker thread failed: ${message}`);
    }
    // No answer: the worker is abandoned; its half is sealed here, into memory it cannot touch.
    this.#abandon(`no answer within ${this.#answerTimeoutMs} ms`);
    const fresh = new Uint8Array(job.totalBytes);
    fresh.set(output.subarray(0, workerOutputAt));
    let at = workerOutputAt;
    for (let i = split; i < sizes.length; i++) {
      const size = sizes[i] as number;
      at += sealBatch(records, pos, size, job.keyIdBytes, job.key, this.#board.subarray(NONCES_AT + (i - split) * NONCE_BYTES, NONCES_AT + (i - split + 1) * NONCE_BYTES), fresh, at);
      pos += size;
    }
    return fresh;
  }

  /** Stops the worker (appends after this are sealed inline). */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#abandoned = true;
    this.#worker = null;
    if (worker === null) return;
    Atomics.store(this.#control, Word.State, SealState.Stop);
    Atomics.notify(this.#control, Word.State);
    this.#port.close();
    await worker.terminate();
  }

  /**
   * Waits (bounded) while the job is posted; the state then says how it
   * ended. A wake-up with the job still posted is the previous job's
   * notify, late: the worker stores Done, then notifies, and the event loop
   * may have seen Done, returned and posted this job in between. At most
   * one such notify is outstanding, so a few waits bound it.
   */
  #awaitWorker(): void {
    for (let wait = 0; wait < STALE_NOTIFIES_MAX + 1; wait++) {
      if (Atomics.wait(this.#control, Word.State, SealState.Posted, this.#answerTimeoutMs) !== 'ok') return;
      if (Atomics.load(this.#control, Word.State) !== SealState.Posted) return;
    }
  }

  #abandon(reason: string): void {
    if (this.#abandoned) return;
    this.#abandoned = true;
    this.#settleStarted(false);
    // Fresh buffers for nothing: a stray worker keeps writing into the ones it has, which no later seal uses.
    this.#input = new Uint8Array(new SharedArrayBuffer(0));
    this.#output = new Uint8Array(new SharedArrayBuffer(0));
    const worker = this.#worker;
    this.#worker = null;
    void worker?.terminate();
    this.#onAbandoned(reason);
  }

  #inputFor(bytes: number): Uint8Array {
    if (this.#input.byteLength < bytes) {
      this.#input = new Uint8Array(new SharedArrayBuffer(Math.max(bytes, 2 * this.#input.byteLength)));
      this.#sendBuffers();
    }
    return this.#input;
  }

  #outputFor(bytes: number): Uint8Array {
    if (this.#output.byteLength < bytes) {
      this.#output = new Uint8Array(new SharedArrayBuffer(Math.min(MAX_OUTPUT_BYTES, Math.max(bytes, 2 * this.#output.byteLength))));
      this.#sendBuffers();
    }
    return this.#output;
  }

  /** The worker takes new buffers from its port before the job that needs them (the job names how many were sent). */
  #sendBuffers(): void {
    const buffers: SealerBuffers = { input: this.#input.buffer as SharedArrayBuffer, output: this.#output.buffer as SharedArrayBuffer };
    this.#port.postMessage(buffers);
    this.#buffersSent += 1;
  }
}
