/**
 * A record handed to this member (QueueMessage in queue-types.ts). Its
 * settlements go through the queue's acknowledgements (batched on the
 * wire); the message only guards its own state: once acked, released or
 * rejected it is settled, and a second settlement or an extend is refused
 * at once rather than sent to be refused by the coordinator.
 */
import { AcknowledgeType } from '../../protocol/messages.js';
import { invalidArgument, type RunnelError } from '../errors.js';
import type { Message } from '../types.js';
import type { AckKind, AckWaiter } from './acknowledgements.js';
import { bounded } from './options.js';
import type { QueueMessage } from './queue-types.js';

/** What a message needs of its queue. */
export interface Settler {
  /** Queues an acknowledgement of `message`; `waiter` (if any) hears how it went. */
  settle(message: ShareMessage, kind: AckKind, waiter: AckWaiter | null): void;
  nowMs(): number;
  /** The group's visibility timeout (what a renew with lockMs -1 gives). */
  visibilityTimeoutMs(): number;
}

/** Every ack() asks the same (Acknowledgements.add copies it): one object, not one per record. */
const ACCEPT: Readonly<AckKind> = Object.freeze({ type: AcknowledgeType.ACCEPT, delayMs: 0, lockMs: -1, reason: null });

export class ShareMessage implements QueueMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, Buffer | null>;
  readonly headerList: readonly (readonly [string, Buffer | null])[];
  readonly deliveryCount: number;
  #lockExpiresAtMs: number;
  #settled = false;
  readonly #settler: Settler;

  constructor(m: Message, deliveryCount: number, lockExpiresAtMs: number, settler: Settler) {
    this.topic = m.topic;
    this.partition = m.partition;
    this.offset = m.offset;
    this.timestamp = m.timestamp;
    this.key = m.key;
    this.value = m.value;
    this.headers = m.headers;
    this.headerList = m.headerList;
    this.deliveryCount = deliveryCount;
    this.#lockExpiresAtMs = lockExpiresAtMs;
    this.#settler = settler;
  }

  get lockExpiresAtMs(): number {
    return this.#lockExpiresAtMs;
  }

  get settled(): boolean {
    return this.#settled;
  }

  ack(): Promise<void> {
    return this.#settle('ack()', ACCEPT);
  }

  release(opts: { delayMs?: number; reason?: string } = {}): Promise<void> {
    try {
      const delayMs = bounded('release delayMs', opts?.delayMs ?? 0, 0);
      return this.#settle('release()', { type: AcknowledgeType.RELEASE, delayMs, lockMs: -1, reason: reasonOf(opts?.reason) });
    } catch (err) {
      return Promise.reject(err as RunnelError);
    }
  }

  reject(reason?: string): Promise<void> {
    try {
      return this.#settle('reject()', { type: AcknowledgeType.REJECT, delayMs: 0, lockMs: -1, reason: reasonOf(reason) });
    } catch (err) {
      return Promise.reject(err as RunnelError);
    }
  }

  extend(ms?: number): Promise<void> {
    if (this.#settled) return Promise.reject(this.#alreadySettled('extend()'));
    let lockMs: number;
    try {
      lockMs = ms === undefined ? -1 : bounded('extend ms', ms, 1);
    } catch (err) {
      return Promise.reject(err as RunnelError);
    }
    const sentAtMs = this.#settler.nowMs();
    return new Promise<void>((resolve, reject) => {
      this.#settler.settle(this, { type: AcknowledgeType.RENEW, delayMs: 0, lockMs, reason: null }, {
        resolve: () => {
          // Measured from when it was asked: the coordinator's "from now" came later.
          if (!this.#settled) this.#lockExpiresAtMs = Math.max(this.#lockExpiresAtMs, sentAtMs + (lockMs === -1 ? this.#settler.visibilityTimeoutMs() : lockMs));
          resolve();
        },
        reject,
      });
    });
  }

  /**
   * Settles without a promise (the loop's auto-ack, close()'s releases): a
   * failure reaches `onError` instead. False if it was settled already.
   */
  settleQuietly(kind: AckKind, onError: (err: RunnelError) => void): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#settler.settle(this, kind, { resolve() {}, reject: onError });
    return true;
  }

  #settle(what: string, kind: AckKind): Promise<void> {
    if (this.#settled) return Promise.reject(this.#alreadySettled(what));
    this.#settled = true;
    return new Promise<void>((resolve, reject) => this.#settler.settle(this, kind, { resolve, reject }));
  }

  #alreadySettled(what: string): RunnelError {
    return invalidArgument(`${what} of ${this.topic}-${this.partition} offset ${this.offset}: the message was settled already (ack, release or reject are given once)`);
  }
}

function reasonOf(reason: unknown): string | null {
  if (reason === undefined || reason === null) return null;
  if (typeof reason !== 'string') throw invalidArgument(`a reason must be a string, got ${typeof reason}`);
  return reason;
}
