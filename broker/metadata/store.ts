/**
 * Where the cluster metadata lives: one interface, so the embedded `local`
 * store (a change log on the broker's own disk, `local-store.ts`) and a later
 * `etcd` store (changes as conditional transactions on a key range, watched
 * by every broker) are interchangeable behind the controller.
 *
 * Contract for every implementation:
 * - `commit` appends the changes, in order, as consecutive versions, and
 *   resolves only once they are durable (fsynced, or committed by a quorum);
 *   only then does `image` show them. Concurrent commits are applied one after
 *   the other, in call order.
 * - With `expectedVersion`, the commit fails with `StaleMetadataError` unless
 *   the log's last version is exactly that one when the commit is applied (an
 *   etcd transaction's compare; the controller's check-then-commit guard).
 * - A failed commit leaves `image` unchanged.
 */
import type { MetadataChange } from './changes.js';
import type { MetadataImage } from './image.js';

export interface MetadataStore {
  /** The state after every durable change. */
  readonly image: MetadataImage;
  /** Resolves with the version of the last change once all are durable. */
  commit(changes: readonly MetadataChange[], opts?: { expectedVersion?: number }): Promise<number>;
  close(): Promise<void>;
}

export class StaleMetadataError extends Error {
  override name = 'StaleMetadataError';
  constructor(readonly expectedVersion: number, readonly actualVersion: number) {
    super(`metadata changed concurrently: expected version ${expectedVersion}, found ${actualVersion}`);
  }
}

/** The metadata log cannot be read back: refuse to start rather than guess the topics. */
export class CorruptMetadataError extends Error {
  override name = 'CorruptMetadataError';
  constructor(message: string, readonly file: string, readonly position: number, options?: { cause?: unknown }) {
    super(`${message} (${file}, byte ${position})`, options);
  }
}
