/**
 * Opening encrypted batches off the event loop. AES-256-GCM through Node's
 * crypto runs at about 1-1.5 GB/s per core (cipher set-up, the output buffer
 * each `update` allocates, the CRC of the plaintext), which on the read
 * path cost consumers of an encrypted topic about half their throughput
 * when it ran on the broker's one JavaScript thread (aes-gcm.ts's native
 * implementation is some 2-3x cheaper; large reads still go here). A fetch's read buffer
 * is shared memory (handlers/read-buffers.ts), so a worker thread opens
 * the batches where they lie: nothing is copied or transferred, and the
 * event loop only parses the key ids, posts the request and waits.
 *
 * Each opened batch stays where its envelope began (the plaintext is
 * shorter); the reply gives each one's plaintext size. A batch that does
 * not parse or authenticate stops the request: the reply names it, and the
 * caller reports it as the same CorruptLogError the inline path throws.
 * Keys are resolved by the caller, so a missing key is still the caller's
 * EncryptionKeyError and the worker never sees a key provider.
 */
import { Piscina } from 'piscina';
import { aesGcm } from './aes-gcm.js';
import { EnvelopeError, envelopeInfo, isEncryptedBatch, openBatch } from './batch-envelope.js';

export interface OpenRequest {
  /** The read's buffer: the batches lie in it one after the other from `offset`. */
  shared: SharedArrayBuffer;
  offset: number;
  /** Byte size of each batch as read (envelope form or plain). */
  sizes: number[];
  /** Key bytes by id, for every key id the envelopes name. */
  keys: Record<string, Uint8Array>;
}

export type OpenReply = { kind: 'opened'; sizes: number[] } | { kind: 'corrupt'; index: number; message: string };

/** Opens the batches of `request` in place (on whatever thread calls it: the worker, or a test). */
export function runOpenRequest(request: OpenRequest): OpenReply {
  const bytes = new Uint8Array(request.shared);
  const gcm = aesGcm();
  const keyObjects = new Map(Object.entries(request.keys).map(([id, key]) => [id, gcm.key(key)]));
  const sizes: number[] = [];
  let pos = request.offset;
  for (const [index, size] of request.sizes.entries()) {
    if (!isEncryptedBatch(bytes, pos)) {
      sizes.push(size);
    } else {
      try {
        const { keyId } = envelopeInfo(bytes, pos, size);
        const key = keyObjects.get(keyId);
        // The caller sends every key the envelopes name: a missing one is a bug there, not damage here.
        if (key === undefined) throw new Error(`no key '${keyId}' was sent to open the batch at byte ${pos - request.offset} of the read`);
        sizes.push(openBatch(bytes, pos, size, key, bytes, pos));
      } catch (err) {
        if (err instanceof EnvelopeError) return { kind: 'corrupt', index, message: err.message };
        throw err;
      }
    }
    pos += size;
  }
  return { kind: 'opened', sizes };
}

/** Where reads of encrypted topics open their batches: a few worker threads, started on first use. */
export interface BatchOpener {
  run(request: OpenRequest): Promise<OpenReply>;
  close(): Promise<void>;
}

const workerExtension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

export class WorkerBatchOpener implements BatchOpener {
  readonly #pool: Piscina;

  constructor(readonly threads: number, idleTimeoutMs = 30_000) {
    // Shared memory is shared by the message itself: no transfer list (a SharedArrayBuffer cannot be transferred).
    const filename = new URL(`../workers/open-worker${workerExtension}`, import.meta.url).href;
    this.#pool = new Piscina({ filename, minThreads: 0, maxThreads: threads, idleTimeout: idleTimeoutMs });
  }

  run(request: OpenRequest): Promise<OpenReply> {
    return this.#pool.run(request) as Promise<OpenReply>;
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
