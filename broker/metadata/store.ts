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
 * - `readFrom(after, max)` resolves with the durable entries of versions
 *   `after + 1 ..`, at most `max` of them, consecutive and in order (none
 *   when `after` is the latest version or beyond it), as the store applied
 *   them: folding them with `applyChange` onto the image of version `after`
 *   gives the store's image of the last one's version. A broker catches up
 *   from any version, 0 included, however old.
 * - `waitForVersion(after, signal)` resolves with the latest version once it
 *   is greater than `after` (at once if it already is): the wake-up of a long
 *   poll. It rejects with the signal's reason when aborted first, and with
 *   `MetadataStoreClosedError` when the store closes first.
 * - After `close`, `commit`, `readFrom` and `waitForVersion` reject with
 *   `MetadataStoreClosedError`.
 */
import type { MetadataChange, MetadataEntry } from './changes.js';
import type { MetadataImage } from './image.js';

export interface MetadataStore {
  /** The state after every durable change. */
  readonly image: MetadataImage;
  /** Resolves with the version of the last change once all are durable. */
  commit(changes: readonly MetadataChange[], opts?: { expectedVersion?: number }): Promise<number>;
  /** Up to `maxEntries` durable entries after `afterVersion`, in version order. */
  readFrom(afterVersion: number, maxEntries: number): Promise<MetadataEntry[]>;
  /** Resolves with the latest version once it is greater than `afterVersion`. */
  waitForVersion(afterVersion: number, signal?: AbortSignal): Promise<number>;
  close(): Promise<void>;
}

/** Recent entries a store keeps decoded for `readFrom` by default; older ones are read from where the log is kept. */
export const DEFAULT_KEPT_ENTRIES = 1024;

/** The arguments every implementation of `readFrom` refuses: a caller's bug, not a state of the log. */
export function checkReadFrom(afterVersion: number, maxEntries: number): void {
  if (!Number.isSafeInteger(afterVersion) || afterVersion < 0) throw new RangeError(`readFrom: afterVersion must be a version (0 or more), not ${afterVersion}`);
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError(`readFrom: maxEntries must be 1 or more, not ${maxEntries}`);
}

export class MetadataStoreClosedError extends Error {
  override name = 'MetadataStoreClosedError';
  constructor() {
    super('the metadata store is closed');
  }
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
