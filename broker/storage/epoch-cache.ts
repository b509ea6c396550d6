/**
 * The leader-epoch cache of one partition: for each leader epoch, the first
 * offset written in it. It answers "where did epoch N end" (a follower that
 * comes back truncates to that instead of trusting its own high watermark:
 * KIP-101 / KIP-279).
 *
 * On disk (`leader-epoch-checkpoint`, replaced atomically), Kafka's text form:
 *
 * ```
 * 0                    format version
 * 2                    number of entries
 * 0 0                  epoch startOffset
 * 3 1200
 * ```
 *
 * Both columns strictly increase. Recovery drops the entries at or after the
 * first re-scanned offset and re-learns them from the batches' epochs.
 */
import { assert } from '../world/assert.js';

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

const FORMAT_VERSION = 0;

export class EpochCache {
  #entries: EpochEntry[] = [];

  get latestEpoch(): number {
    return this.#entries.at(-1)?.epoch ?? -1;
  }

  entries(): readonly EpochEntry[] {
    return this.#entries;
  }

  /** Records that `epoch` starts at `startOffset` if it is newer than the latest; returns whether it changed. */
  assign(epoch: number, startOffset: number): boolean {
    const last = this.#entries.at(-1);
    if (epoch < 0 || (last !== undefined && epoch <= last.epoch)) return false;
    assert(last === undefined || startOffset >= last.startOffset, 'epoch start offsets never decrease', { epoch, startOffset, last });
    if (last !== undefined && startOffset === last.startOffset) {
      // The previous epoch wrote nothing: it is superseded at the same offset.
      this.#entries.pop();
    }
    this.#entries.push({ epoch, startOffset });
    return true;
  }

  /** After truncating the log to `endOffset`: forget epochs that started at or after it. */
  truncateFromEnd(endOffset: number): boolean {
    const before = this.#entries.length;
    while ((this.#entries.at(-1)?.startOffset ?? -1) >= endOffset) this.#entries.pop();
    return this.#entries.length !== before;
  }

  /** After the log was emptied and restarted elsewhere: no epoch is known; returns whether any was. */
  clear(): boolean {
    const had = this.#entries.length > 0;
    this.#entries = [];
    return had;
  }

  /** After the log start moved to `startOffset`: the epoch in force there now starts there. */
  truncateFromStart(startOffset: number): boolean {
    let changed = false;
    while (this.#entries.length >= 2 && (this.#entries[1] as EpochEntry).startOffset <= startOffset) {
      this.#entries.shift();
      changed = true;
    }
    const first = this.#entries[0];
    if (first !== undefined && first.startOffset < startOffset) {
      first.startOffset = startOffset;
      changed = true;
    }
    return changed;
  }

  /**
   * Kafka's OffsetForLeaderEpoch answer (LeaderEpochFileCache.endOffsetFor):
   * the end offset of the largest epoch <= `epoch` (the start of the next
   * one, or `logEndOffset` for the latest), with that epoch; (-1, -1) for a
   * negative epoch, one newer than the latest, or an empty cache. An epoch
   * below every entry (retention dropped older ones) gets itself with the
   * earliest entry's start: the data before it is gone, and the follower
   * must fetch from there.
   */
  endOffsetFor(epoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    const latest = this.latestEpoch;
    if (epoch < 0 || latest < 0) return { epoch: -1, endOffset: -1 };
    if (epoch === latest) return { epoch, endOffset: logEndOffset };
    const higher = this.#entries.findIndex((entry) => entry.epoch > epoch);
    if (higher < 0) return { epoch: -1, endOffset: -1 };
    const higherEntry = this.#entries[higher] as EpochEntry;
    const floor = this.#entries[higher - 1];
    return floor === undefined ? { epoch, endOffset: higherEntry.startOffset } : { epoch: floor.epoch, endOffset: higherEntry.startOffset };
  }

  serialize(): Uint8Array {
    const lines = [String(FORMAT_VERSION), String(this.#entries.length), ...this.#entries.map((e) => `${e.epoch} ${e.startOffset}`)];
    return new TextEncoder().encode(lines.join('\n') + '\n');
  }

  /** Parses a checkpoint; throws an Error that says what is wrong (the caller decides what to do). */
  static parse(data: Uint8Array): EpochCache {
    const lines = new TextDecoder().decode(data).split('\n').filter((line) => line.length > 0);
    if (lines[0] !== String(FORMAT_VERSION)) throw new Error(`unsupported leader-epoch-checkpoint version '${lines[0]}'`);
    const count = Number(lines[1]);
    if (!Number.isSafeInteger(count) || count !== lines.length - 2) throw new Error(`leader-epoch-checkpoint says ${lines[1]} entries but has ${lines.length - 2}`);
    const cache = new EpochCache();
    for (const line of lines.slice(2)) {
      const match = /^(\d+) (\d+)$/.exec(line);
      if (match === null) throw new Error(`bad leader-epoch-checkpoint line '${line}'`);
      const epoch = Number(match[1]);
      const startOffset = Number(match[2]);
      const last = cache.#entries.at(-1);
      if (last !== undefined && (epoch <= last.epoch || startOffset < last.startOffset)) throw new Error(`leader-epoch-checkpoint entries out of order at '${line}'`);
      cache.#entries.push({ epoch, startOffset });
    }
    return cache;
  }
}
