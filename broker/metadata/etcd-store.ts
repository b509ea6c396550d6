/**
 * The `etcd` metadata store: the cluster's metadata log kept in etcd, so
 * every broker of the cluster can read it and the controller can run on any
 * of them (the HA controller, broker/cluster/etcd-candidacy.ts).
 *
 * Layout under the cluster's prefix (`/runnel/<cluster name>/`):
 *
 * ```
 * <prefix>log/<version, 16 digits>  one entry: u8 schema version + changes.ts's Avro payload
 * <prefix>last                     the last version, in decimal
 * ```
 *
 * Zero-padded versions make a key range read come back in version order.
 *
 * A commit is ONE etcd transaction: compare `last` with the version this
 * store's image is at (or its absence, for version 0) and, for a
 * controller's store, that its election key still exists with the create
 * revision it had when it won (`fence`); then put every entry and `last`.
 * So two writers can never both append version n, and a deposed controller
 * (its lease expired, its key deleted, another elected) has its writes
 * refused by etcd itself rather than by its own belief that it still leads.
 * A refusal for the fence is `MetadataStoreFencedError`; one for `last`
 * means another writer committed first: with `expectedVersion` that is
 * `StaleMetadataError`; without, the store catches up and tries again.
 *
 * Every store follows the log: a range read when it opens, then a watch from
 * the revision after it. Entries are applied in version order with
 * `applyChange`; an entry beyond the next version (a watch that restarted
 * after a gap) makes the store read the missing range. `readFrom` and
 * `waitForVersion` answer from what was applied, which is only ever what a
 * quorum of etcd committed. The most recent `keptEntries` entries are kept
 * decoded in memory, which serves the brokers that keep up; an older range
 * is read from etcd again (its keys never change), so a store's memory does
 * not grow with the log, whose ISR changes alone add entries for as long as
 * the cluster runs.
 *
 * etcd refuses requests above 1.5 MiB by default (`--max-request-bytes`): a
 * commit whose entries pass `MAX_COMMIT_BYTES` is refused whole with a
 * sentence saying so, never split (its changes must land together or not).
 */
import { Range, type Etcd3, type IKeyValue, type IRangeResponse } from 'etcd3';
import { assert } from '../world/assert.js';
import type { Clock } from '../world/clock.js';
import { decodeEntry, encodeEntry, type MetadataChange, type MetadataEntry } from './changes.js';
import { applyChange, EMPTY_IMAGE, type MetadataImage } from './image.js';
import { DEFAULT_KEPT_ENTRIES, MetadataStoreClosedError, StaleMetadataError, checkReadFrom, type MetadataStore } from './store.js';
import { VersionWaiters } from './version-waiters.js';
import { SerialQueue } from '../serial-queue.js';

/** Well below etcd's default 1.5 MiB request limit, leaving room for keys and the transaction's framing. */
export const MAX_COMMIT_BYTES = 1024 * 1024;
/** Keys per range read while catching up. */
const READ_PAGE = 500;
/** Attempts of a commit without expectedVersion that keeps losing to other writers. */
const COMMIT_ATTEMPTS = 5;

/** The election key a controller's commits are conditional on. */
export interface WriteFence {
  key: string;
  createRevision: string;
}

/** The commit was refused because this store's writer is no longer the elected controller. */
export class MetadataStoreFencedError extends Error {
  override name = 'MetadataStoreFencedError';
}

/** A commit too large for one etcd transaction. */
export class MetadataCommitTooLargeError extends Error {
  override name = 'MetadataCommitTooLargeError';
}

export interface EtcdStoreOptions {
  client: Etcd3;
  /** The cluster's key prefix, ending in `/`. */
  prefix: string;
  clock: Clock;
  /** With true, a commit without a fence is refused: only an elected controller writes. */
  requireFence?: boolean;
  /** Told of a watch that failed and restarted (for the broker's log). */
  onWatchError?: (error: Error) => void;
  /** Recent entries kept decoded for `readFrom`; older ones are read from etcd. */
  keptEntries?: number;
}

export function logKey(prefix: string, version: number): string {
  return `${prefix}log/${String(version).padStart(16, '0')}`;
}

export class EtcdMetadataStore implements MetadataStore {
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #clock: Clock;
  readonly #requireFence: boolean;
  readonly #onWatchError: (error: Error) => void;
  #image: MetadataImage = EMPTY_IMAGE;
  readonly #keptEntries: number;
  /** The most recent applied entries, consecutive, the last the image's version (at most twice #keptEntries: trimmed in runs). */
  #recent: MetadataEntry[] = [];
  readonly #waiters = new VersionWaiters();
  readonly #queue = new SerialQueue();
  #catchingUp: Promise<void> | null = null;
  #watcher: { cancel(): Promise<void> } | null = null;
  #fence: WriteFence | null = null;
  /** Told when etcd refused a commit for the fence: the writer was deposed. */
  onFenced: (why: string) => void = () => undefined;
  #closed = false;

  private constructor(opts: EtcdStoreOptions) {
    this.#client = opts.client;
    this.#prefix = opts.prefix;
    this.#clock = opts.clock;
    this.#requireFence = opts.requireFence === true;
    this.#onWatchError = opts.onWatchError ?? (() => undefined);
    this.#keptEntries = opts.keptEntries ?? DEFAULT_KEPT_ENTRIES;
    assert(Number.isSafeInteger(this.#keptEntries) && this.#keptEntries >= 1, 'an etcd store keeps at least one entry', { keptEntries: this.#keptEntries });
  }

  /** Reads the whole log under `prefix` and follows it from there. */
  static async open(opts: EtcdStoreOptions): Promise<EtcdMetadataStore> {
    assert(opts.prefix.endsWith('/'), 'an etcd key prefix ends with /', { prefix: opts.prefix });
    const store = new EtcdMetadataStore(opts);
    const revision = await store.#readAfter();
    await store.#watchFrom(revision + 1n);
    return store;
  }

  get image(): MetadataImage {
    return this.#image;
  }

  /** The election key this store's commits are conditional on (null: none, or refused with requireFence). */
  set fence(fence: WriteFence | null) {
    this.#fence = fence;
  }

  get fence(): WriteFence | null {
    return this.#fence;
  }

  commit(changes: readonly MetadataChange[], opts: { expectedVersion?: number } = {}): Promise<number> {
    return this.#queue.run(() => this.#commitNow(changes, opts.expectedVersion));
  }

  async readFrom(afterVersion: number, maxEntries: number): Promise<MetadataEntry[]> {
    checkReadFrom(afterVersion, maxEntries);
    if (this.#closed) throw new MetadataStoreClosedError();
    // Applied entries only: etcd may already hold later ones this store has not applied.
    const last = Math.min(this.#image.version, afterVersion + maxEntries);
    if (last <= afterVersion) return [];
    const firstKept = this.#recent[0]?.version ?? this.#image.version + 1;
    if (afterVersion + 1 >= firstKept) return this.#recent.slice(afterVersion + 1 - firstKept, last + 1 - firstKept);
    return this.#readRange(afterVersion + 1, last);
  }

  /** Entries `first..last` from etcd (applied ones: their keys are written once and never change). */
  async #readRange(first: number, last: number): Promise<MetadataEntry[]> {
    const entries: MetadataEntry[] = [];
    while (entries.length < last - first + 1) {
      const from = first + entries.length;
      const response = await this.#logPage(from, logKey(this.#prefix, last + 1), Math.min(READ_PAGE, last - from + 1));
      const page = response.kvs.map((kv) => entryOf(kv));
      // etcd's content is not ours to trust blindly: someone may have deleted or rewritten keys under the prefix.
      const wrong = page.findIndex((entry, i) => entry.version !== from + i);
      if (page.length === 0 || wrong >= 0) {
        throw new Error(`metadata entry ${wrong >= 0 ? from + wrong : from} is missing from etcd under ${this.#prefix}log/ (or holds another version), though this store applied it: were keys under the prefix deleted?`);
      }
      entries.push(...page);
    }
    return entries;
  }

  waitForVersion(afterVersion: number, signal?: AbortSignal): Promise<number> {
    if (this.#closed) return Promise.reject(new MetadataStoreClosedError());
    return this.#waiters.wait(this.#image.version, afterVersion, signal);
  }

  /** Reads from etcd whatever this store has not applied yet; resolves with the latest version. */
  async catchUp(): Promise<number> {
    await this.#readAfterOnce();
    return this.#image.version;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiters.close(new MetadataStoreClosedError());
    await this.#queue.idle();
    await this.#watcher?.cancel().catch(() => undefined);
  }

  async #commitNow(changes: readonly MetadataChange[], expectedVersion: number | undefined): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw new MetadataStoreClosedError();
      const fence = this.#fence;
      if (this.#requireFence && fence === null) throw new MetadataStoreFencedError('this node is not the elected controller: it commits no metadata');
      if (expectedVersion !== undefined && expectedVersion !== this.#image.version) throw new StaleMetadataError(expectedVersion, this.#image.version);
      const base = this.#image;
      const entries = this.#entriesFor(base, changes);
      const lastKey = `${this.#prefix}last`;
      const values = entries.map((entry) => valueOf(entry));
      const bytes = values.reduce((sum, value) => sum + value.byteLength, 0);
      if (bytes > MAX_COMMIT_BYTES) {
        throw new MetadataCommitTooLargeError(`${changes.length} metadata change(s) take ${bytes} bytes, more than the ${MAX_COMMIT_BYTES} bytes one etcd transaction carries here (etcd refuses requests above --max-request-bytes, 1.5 MiB by default); make the change smaller (fewer partitions or settings at once)`);
      }
      let txn = base.version === 0 ? this.#client.if(lastKey, 'Version', '==', 0) : this.#client.if(lastKey, 'Value', '==', String(base.version));
      if (fence !== null) txn = txn.and(fence.key, 'Create', '==', fence.createRevision);
      const result = await txn
        .then(...entries.map((entry, i) => this.#client.put(logKey(this.#prefix, entry.version)).value(values[i]!)), this.#client.put(lastKey).value(String(entries.at(-1)?.version ?? base.version)))
        .else(this.#client.get(lastKey), ...(fence === null ? [] : [this.#client.get(fence.key)]))
        .commit();
      if (result.succeeded) {
        this.#apply(entries);
        return entries.at(-1)?.version ?? base.version;
      }
      const fenceKv = fence === null ? null : result.responses[1]?.response_range?.kvs?.[0];
      if (fence !== null && (fenceKv === undefined || fenceKv === null || String(fenceKv.create_revision) !== fence.createRevision)) {
        const refused = new MetadataStoreFencedError(`this node is no longer the elected controller (its election key ${fence.key} from revision ${fence.createRevision} is gone): etcd refused its metadata commit`);
        this.onFenced(refused.message);
        throw refused;
      }
      await this.#readAfterOnce();
      if (expectedVersion !== undefined) throw new StaleMetadataError(expectedVersion, this.#image.version);
      if (attempt >= COMMIT_ATTEMPTS) throw new StaleMetadataError(base.version, this.#image.version);
    }
  }

  /** The entries `changes` make on `base`; throws (changing nothing) when one does not fit. */
  #entriesFor(base: MetadataImage, changes: readonly MetadataChange[]): MetadataEntry[] {
    let image = base;
    const timestampMs = this.#clock.nowMs();
    return changes.map((change) => {
      image = applyChange(image, change, image.version + 1);
      return { version: image.version, timestampMs, change };
    });
  }

  /** Applies `entries` (consecutive, in order); those at or below the image's version are already applied. */
  #apply(entries: readonly MetadataEntry[]): void {
    let image = this.#image;
    for (const entry of entries) {
      if (entry.version <= image.version) continue;
      assert(entry.version === image.version + 1, 'metadata entries are applied in version order', { version: entry.version, image: image.version });
      image = applyChange(image, entry.change, entry.version);
      this.#recent.push(entry);
    }
    if (this.#recent.length > 2 * this.#keptEntries) this.#recent = this.#recent.slice(-this.#keptEntries);
    if (image === this.#image) return;
    this.#image = image;
    this.#waiters.reached(image.version);
  }

  /** One catch-up at a time; a second caller waits for the running one, then reads again. */
  async #readAfterOnce(): Promise<void> {
    while (this.#catchingUp !== null) await this.#catchingUp;
    this.#catchingUp = this.#readAfter().then(() => undefined);
    try {
      await this.#catchingUp;
    } finally {
      this.#catchingUp = null;
    }
  }

  /** Reads and applies every entry after the image's version; resolves with the etcd revision of the first read. */
  async #readAfter(): Promise<bigint> {
    let firstRevision: bigint | null = null;
    for (;;) {
      const response = await this.#logPage(this.#image.version + 1, `${this.#prefix}log0`, READ_PAGE); // '0' follows '/': the end of the log's keys
      firstRevision ??= BigInt(response.header.revision);
      const kvs = response.kvs;
      this.#apply(kvs.map((kv) => entryOf(kv)));
      if (!response.more || kvs.length === 0) return firstRevision;
    }
  }

  /** Up to `limit` log keys from version `from` up to (not including) the key `endKey`, in version order. */
  #logPage(from: number, endKey: string, limit: number): Promise<IRangeResponse> {
    return this.#client.getAll().inRange(new Range(logKey(this.#prefix, from), endKey)).limit(limit).sort('Key', 'Ascend').exec();
  }

  async #watchFrom(revision: bigint): Promise<void> {
    const watcher = await this.#client.watch().prefix(`${this.#prefix}log/`).startRevision(String(revision)).create();
    this.#watcher = watcher;
    // One watch response carries whole revisions (a transaction's puts together): applied as one batch, so a
    // multi-change commit becomes visible at once, as it does in the store that made it.
    watcher.on('data', (response) => {
      const entries = response.events.filter((event) => event.type === 'Put').map((event) => entryOf(event.kv));
      const fresh = entries.filter((entry) => entry.version > this.#image.version);
      if (fresh.length === 0) return;
      if (fresh[0]!.version === this.#image.version + 1) this.#apply(fresh);
      else void this.#readAfterOnce().catch((error: unknown) => this.#onWatchError(error as Error));
    });
    watcher.on('error', (error) => {
      // The watch is gone (etcd cancelled it, e.g. compacted past it): read what was missed and watch again.
      this.#onWatchError(error);
      if (this.#closed) return;
      void this.#readAfterOnce().then(async () => {
        if (!this.#closed) await this.#watchFrom(BigInt(watcher.lastRevision() ?? 0) + 1n);
      }).catch((again: unknown) => this.#onWatchError(again as Error));
    });
  }
}

function valueOf(entry: MetadataEntry): Buffer {
  const { schemaVersion, bytes } = encodeEntry(entry);
  return Buffer.concat([Buffer.from([schemaVersion]), bytes]);
}

function entryOf(kv: IKeyValue): MetadataEntry {
  const value = kv.value;
  return decodeEntry(value.subarray(1), value[0]!);
}
