/**
 * Broker sessions, as the controller keeps them: when each registered broker
 * (in which incarnation) was last heard from, on the injected Clock. A
 * session is live while its last heartbeat (or registration) is younger
 * than `broker.session.timeout.ms`; the controller fences a broker whose
 * session expired.
 *
 * A broker whose connection closed (its process died: the kernel closes
 * its sockets) gets a shorter deadline (`expireWithin`), cleared by its
 * next heartbeat.
 *
 * Sessions live in memory only: a controller that restarts gives every
 * broker the image shows unfenced a fresh session (`startAll`), so one that
 * died meanwhile is fenced one timeout later, and one that lives heartbeats
 * on.
 */
import { monotonicMs, type Clock } from '../world/clock.js';

interface Session {
  readonly incarnationId: string;
  lastHeardMs: number;
  /** Set when the broker's connection closed: the session ends then, unless it is heard from again first. */
  cutoffMs: number | null;
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
    if (session !== undefined && session.incarnationId === incarnationId) {
      session.lastHeardMs = monotonicMs(this.#clock);
      session.cutoffMs = null;
    } else {
      this.#sessions.set(brokerId, { incarnationId, lastHeardMs: monotonicMs(this.#clock), cutoffMs: null });
    }
  }

  /**
   * Ends `incarnationId`'s session of `brokerId` within `withinMs` unless a
   * touch comes first (its connection closed). False when it holds no live
   * session, or one that ends sooner anyway.
   */
  expireWithin(brokerId: number, incarnationId: string, withinMs: number): boolean {
    const session = this.#sessions.get(brokerId);
    if (session === undefined || session.incarnationId !== incarnationId || this.#expired(session)) return false;
    const cutoff = monotonicMs(this.#clock) + withinMs;
    if (cutoff >= this.#endMs(session)) return false;
    session.cutoffMs = cutoff;
    return true;
  }

  /** The incarnation holding a live session of `brokerId`, or null. */
  liveIncarnation(brokerId: number): string | null {
    const session = this.#sessions.get(brokerId);
    return session !== undefined && !this.#expired(session) ? session.incarnationId : null;
  }

  /** Brokers whose session expired, and whether it ended early for a closed connection; their sessions end here. */
  takeExpired(): { brokerId: number; disconnected: boolean }[] {
    const expired: { brokerId: number; disconnected: boolean }[] = [];
    for (const [brokerId, session] of this.#sessions) {
      if (!this.#expired(session)) continue;
      expired.push({ brokerId, disconnected: session.cutoffMs !== null && session.cutoffMs < session.lastHeardMs + this.#timeoutMs });
      this.#sessions.delete(brokerId);
    }
    return expired.sort((a, b) => a.brokerId - b.brokerId);
  }

  end(brokerId: number): void {
    this.#sessions.delete(brokerId);
  }

  has(brokerId: number): boolean {
    return this.#sessions.has(brokerId);
  }

  #expired(session: Session): boolean {
    return monotonicMs(this.#clock) > this.#endMs(session);
  }

  #endMs(session: Session): number {
    const timedOut = session.lastHeardMs + this.#timeoutMs;
    return session.cutoffMs === null ? timedOut : Math.min(timedOut, session.cutoffMs);
  }
}
