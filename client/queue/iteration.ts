/**
 * `for await (const msg of queue)`: one message in hand at a time.
 *
 * - While the loop body runs, the message's lock is renewed before it runs
 *   out (when half of what is left has passed), so a slow handler keeps
 *   its record (autoExtend, default on).
 * - When the loop asks for the next message, the one in hand is acked
 *   unless the body settled it itself (ack, release or reject). An
 *   auto-ack that the coordinator refuses (the lock had expired) is logged:
 *   the record may be processed again.
 * - When the loop ends early (break, return or a throw in the body) the
 *   message in hand is RELEASED, not acked: the loop cannot tell a break
 *   after success from a throw, and at-least-once must not lose a record.
 *   Ack it before breaking to keep it done. Messages fetched and not yet
 *   handed out are released too.
 * - The loop ends when the queue is closed; a fatal error (the group
 *   refused this member) is thrown from it.
 */
import { AcknowledgeType } from '../../protocol/messages.js';
import type { ClientClock, TimerHandle } from '../clock.js';
import type { RunnelError } from '../errors.js';
import type { Logger } from '../types.js';
import type { AckKind } from './acknowledgements.js';
import type { ShareMessage } from './queue-message.js';
import type { QueueMessage } from './queue-types.js';

export interface IterationSource {
  /** The next batch ([] when none came within the wait, or the queue closed). */
  receive(): Promise<QueueMessage[]>;
  closed(): boolean;
  autoExtend: boolean;
  clock: ClientClock;
  logger: Logger;
  group: string;
}

const ACCEPT: AckKind = { type: AcknowledgeType.ACCEPT, delayMs: 0, lockMs: -1, reason: null };
const RELEASE: AckKind = { type: AcknowledgeType.RELEASE, delayMs: 0, lockMs: -1, reason: null };

/** No renew is sent sooner than this after the previous one (a lock nearly gone is renewed at once, once). */
const MIN_RENEW_GAP_MS = 10;

export async function* iterate(src: IterationSource): AsyncGenerator<QueueMessage, void, undefined> {
  let batch: ShareMessage[] = [];
  let next = 0;
  let current: ShareMessage | null = null;
  let extender: AutoExtender | null = null;
  const warn = (what: string) => (err: RunnelError): void => src.logger.warn({ group: src.group, err: err.message }, what);
  try {
    for (;;) {
      if (current !== null) {
        extender?.stop();
        current.settleQuietly(ACCEPT, warn('auto-ack refused; the record may be processed again'));
        current = null;
      }
      if (next >= batch.length) {
        if (src.closed()) return;
        batch = (await src.receive()) as ShareMessage[];
        next = 0;
        continue;
      }
      current = batch[next++]!;
      if (src.autoExtend) extender = new AutoExtender(current, src.clock, warn('auto-extend refused; the record may be redelivered while it is processed'));
      yield current;
    }
  } finally {
    extender?.stop();
    current?.settleQuietly(RELEASE, warn('release on leaving the loop refused'));
    for (let i = next; i < batch.length; i++) batch[i]!.settleQuietly(RELEASE, warn('release of a message not handed out refused'));
  }
}

/** Renews one message's lock while it is in hand. */
class AutoExtender {
  #timer: TimerHandle | null = null;
  #stopped = false;

  constructor(readonly message: ShareMessage, readonly clock: ClientClock, readonly onError: (err: RunnelError) => void) {
    this.#arm();
  }

  #arm(): void {
    if (this.#stopped) return;
    const leftMs = this.message.lockExpiresAtMs - this.clock.nowMs();
    this.#timer = this.clock.schedule(Math.max(MIN_RENEW_GAP_MS, Math.floor(leftMs / 2)), () => {
      this.#timer = null;
      if (this.#stopped || this.message.settled) return;
      this.message.extend().then(() => this.#arm(), (err: RunnelError) => {
        if (!this.#stopped && !this.message.settled) this.onError(err);
      });
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }
}
