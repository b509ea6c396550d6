/**
 * A broker's copy of the cluster metadata: the image folded, with the same
 * `applyChange` as the controller's store, from the entries the broker
 * receives (MetadataChanges long polls, or the embedded store directly).
 *
 * Entries must arrive in version order. Entries at or below the cached
 * version are skipped (a poll answered twice, or overlapping a catch-up); an
 * entry beyond the next version means some were missed, and the batch is
 * refused whole with `MetadataGapError` so the caller asks again from
 * `version` rather than build on a hole. A batch is applied all or nothing:
 * an entry that does not fit (an invariant failure) leaves the image as it
 * was.
 *
 * Listeners hear every applied batch once, as (previous image, next image),
 * synchronously and in registration order, after the cache shows `next`. A
 * listener that throws does not keep the others from running; the first
 * error is rethrown to the caller of `apply` once all have run.
 */
import type { MetadataEntry } from './changes.js';
import { applyChange, EMPTY_IMAGE, type MetadataImage } from './image.js';

export type MetadataChangeListener = (previous: MetadataImage, next: MetadataImage) => void;

/** Entries after a version the cache does not have: re-sync with `readFrom(expectedAfter)`. */
export class MetadataGapError extends Error {
  override name = 'MetadataGapError';
  constructor(readonly cachedVersion: number, readonly receivedVersion: number) {
    super(`metadata entry ${receivedVersion} received, but the cache is at version ${cachedVersion}: entries ${cachedVersion + 1} to ${receivedVersion - 1} are missing; read again from version ${cachedVersion}`);
  }
}

export class MetadataCache {
  #image: MetadataImage;
  readonly #listeners = new Set<MetadataChangeListener>();

  constructor(initial: MetadataImage = EMPTY_IMAGE) {
    this.#image = initial;
  }

  get image(): MetadataImage {
    return this.#image;
  }

  /** The version of the last entry applied: the one to read after. */
  get version(): number {
    return this.#image.version;
  }

  /** Applies `entries` (in version order); returns how many were new. */
  apply(entries: readonly MetadataEntry[]): number {
    const previous = this.#image;
    let next = previous;
    let applied = 0;
    for (const entry of entries) {
      if (entry.version <= next.version) continue;
      if (entry.version !== next.version + 1) throw new MetadataGapError(next.version, entry.version);
      next = applyChange(next, entry.change, entry.version);
      applied += 1;
    }
    if (applied === 0) return 0;
    this.#image = next;
    let failure: { error: unknown } | undefined;
    for (const listener of [...this.#listeners]) {
      try {
        listener(previous, next);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
    return applied;
  }

  /** Calls `listener` after every applied batch; returns the unsubscribe. */
  onChange(listener: MetadataChangeListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }
}
