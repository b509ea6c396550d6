/**
 * An accepted connection for broker tests in process: what the broker
 * writes is kept frame by frame, pause/resume and destroy are recorded, and
 * the test delivers bytes through `events.data`.
 */
import type { ConnectionEvents, TransportConnection } from '../../broker/world/transport.js';

export class FakeTransport implements TransportConnection {
  constructor(readonly remoteAddress = 'test:1') {}
  events!: ConnectionEvents;
  readonly written: Uint8Array[] = [];
  paused = false;
  destroyed = false;
  bufferedBytes = 0;
  attach(events: ConnectionEvents): void {
    this.events = events;
  }
  write(chunks: readonly Uint8Array[]): boolean {
    this.written.push(Buffer.concat(chunks));
    return true;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  destroy(): void {
    this.destroyed = true;
    // A connection refused at accept is destroyed before anything attached.
    this.events?.close();
  }
  end(): void {
    this.destroy();
  }
  /** Correlation ids of the responses written so far, in write order. */
  correlationIds(): number[] {
    return this.written.map((frame) => Buffer.from(frame).readInt32BE(4));
  }
}
