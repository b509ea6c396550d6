/**
 * The shared memory the event loop and the seal worker meet on
 * (parallel-sealer.ts), and the worker's side of a job.
 *
 * Control words (an Int32Array): the state, which the event loop moves
 * from Idle to Posted and the worker from Posted to Done or Failed (both
 * wait on it with Atomics), and the job's numbers. The board (bytes): the
 * raw key, the key id, the worker's nonces, and a failure's message. The
 * plaintext and the sealed bytes are in two more shared buffers, replaced
 * when they must grow: the event loop posts the new ones on a MessagePort
 * before the job that needs them, and the worker takes them off its port
 * synchronously (receiveMessageOnPort) until it has as many as the job says
 * were sent.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { aesGcm, type GcmKey } from './aes-gcm.js';
import { NONCE_BYTES, envelopeOverhead, sealBatch } from './batch-envelope.js';
import { BATCH_LOG_OVERHEAD, batchSizeAt } from '../../../protocol/batch/header.js';

export const SealState = { Idle: 0, Posted: 1, Done: 2, Failed: 3, Stop: 4 } as const;

/** Indexes of the control words. */
export const Word = {
  State: 0,
  /** Batches of the worker's half, their plaintext bytes, and where they start in the input buffer. */
  Batches: 1,
  InputBytes: 2,
  /** Where the worker's first sealed batch goes in the output buffer. */
  OutputAt: 3,
  KeyIdBytes: 4,
  /** How many buffer messages the event loop had posted when it posted the job. */
  BuffersSent: 5,
  /** Bytes of the failure message on the board. */
  ErrorBytes: 6,
  InputAt: 7,
} as const;
export const CONTROL_WORDS = 8;

/** A job's batches at most: their nonces are on the board. */
export const MAX_JOB_BATCHES = 8192;
export const KEY_BYTES = 32;
export const KEY_AT = 0;
export const KEY_ID_AT = KEY_AT + KEY_BYTES;
export const NONCES_AT = KEY_ID_AT + 256;
export const ERROR_AT = NONCES_AT + MAX_JOB_BATCHES * NONCE_BYTES;
export const ERROR_MAX_BYTES = 1024;
export const BOARD_BYTES = ERROR_AT + ERROR_MAX_BYTES;

/** A buffer message: the current input and output buffers. */
export interface SealerBuffers {
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
}

/** The worker's state between jobs: its buffers, and its cipher key for the last raw key it saw. */
export class SealWorkerSide {
  #input: Uint8Array = new Uint8Array(0);
  #output: Uint8Array = new Uint8Array(0);
  #buffersTaken = 0;
  readonly #keyBytes = new Uint8Array(KEY_BYTES);
  #key: GcmKey | null = null;

  constructor(
    readonly control: Int32Array,
    readonly board: Uint8Array,
    readonly port: MessagePort,
  ) {}

  /** Serves jobs until told to stop (blocks its thread: the worker does nothing else). */
  serve(): void {
    const control = this.control;
    for (;;) {
      const state = Atomics.load(control, Word.State);
      if (state === SealState.Stop) return;
      if (state !== SealState.Posted) {
        Atomics.wait(control, Word.State, state);
        continue;
      }
      try {
        this.run();
        Atomics.store(control, Word.State, SealState.Done);
      } catch (err) {
        const message = Buffer.from(err instanceof Error ? err.message : String(err), 'utf8').subarray(0, ERROR_MAX_BYTES);
        this.board.set(message, ERROR_AT);
        control[Word.ErrorBytes] = message.byteLength;
        Atomics.store(control, Word.State, SealState.Failed);
      }
      Atomics.notify(control, Word.State);
    }
  }

  /** Seals the posted job's batches from the input buffer into the output buffer. */
  run(): void {
    const control = this.control;
    const board = this.board;
    this.#takeBuffers(control[Word.BuffersSent] as number);
    const key = this.#keyFor(board.subarray(KEY_AT, KEY_AT + KEY_BYTES));
    const keyIdBytes = board.subarray(KEY_ID_AT, KEY_ID_AT + (control[Word.KeyIdBytes] as number));
    const inputAt = control[Word.InputAt] as number;
    const inputBytes = control[Word.InputBytes] as number;
    const batches = control[Word.Batches] as number;
    if (inputAt + inputBytes > this.#input.byteLength) throw new Error(`the job names ${inputBytes} plaintext bytes at ${inputAt}, the input buffer holds ${this.#input.byteLength}`);
    const input = this.#input.subarray(inputAt, inputAt + inputBytes);
    const overhead = envelopeOverhead(keyIdBytes.byteLength);
    let outPos = control[Word.OutputAt] as number;
    let pos = 0;
    for (let i = 0; i < batches; i++) {
      const size = pos + BATCH_LOG_OVERHEAD <= inputBytes ? batchSizeAt(input, pos) : -1;
      if (size < BATCH_LOG_OVERHEAD || pos + size > inputBytes) throw new Error(`batch ${i} of the job does not fit its ${inputBytes} plaintext bytes (at byte ${pos})`);
      if (outPos + size + overhead > this.#output.byteLength) throw new Error(`batch ${i} of the job does not fit the output buffer (${this.#output.byteLength} bytes)`);
      const nonce = board.subarray(NONCES_AT + i * NONCE_BYTES, NONCES_AT + (i + 1) * NONCE_BYTES);
      outPos += sealBatch(input, pos, size, keyIdBytes, key, nonce, this.#output, outPos);
      pos += size;
    }
    if (pos !== inputBytes) throw new Error(`the job's ${batches} batches end at byte ${pos} of its ${inputBytes}`);
  }

  #takeBuffers(sent: number): void {
    while (this.#buffersTaken < sent) {
      const message = receiveMessageOnPort(this.port);
      if (message === undefined) throw new Error(`the job needs buffer message ${sent}, only ${this.#buffersTaken} arrived`);
      const buffers = message.message as SealerBuffers;
      this.#input = new Uint8Array(buffers.input);
      this.#output = new Uint8Array(buffers.output);
      this.#buffersTaken += 1;
    }
  }

  #keyFor(bytes: Uint8Array): GcmKey {
    if (this.#key === null || !bytes.every((b, i) => b === this.#keyBytes[i])) {
      this.#keyBytes.set(bytes);
      this.#key = aesGcm().key(this.#keyBytes.slice());
    }
    return this.#key;
  }
}

/**
 * A seal worker's whole life, on its thread: takes the shared memory its
 * parent gave it (parallel-sealer.ts), says it runs, then serves jobs until
 * told to stop.
 */
export function serveSealJobs(): void {
  const { control, board, port } = workerData as { control: Int32Array; board: Uint8Array; port: MessagePort };
  const side = new SealWorkerSide(control, board, port);
  parentPort?.postMessage('ready');
  side.serve();
}
