/**
 * Broker sessions, as the controller keeps them: when each registered broker
 * (in which incarnation) was last heard from, on the injected Clock. A
 * session is live while its last heartbeat (or registration) is younger
 * than `broker.session.timeout.ms`; the controller fences a broker whose
 * session expired.
 *
 * Sessions live in memory only: a controller that restarts gives every
 * broker the image shows unfenced a fresh session (`startAll`), so one that
 * died meanwhile is fenced one timeout later, and one that lives heartbeats
 * on.
 */
import type { Clock } from '../world/clock.js';

interface Session {
  readonly incarnationId: string;
  lastHeardMs: number;
}

export class BrokerSessions {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #sessions = new Map<number, Session>();

  constructor(clock: Clock, timeoutMs: number) {
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
  }

  /** A registration or a heartbeat of `brokerId` in `incarnationId`. */
  touch(brokerId: number, incarnationId: string): void {
    const session = this.#sessions.get(brokerId);
    if (session !== undefined && session.incarnationId === incarnationId) session.lastHeardMs = this.#clock.nowMs();
    else this.#sessions.set(brokerId, { incarnationId, lastHeardMs: this.#clock.nowMs() });
  }

  /** The incarnation holding a live session of `brokerId`, or null. */
  liveIncarnation(brokerId: number): string | null {
    const session = this.#sessions.get(brokerId);
    return session !== undefined && !this.#expired(session) ? session.incarnationId : null;
  }

  /** Brokers whose session expired; their sessions end here (a later heartbeat starts none: they must register). */
  takeExpired(): number[] {
    const expired: number[] = [];
    for (const [id, session] of this.#sessions) {
      if (!this.#expired(session)) continue;
      expired.push(id);
      this.#sessions.delete(id);
    }
    return expired.sort((a, b) => a - b);
  }

  end(brokerId: number): void {
    this.#sessions.delete(brokerId);
  }

  has(brokerId: number): boolean {
    return this.#sessions.has(brokerId);
  }

  #expired(session: Session): boolean {
    return this.#clock.nowMs() - session.lastHeardMs > this.#timeoutMs;
  }
}
