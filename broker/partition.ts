/**
 * One partition as the request handlers see it: the storage log plus the
 * high watermark, the boundary between what a consumer may read and what it
 * may not yet.
 *
 * On one node the high watermark is the written end offset (what is in the
 * segment files, so a process crash keeps it: the log end, except for a
 * moment after a roll, while the new segment waits in memory for the old one
 * to be durable, see storage/pending-segment.ts), and on a topic with
 * `fsync=always` the durable end offset: a consumer never reads a record
 * that a crash could still take back, and a producer's ack (acks 1 or all)
 * waits for the same point. It only moves forward, even when a topic
 * switches from `fsync=interval` to `always`.
 *
 * Whoever waits for new data (a long-polling fetch) subscribes with
 * `onAdvance`; the partition calls every subscriber synchronously when the
 * high watermark moves, so nothing polls. `visibleBytesTotal` counts the
 * bytes that have become readable since the partition was opened, which lets
 * a waiting fetch tell whether `minBytes` can be met without reading.
 *
 * A partition whose log could not be opened (a corrupt segment, a failing
 * disk) is still listed, so clients get CORRUPT_SEGMENT (corruption: an
 * operator must run `runnel recover`) or KAFKA_STORAGE_ERROR (a failing
 * disk) for it on every request, instead of UNKNOWN_TOPIC_OR_PARTITION, and
 * the rest of the broker serves on.
 *
 * Its role (leader or follower, with the leader's id and the leader epoch)
 * is set by the replica manager from the metadata; a new partition has none
 * (a follower of no one at epoch -1) until then. Only a leader appends, and
 * it stamps its epoch on every batch. Requests check the role and epoch
 * through `ReplicaManager.partitionOrError`.
 *
 * Replication (docs/ARCHITECTURE.md, "Replication"): the committed end above
 * (written, or durable with fsync=always) is this replica's own. A leader's
 * high watermark is the lowest of its own committed end and the log ends its
 * ISR followers reported in their fetches (replication/leader-state.ts), so
 * a record becomes readable, and an acks=all produce is answered
 * (`whenReplicated`), only once every in-sync replica has it. A leader alone
 * in its ISR (every single-node topic) takes the single-node path: its high
 * watermark is its committed end, with no extra step. A follower appends the
 * leader's batches as they are (`appendAsFollower`) and takes the high
 * watermark the leader sends, capped by its own committed end; a truncation
 * (the fetcher's, after a leader change) may lower it. A restarted replica
 * resumes at the high watermark it checkpointed (replication/hw-checkpoint.ts),
 * never at its log end: only its ISR or its leader moves it on from there.
 *
 * A broken invariant during an operation on the partition (here or in its
 * log) takes the log offline the same way (`#offlineOnInvariant`): its
 * state is no longer known to be right, so nothing more is appended to or
 * served from it until a restart recovers it, and the rest of the broker
 * serves on (docs/ARCHITECTURE.md, "When an invariant breaks").
 *
 * Not thread-safe (nothing in the broker is): every call runs on the event
 * loop, and appends are applied in call order.
 */
import { BATCH_HEADER_BYTES, readBatchHeader, type BatchHeader } from '../protocol/batch/header.js';
import { ProtocolError } from '../protocol/errors.js';
import { NotEnoughReplicasAfterAppendError, NotLeaderError, PartitionOffsetOutOfRangeError, UnknownTopicOrPartitionError } from './errors.js';
import { LeaderState, type LeadershipState } from './replication/leader-state.js';
import { LogStartSync } from './replication/log-start-sync.js';
import type { LogConfig } from './storage/log-config.js';
import { LogOfflineError } from './storage/errors.js';
import type { AppendInfo, PartitionLog, ReadResult } from './storage/partition-log.js';
import { appendTimeOf, loadProducerState } from './storage/producer-state-loader.js';
import { deleteProducerSnapshotsAbove, loadProducerSnapshot, writeProducerSnapshot } from './storage/producer-snapshot.js';
import { lastSequenceOf, nextSequence, PRODUCER_BATCHES_KEPT, ProducerStateTable } from './storage/producer-state.js';
import type { ReadBufferSource } from './storage/segment.js';
import { assert, InvariantError } from './world/assert.js';

export type PartitionRole = 'leader' | 'follower';

export interface PartitionAppend {
  info: AppendInfo;
  /** Resolves once the high watermark covers the append (at once, unless fsync=always or a roll is pending); rejects if the log fails first. */
  committed: Promise<void>;
  /** True when the batch was a producer's retry of one already appended: nothing was written, `info` has the original offsets. */
  duplicate?: boolean;
}

export class Partition {
  readonly topic: string;
  readonly index: number;
  readonly #log: PartitionLog | null;
  readonly #offline: Error | null;
  #config: LogConfig;
  #highWatermark: number;
  #visibleBytesTotal = 0;
  /** Appends waiting for durability (fsync=always), oldest first: their bytes become visible with them. */
  #invisible: { endOffset: number; sizeBytes: number }[] = [];
  #listeners = new Set<() => void>();
  #deleted = false;
  #role: PartitionRole = 'follower';
  #leader = -1;
  #leaderEpoch = -1;
  #partitionEpoch = -1;
  /** This replica's own committed end (see the file comment); the high watermark never passes it. */
  #localCommitted: number;
  /** As leader: the followers' positions and the ISR. */
  #leaderState: LeaderState | null = null;
  /** As follower: the high watermark the leader sent last (-1: none yet). */
  #leaderHighWatermark = -1;
  /** acks=all produces waiting for the high watermark, in offset order. */
  #replicationWaiters: { endOffset: number; resolve: () => void; reject: (error: Error) => void }[] = [];
  /** As leader: DeleteRecords calls waiting for the ISR followers to move their log start too. */
  readonly #logStartSync = new LogStartSync();
  #appendedBytesTotal = 0;
  /** The high watermark came from a checkpoint: until a role is set it stays there (see the constructor). */
  readonly #restored: boolean;
  /** Idempotent producers' sequences here (storage/producer-state.ts); kept as leader and as follower. */
  readonly #producers = new ProducerStateTable();
  /**
   * Whether `#producers` reflects the log: 'unloaded' after the log opened
   * with records (loaded when a producer's batch first needs it, so a broker
   * whose producers are not idempotent never scans for them), 'loading'
   * while a rebuild reads the log (producer batches wait), 'ready'.
   */
  #producersState: 'unloaded' | 'loading' | 'ready' = 'ready';
  /** The rebuild in progress, while 'loading'. */
  #producersLoading: Promise<void> | null = null;
  /** Bumped by every rebuild, so an older one still reading stops. */
  #producersGeneration = 0;
  /**
   * Snapshot files (storage/producer-snapshot.ts) are kept true to the log:
   * `#snapshotsOpened` deletes, once, those above the log end at open (from
   * a tail recovery cut); every snapshot read, write or deletion waits for it.
   */
  readonly #openedEndOffset: number;
  #snapshotsOpened: Promise<void> | null = null;
  /** The snapshot write in flight (a truncation waits for it before deleting what it falsifies). */
  #snapshotWrite: Promise<void> = Promise.resolve();
  /** The segment appends went to when the last roll snapshot was taken: a new one means the log rolled. */
  #snapshotSegment = -1;
  /** Where the last load of the producer state started reading the log (diagnostics and tests). */
  #producersScannedFrom = -1;

  /**
   * `log` null: the log could not be opened, for the reason `offline`.
   * `restoredHighWatermark`: where the high watermark stood when this replica
   * last ran (the checkpoint, replication/hw-checkpoint.ts), capped at the log
   * end; it moves on only once a role lets it (the leader's ISR confirms, or
   * the leader's fetch answers say so). Undefined: no checkpoint to go by
   * (a log created just now, or a test): the committed end, the single-node rule.
   */
  constructor(topic: string, index: number, log: PartitionLog | null, config: LogConfig, offline: Error | null = null, restoredHighWatermark?: number) {
    assert((log === null) !== (offline === null), 'a partition has a log or a reason it has none', { topic, index });
    this.topic = topic;
    this.index = index;
    this.#log = log;
    this.#offline = offline;
    this.#config = config;
    const committed = log === null ? -1 : this.#committedEnd(log);
    this.#localCommitted = committed;
    this.#restored = log !== null && restoredHighWatermark !== undefined;
    this.#highWatermark = log === null ? -1 : this.#restored ? Math.min(Math.max(restoredHighWatermark!, log.logStartOffset), log.logEndOffset) : committed;
    if (log !== null && this.#highWatermark < log.logEndOffset) {
      // The tail above the high watermark becomes readable later; its size is not known without reading, so the whole log's bounds it (a waiting fetch wakes at worst early).
      if (this.#restored) this.#invisible.push({ endOffset: log.logEndOffset, sizeBytes: log.sizeBytes });
      void this.#whenCommitted(log.logEndOffset).catch(() => undefined);
    }
    // A log with records may hold producers' batches: read when first needed (`producersLoaded`).
    if (log !== null && log.logEndOffset > 0) this.#producersState = 'unloaded';
    this.#openedEndOffset = log === null ? -1 : log.logEndOffset;
    this.#snapshotSegment = log === null ? -1 : log.newestSegmentBaseOffset;
  }

  get role(): PartitionRole {
    return this.#role;
  }

  /** The leader's node id (-1: none known yet). */
  get leader(): number {
    return this.#leader;
  }

  /** The epoch of the current leadership (-1 before the replica manager set a role). */
  get leaderEpoch(): number {
    return this.#leaderEpoch;
  }

  /** The partition epoch of the state this replica last took (-1 before any). */
  get partitionEpoch(): number {
    return this.#partitionEpoch;
  }

  /** The committed ISR while this replica leads; empty otherwise. */
  get isr(): readonly number[] {
    return this.#leaderState?.isr ?? [];
  }

  /** What this leader knows of its followers (null unless leading). */
  get leadership(): LeaderState | null {
    return this.#leaderState;
  }

  /**
   * This node leads the partition from `leaderEpoch` on: it appends, stamping
   * that epoch, and tracks its followers. Resolves once the epoch is recorded
   * at the log end (KIP-279: `PartitionLog.beginLeaderEpoch`); rejects if the
   * log cannot record it (it is then offline).
   * The same epoch again with a newer partition epoch is an ISR change, or a
   * reassignment adding or removing replicas.
   */
  becomeLeader(localNodeId: number, state: LeadershipState, nowMs: number): Promise<void> {
    if (this.#role === 'leader' && state.leaderEpoch === this.#leaderEpoch && this.#leaderState !== null) {
      if (state.partitionEpoch > this.#partitionEpoch) {
        this.#leaderState.updateReplicas(state.replicas, nowMs);
        this.settleIsr({ isr: state.isr, partitionEpoch: state.partitionEpoch });
      }
      return Promise.resolve();
    }
    this.#changeRole('leader', localNodeId, state.leaderEpoch);
    this.#partitionEpoch = state.partitionEpoch;
    this.#leaderHighWatermark = -1;
    // Log-start waiters counted followers' fetches in the old leader state; the new one counts from 0, so they would wait out their timeout.
    this.#logStartSync.failAll(new NotLeaderError(this.topic, this.index, localNodeId, `${this.topic}-${this.index} began leader epoch ${state.leaderEpoch}; ask again to learn when its followers have moved their log start`));
    this.#leaderState = new LeaderState(localNodeId, state, this.#log?.logEndOffset ?? 0, nowMs);
    this.#refreshHighWatermark();
    return this.#log === null || this.#log.isOffline ? Promise.resolve() : this.#log.beginLeaderEpoch(state.leaderEpoch);
  }

  /** Another node (`leader`, -1 for none) leads from `leaderEpoch` on; appends here are refused, acks=all waiters fail. */
  becomeFollower(leader: number, leaderEpoch: number, partitionEpoch = this.#partitionEpoch): void {
    this.#changeRole('follower', leader, leaderEpoch);
    this.#partitionEpoch = Math.max(this.#partitionEpoch, partitionEpoch);
    this.#leaderState = null;
    this.#leaderHighWatermark = -1;
    const waiters = this.#replicationWaiters.splice(0);
    for (const waiter of waiters) waiter.reject(new NotLeaderError(this.topic, this.index, leader, `broker ${leader} leads ${this.topic}-${this.index} now; the records may or may not have been replicated`));
    this.#logStartSync.failAll(new NotLeaderError(this.topic, this.index, leader, `broker ${leader} leads ${this.topic}-${this.index} now; its followers may not have moved their log start yet`));
  }

  /** Notes that the leader asked the controller for `isr` (one change in flight). */
  proposeIsr(isr: readonly number[]): void {
    this.#leaderState?.propose(isr);
  }

  /** The controller's answer to the ISR proposal (null: refused, keep the committed ISR); the high watermark follows. */
  settleIsr(committed: { isr: readonly number[]; partitionEpoch: number } | null): void {
    const state = this.#leaderState;
    if (state === null) return;
    state.settle(committed);
    this.#partitionEpoch = Math.max(this.#partitionEpoch, state.partitionEpoch);
    this.#refreshHighWatermark();
    this.#logStartSync.check(state);
  }

  #changeRole(role: PartitionRole, leader: number, leaderEpoch: number): void {
    // Epochs only grow: an older one would let a deposed leader's appends back in.
    assert(leaderEpoch >= this.#leaderEpoch, 'a partition\'s leader epoch never goes back', { topic: this.topic, index: this.index, from: this.#leaderEpoch, to: leaderEpoch });
    assert(leaderEpoch > this.#leaderEpoch || (role === this.#role && leader === this.#leader), 'a new leader or role comes with a new epoch', { topic: this.topic, index: this.index, role, leader, leaderEpoch });
    this.#role = role;
    this.#leader = leader;
    this.#leaderEpoch = leaderEpoch;
  }

  get highWatermark(): number {
    return this.#highWatermark;
  }

  get logStartOffset(): number {
    return this.#log?.logStartOffset ?? -1;
  }

  get logEndOffset(): number {
    return this.#log?.logEndOffset ?? -1;
  }

  /** False when deleted or offline (its log failed to open, or failed since). */
  get serving(): boolean {
    return !this.#deleted && this.#log !== null && !this.#log.isOffline;
  }

  /** Why the log cannot serve (it failed to open, or went offline since), or null while it can. */
  get offlineReason(): Error | null {
    return this.#offline ?? this.#log?.offlineError ?? null;
  }

  /** Throws why the partition cannot serve (deleted, or its log is offline); returns when it can. */
  checkServing(): void {
    this.#usableLog();
  }

  /** Why the partition cannot serve (the error its reads and appends would throw), or null while it can. */
  whyNotServing(): Error | null {
    try {
      return this.#usableLog().offlineError;
    } catch (error) {
      return error as Error;
    }
  }

  get config(): LogConfig {
    return this.#config;
  }

  get visibleBytesTotal(): number {
    return this.#visibleBytesTotal;
  }

  get deleted(): boolean {
    return this.#deleted;
  }

  /**
   * False while an append must wait for `waitAppendable` (the log's rolled
   * segments hold its share of memory until the disk catches up, or it is
   * truncating). True for a partition that cannot serve: its append throws why.
   */
  get appendable(): boolean {
    return this.#log === null || this.#deleted || this.#log.appendable;
  }

  /** Resolves once an append may go ahead (check `appendable` again); rejects if the partition stops serving. */
  async waitAppendable(): Promise<void> {
    await this.#usableLog().waitAppendable();
  }

  /**
   * False while the producer state is being rebuilt from the log: a batch
   * with a producer id must wait (`producersLoaded`), others need not.
   */
  get producersReady(): boolean {
    return this.#producersState === 'ready';
  }

  /** The idempotent producers' state (read-only use: tests and diagnostics). */
  get producers(): ProducerStateTable {
    return this.#producers;
  }

  /** Resolves once the producer state reflects the log: starts loading it (snapshot, then the log after it) if that has not happened yet. */
  async producersLoaded(): Promise<void> {
    const log = this.#usableLog();
    if (this.#producersState === 'unloaded') this.#rebuildProducers(log);
    while (this.#producersLoading !== null) await this.#producersLoading;
  }

  /** Where the last load of the producer state started reading the log (-1: none yet): a snapshot's offset, or the log start. */
  get producersScannedFrom(): number {
    return this.#producersScannedFrom;
  }

  /**
   * Writes the producer state as a snapshot at the log end (a clean
   * shutdown: storage/producer-snapshot.ts). Nothing for a partition that
   * cannot serve, never loaded its state (the snapshots on disk are still
   * true) or is rebuilding it. A failed write is swallowed: it only costs
   * the next load a longer scan.
   */
  async writeProducerSnapshot(): Promise<void> {
    const log = this.#log;
    if (log === null || log.isOffline || this.#deleted || this.#producersState !== 'ready') return;
    await this.#snapshotNow(log);
  }

  /** Forgets idempotent producers silent for `expirationMs` (producer-state.ts `expire`); nothing while the state is not loaded. */
  expireProducers(nowMs: number, expirationMs: number): number {
    if (this.#producersState !== 'ready') return 0;
    return this.#producers.expire(nowMs, expirationMs);
  }

  /** Resolves once the snapshot writes started so far have finished (or failed: they only cost a longer scan). */
  snapshotsWritten(): Promise<void> {
    return this.#snapshotWrite;
  }

  /** After an append: the first append into a new segment snapshots the state (Kafka's rule), so a load after a crash scans one segment, not the log. */
  #snapshotOnRoll(log: PartitionLog): void {
    const segment = log.newestSegmentBaseOffset;
    if (segment === this.#snapshotSegment) return;
    this.#snapshotSegment = segment;
    if (this.#producersState !== 'ready' || this.#producers.size === 0) return;
    void this.#snapshotNow(log);
  }

  /** A snapshot of the table as it is now, at the log end (the table reflects every batch below it while 'ready'). */
  #snapshotNow(log: PartitionLog): Promise<void> {
    const offset = log.logEndOffset;
    const opened = this.#openSnapshots(log);
    // Serialised here, synchronously: the file holds this moment's table whatever is appended while it is written.
    const table = new ProducerStateTable();
    for (const [producerId, entry] of this.#producers.entries()) table.restore(producerId, entry);
    const write = this.#snapshotWrite.then(async () => {
      await opened;
      await writeProducerSnapshot(log.fileSystem, log.dir, offset, table);
    }).catch(() => undefined);
    this.#snapshotWrite = write;
    return write;
  }

  /** Once per partition: snapshots above the log end it opened with counted batches recovery cut; they go before anything can grow the log past them. */
  #openSnapshots(log: PartitionLog): Promise<void> {
    this.#snapshotsOpened ??= deleteProducerSnapshotsAbove(log.fileSystem, log.dir, this.#openedEndOffset).catch(() => undefined);
    return this.#snapshotsOpened;
  }

  /** Before the log loses its batches from `offset` on (all: -1): the snapshots that counted them go first, after any write in flight. */
  async #dropSnapshotsAbove(log: PartitionLog, offset: number): Promise<void> {
    await this.#openSnapshots(log);
    await this.#snapshotWrite;
    await deleteProducerSnapshotsAbove(log.fileSystem, log.dir, offset);
  }

  /** Whether `records` starts with a batch from an idempotent producer (that must wait for `producersReady`). */
  static hasProducerId(records: Uint8Array): boolean {
    try {
      return records.byteLength >= BATCH_HEADER_BYTES && readBatchHeader(records, 0).producerId >= 0;
    } catch {
      return false; // storage's validation reports what is wrong with it
    }
  }

  /**
   * Rebuilds the producer state: from the newest snapshot within the log
   * (every snapshot on disk is true to it), then the log's batch headers
   * after it; from the log start when there is none. Appends of producer
   * batches wait meanwhile (`producersReady`); a failed read takes the log
   * offline, which refuses them anyway.
   */
  #rebuildProducers(log: PartitionLog): void {
    const generation = ++this.#producersGeneration;
    const stale = (): boolean => generation !== this.#producersGeneration;
    const table = this.#producers;
    table.clear();
    const load = async (): Promise<void> => {
      await this.#openSnapshots(log);
      const snapshot = new ProducerStateTable();
      const at = await loadProducerSnapshot(log.fileSystem, log.dir, log, snapshot);
      if (stale()) return;
      for (const [producerId, entry] of snapshot.entries()) table.restore(producerId, entry);
      const from = at ?? log.logStartOffset;
      this.#producersScannedFrom = from;
      await loadProducerState(log, table, from, stale);
    };
    this.#producersState = 'loading';
    const loading = load()
      .catch((error: unknown) => {
        if (!log.isOffline) log.takeOffline(`${this.topic}-${this.index} could not rebuild its producer state`, error);
      })
      .finally(() => {
        if (stale()) return;
        this.#producersLoading = null;
        this.#producersState = 'ready';
      });
    this.#producersLoading = loading;
  }

  /**
   * What the producer state says of `records` (KIP-98): whether they are a
   * producer's batches (up to five, one producer and epoch, consecutive
   * sequences) to append, the original append of a retry, or a thrown
   * ProtocolError for a refused request.
   */
  #checkSequence(records: Uint8Array): { producer: boolean; duplicate: PartitionAppend | null } {
    // Only the first header is read for a producer without an id (the common case): storage walks the batches anyway.
    if (!Partition.hasProducerId(records)) return { producer: false, duplicate: null };
    const headers: BatchHeader[] = [];
    try {
      for (let pos = 0; pos < records.byteLength; pos += headers[headers.length - 1]!.sizeBytes) headers.push(readBatchHeader(records, pos));
    } catch {
      return { producer: false, duplicate: null }; // storage's validation refuses it, saying why
    }
    const first = headers[0]!;
    const where = `${this.topic}-${this.index}`;
    if (headers.length > PRODUCER_BATCHES_KEPT) throw new ProtocolError('INVALID_RECORD', `an idempotent producer sends at most ${PRODUCER_BATCHES_KEPT} batches per partition in a request; ${where} got ${headers.length}`);
    for (let i = 1; i < headers.length; i++) {
      const [prev, h] = [headers[i - 1]!, headers[i]!];
      if (h.producerId !== first.producerId || h.producerEpoch !== first.producerEpoch || h.baseSequence !== nextSequence(lastSequenceOf(prev))) {
        throw new ProtocolError('INVALID_RECORD', `the batches for ${where} in one request must come from one producer and epoch with consecutive sequences; batch ${i} does not follow batch ${i - 1}`);
      }
    }
    if (this.#producersState !== 'ready') throw new ProtocolError('LEADER_NOT_AVAILABLE', `${where} is loading its producer state from the log; retry shortly`);
    // The first batch decides; the others follow it in sequence (checked above).
    const verdict = this.#producers.check(first);
    if (verdict.kind === 'refuse') throw new ProtocolError(verdict.error, `${where}: ${verdict.message}`);
    if (verdict.kind === 'append') return { producer: true, duplicate: null };
    // A retry: answered with the original offsets, provided every batch is one the partition has, stored one after the other.
    let { baseOffset, lastOffset, logAppendTimeMs } = verdict.batch;
    for (const h of headers.slice(1)) {
      const again = this.#producers.check(h);
      if (again.kind !== 'duplicate' || again.batch.baseOffset !== lastOffset + 1) {
        throw new ProtocolError('INVALID_RECORD', `${where}: a retried request from producer ${first.producerId} holds batches the partition did not store together; retry each batch alone`);
      }
      lastOffset = again.batch.lastOffset;
      logAppendTimeMs = again.batch.logAppendTimeMs;
    }
    const info: AppendInfo = { baseOffset, lastOffset, logAppendTimeMs, maxTimestamp: -1, batchCount: headers.length, sizeBytes: 0 };
    const committed = lastOffset < this.#highWatermark ? Promise.resolve() : this.#whenCommitted(lastOffset + 1);
    return { producer: true, duplicate: { info, committed, duplicate: true } };
  }

  /** Appends whole batches (validated, offsets assigned by storage) as the leader. Throws NotLeaderError, storage's typed errors. */
  append(records: Uint8Array): PartitionAppend {
    const log = this.#usableLog();
    if (this.#role !== 'leader') throw new NotLeaderError(this.topic, this.index, this.#leader, `this broker does not lead ${this.topic}-${this.index}${this.#leader === -1 ? '' : ` (broker ${this.#leader} does)`}; refresh metadata`);
    const { producer, duplicate } = this.#checkSequence(records);
    if (duplicate !== null) return duplicate;
    let appended: PartitionAppend;
    try {
      appended = this.#append(log, records);
    } catch (error) {
      throw this.#offlineOnInvariant(log, error);
    }
    // Storage stamped the offsets (and any append time) into the batches: each is remembered as it is now stored.
    if (producer) this.#recordProducerBatches(records);
    this.#snapshotOnRoll(log);
    return appended;
  }

  #append(log: PartitionLog, records: Uint8Array): PartitionAppend {
    const info = log.append(records, { leaderEpoch: this.#leaderEpoch });
    const endOffset = info.lastOffset + 1;
    assert(endOffset === log.logEndOffset, 'an append ends at the log end offset', { endOffset, logEndOffset: log.logEndOffset });
    this.#appendedBytesTotal += info.sizeBytes;
    const alone = this.#leaderState?.alone !== false;
    if (this.#config.fsync !== 'always' && endOffset <= log.writtenEndOffset) {
      this.#localCommitted = endOffset;
      if (alone) {
        // The single-node path: committed is readable at once.
        this.#visibleBytesTotal += info.sizeBytes;
        this.#advanceTo(endOffset);
        return { info, committed: Promise.resolve() };
      }
      this.#invisible.push({ endOffset, sizeBytes: info.sizeBytes });
      this.#refreshHighWatermark();
      this.#notify();
      return { info, committed: Promise.resolve() };
    }
    this.#invisible.push({ endOffset, sizeBytes: info.sizeBytes });
    // Followers waiting in a fetch read past the high watermark: wake them.
    if (!alone) this.#notify();
    return { info, committed: this.#whenCommitted(endOffset) };
  }

  /**
   * Resolves once the high watermark covers `endOffset` (every in-sync
   * replica has the records): what acks=all waits for. Rejects with
   * NotLeaderError if this replica stops leading first, or if it is deleted,
   * and (Kafka's rule) with NotEnoughReplicasAfterAppendError if, when the
   * high watermark covers it, the ISR has fewer members than the topic's
   * `min.insync.replicas`: the ISR shrank while the produce waited, so the
   * records are on fewer replicas than the producer asked for.
   */
  whenReplicated(endOffset: number): Promise<void> {
    if (this.#highWatermark >= endOffset) {
      const short = this.#isrTooSmall();
      return short === null ? Promise.resolve() : Promise.reject(short);
    }
    if (this.#role !== 'leader') return Promise.reject(new NotLeaderError(this.topic, this.index, this.#leader, `this broker no longer leads ${this.topic}-${this.index}`));
    return new Promise((resolve, reject) => this.#replicationWaiters.push({ endOffset, resolve, reject }));
  }

  /** Why an acks=all produce covered by the high watermark now is not acknowledged (the ISR below min.insync.replicas), or null. */
  #isrTooSmall(): NotEnoughReplicasAfterAppendError | null {
    // Only a leader knows its ISR; a record its high watermark covered before it stopped leading was committed.
    if (this.#leaderState === null) return null;
    const { isr } = this.#leaderState;
    const min = this.#config.minInsyncReplicas;
    if (isr.length >= min) return null;
    return new NotEnoughReplicasAfterAppendError(this.topic, this.index, `${this.topic}-${this.index}: the records were written, but the in-sync replicas shrank to [${isr.join(',')}], fewer than min.insync.replicas ${min}, before they were committed; they are not acknowledged, and a retry may store them twice`);
  }

  /** Bytes appended here since the partition was opened (leader or follower), committed or not: what a follower's fetch waits for. */
  get appendedBytesTotal(): number {
    return this.#appendedBytesTotal;
  }

  /**
   * As leader, for follower `replicaId`: notes its fetch at `fetchOffset`
   * (its log end) and moves the high watermark if that lets it. Throws
   * OFFSET_OUT_OF_RANGE for an offset outside the log, NotLeaderError when
   * not leading.
   */
  recordFollowerFetch(replicaId: number, fetchOffset: number, nowMs: number): void {
    const log = this.#usableLog();
    const state = this.#leaderState;
    if (this.#role !== 'leader' || state === null) throw new NotLeaderError(this.topic, this.index, this.#leader, `this broker does not lead ${this.topic}-${this.index}`);
    const { logStartOffset, logEndOffset } = log;
    if (fetchOffset < logStartOffset || fetchOffset > logEndOffset) {
      throw new PartitionOffsetOutOfRangeError(this.topic, this.index, fetchOffset, logStartOffset, logEndOffset);
    }
    state.recordFetch(replicaId, fetchOffset, logEndOffset, nowMs);
    this.#refreshHighWatermark();
    this.#logStartSync.check(state);
  }

  /**
   * DeleteRecords as leader: the log starts at `offset` from now on (at most
   * the high watermark, which the caller checks; no-op when it starts there
   * already). Resolves with the log start once every ISR follower has moved
   * its own start too (replication/log-start-sync.ts); rejects with
   * NotLeaderError when this replica stops leading first.
   */
  async deleteRecordsBefore(offset: number): Promise<number> {
    const log = this.#usableLog();
    const state = this.#leaderState;
    if (this.#role !== 'leader' || state === null) throw new NotLeaderError(this.topic, this.index, this.#leader, `this broker does not lead ${this.topic}-${this.index}`);
    assert(offset <= this.#highWatermark, 'DeleteRecords never passes the high watermark', { topic: this.topic, index: this.index, offset, highWatermark: this.#highWatermark });
    if (offset > log.logStartOffset) {
      try {
        await log.advanceLogStart(offset);
      } catch (error) {
        throw this.#offlineOnInvariant(log, error);
      }
      // Followers waiting in a fetch answer now, with the new start.
      this.#notify();
    }
    if (this.#leaderState !== state) throw new NotLeaderError(this.topic, this.index, this.#leader, `this broker stopped leading ${this.topic}-${this.index} while moving its log start`);
    // Waited for even when nothing moved here: an earlier call may have timed out before the followers followed.
    if (!state.alone) await this.#logStartSync.wait(state);
    return log.logStartOffset;
  }

  /**
   * As follower: a fetch answer said the leader's log starts at
   * `leaderLogStart` (DeleteRecords or retention there); this log starts
   * there too, up to its own end. The fetcher awaits it before its next
   * fetch, which is what lets the leader count fetches (log-start-sync.ts).
   */
  async followLeaderLogStart(leaderLogStart: number): Promise<void> {
    const log = this.#usableLog();
    const target = Math.min(leaderLogStart, log.logEndOffset);
    if (target <= log.logStartOffset) return;
    try {
      await log.advanceLogStart(target);
    } catch (error) {
      throw this.#offlineOnInvariant(log, error);
    }
  }

  /** As leader, for a follower: whole batches from `fetchOffset` up to the log end (not just the high watermark). */
  async readForFollower(fetchOffset: number, maxBytes: number, allocate?: ReadBufferSource): Promise<ReadResult> {
    const log = this.#usableLog();
    try {
      return await log.read(fetchOffset, maxBytes, log.logEndOffset, allocate);
    } catch (error) {
      throw this.#offlineOnInvariant(log, error);
    }
  }

  /**
   * As follower: appends the leader's batches as they are (storage's
   * `appendAsFollower`: a DiscontinuousAppendError means truncate first).
   * Callers wait for `appendable` first.
   */
  appendAsFollower(records: Uint8Array): AppendInfo {
    const log = this.#usableLog();
    assert(this.#role === 'follower', 'only a follower appends the leader\'s batches', { topic: this.topic, index: this.index });
    let info: AppendInfo;
    try {
      info = log.appendAsFollower(records);
    } catch (error) {
      throw this.#offlineOnInvariant(log, error);
    }
    const endOffset = info.lastOffset + 1;
    // During a rebuild the loader reads these batches itself (it follows the log end).
    if (this.#producersState === 'ready') this.#recordProducerBatches(records);
    this.#snapshotOnRoll(log);
    this.#appendedBytesTotal += info.sizeBytes;
    this.#invisible.push({ endOffset, sizeBytes: info.sizeBytes });
    if (this.#config.fsync !== 'always' && endOffset <= log.writtenEndOffset) {
      this.#localCommitted = Math.max(this.#localCommitted, endOffset);
      this.#refreshHighWatermark();
    } else {
      void this.#whenCommitted(endOffset).catch(() => undefined);
    }
    return info;
  }

  /** Notes the producer batches among `records` (stamped with their offsets: a follower's copy of its leader's). */
  #recordProducerBatches(records: Uint8Array): void {
    for (let pos = 0; pos < records.byteLength; ) {
      const h = readBatchHeader(records, pos);
      if (h.producerId >= 0) this.#producers.record(h, h.baseOffset, h.baseOffset + h.lastOffsetDelta, appendTimeOf(h));
      pos += h.sizeBytes;
    }
  }

  /** As follower: the high watermark the leader sent; this replica's is the lower of it and its own committed end. */
  updateLeaderHighWatermark(highWatermark: number): void {
    this.#leaderHighWatermark = highWatermark;
    this.#refreshHighWatermark();
  }

  /** The latest leader epoch in this replica's log (-1: none). */
  get latestLogEpoch(): number {
    return this.#log?.latestEpoch ?? -1;
  }

  /** Kafka's OffsetForLeaderEpoch answer from this replica's log (storage's `endOffsetForEpoch`). */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    return this.#usableLog().endOffsetForEpoch(epoch);
  }

  /** As follower: storage's `truncateTo`; the high watermark comes down with the log end if the cut goes below it. */
  async truncateTo(offset: number): Promise<void> {
    const log = this.#usableLog();
    await this.#dropSnapshotsAbove(log, offset);
    await log.truncateTo(offset);
    this.#afterTruncation(log, Math.min(this.#highWatermark, log.logEndOffset));
    this.#producersAfterTruncation(log, offset);
  }

  /** As follower: storage's `truncateFullyAndStartAt` (the leader's log starts past this one's end). */
  async truncateFullyAndStartAt(offset: number): Promise<void> {
    const log = this.#usableLog();
    await this.#dropSnapshotsAbove(log, -1);
    await log.truncateFullyAndStartAt(offset);
    this.#afterTruncation(log, log.logEndOffset);
    // Nothing is left of the old log: no producer state either (a producer seen again is taken at any sequence, as after retention).
    ++this.#producersGeneration;
    this.#producersLoading = null;
    this.#producersState = 'ready';
    this.#producers.clear();
  }

  /**
   * The log lost its batches from `offset` on: so does the producer state.
   * Where that leaves a producer with none of its kept batches, what came
   * before them is only in the log, so the state is rebuilt: from the newest
   * snapshot at or below the cut, then the log after it.
   */
  #producersAfterTruncation(log: PartitionLog, offset: number): void {
    // Unloaded: loaded later, from the log as it is then.
    if (this.#producersState === 'unloaded') return;
    if (this.#producersState === 'loading' || !this.#producers.truncate(offset)) this.#rebuildProducers(log);
  }

  #afterTruncation(log: PartitionLog, highWatermark: number): void {
    const end = log.logEndOffset;
    this.#highWatermark = highWatermark;
    this.#localCommitted = Math.min(this.#committedEnd(log), end);
    this.#invisible = this.#invisible.filter((entry) => entry.endOffset <= end && entry.endOffset > highWatermark);
  }

  /**
   * Whole batches from the one holding `fetchOffset`, below the high
   * watermark, up to `maxBytes` (at least one batch), read into a buffer from
   * `allocate` (fresh by default). An offset between the high watermark and
   * the log end reads as empty; outside the log it is OFFSET_OUT_OF_RANGE.
   */
  async read(fetchOffset: number, maxBytes: number, allocate?: ReadBufferSource): Promise<ReadResult> {
    const log = this.#usableLog();
    const { logStartOffset, logEndOffset } = log;
    if (fetchOffset < logStartOffset || fetchOffset > logEndOffset) {
      throw new PartitionOffsetOutOfRangeError(this.topic, this.index, fetchOffset, logStartOffset, logEndOffset);
    }
    const highWatermark = this.#highWatermark;
    if (fetchOffset >= highWatermark) return { records: [], sizeBytes: 0 };
    try {
      return await log.read(fetchOffset, maxBytes, highWatermark, allocate);
    } catch (error) {
      throw this.#offlineOnInvariant(log, error);
    }
  }

  /** The first committed batch with a timestamp at or after `timestampMs`, or null (see PartitionLog.offsetForTimestamp). */
  async offsetForTimestamp(timestampMs: number): Promise<{ offset: number; timestamp: number; leaderEpoch: number } | null> {
    const log = this.#usableLog();
    // Read the watermark before searching, so a record committed meanwhile is not half-visible.
    const highWatermark = this.#highWatermark;
    let hit: Awaited<ReturnType<PartitionLog['offsetForTimestamp']>>;
    try {
      hit = await log.offsetForTimestamp(timestampMs);
    } catch (error) {
      throw this.#offlineOnInvariant(log, error);
    }
    return hit === null || hit.offset >= highWatermark ? null : hit;
  }

  /** Calls `listener` (synchronously) every time the high watermark advances, or the partition is deleted. */
  onAdvance(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  updateConfig(config: LogConfig): void {
    const wasAlways = this.#config.fsync === 'always';
    this.#config = config;
    if (this.#log === null) return;
    this.#log.updateConfig(config);
    // Leaving fsync=always: what was waiting for a sync is committed now (once written).
    if (wasAlways && config.fsync !== 'always') {
      this.#localCommitted = Math.max(this.#localCommitted, this.#committedEnd(this.#log));
      this.#refreshHighWatermark();
      void this.#whenCommitted(this.#log.logEndOffset).catch(() => undefined);
    }
  }

  /** The topic is going away: waiters wake (and find it gone), appends and reads are refused. */
  markDeleted(why?: Error): void {
    this.#deleted = true;
    for (const waiter of this.#replicationWaiters.splice(0)) waiter.reject(why ?? new UnknownTopicOrPartitionError(this.topic, this.index, `${this.topic}-${this.index} was deleted`));
    this.#logStartSync.failAll(why ?? new UnknownTopicOrPartitionError(this.topic, this.index, `${this.topic}-${this.index} was deleted`));
    this.#notify();
    this.#listeners.clear();
  }

  /** A broken invariant takes the log offline, and the caller gets why (a LogOfflineError); any other error passes through. */
  #offlineOnInvariant(log: PartitionLog, error: unknown): unknown {
    return error instanceof InvariantError ? log.takeOffline(`${this.topic}-${this.index} broke an invariant`, error) : error;
  }

  #usableLog(): PartitionLog {
    if (this.#deleted) throw new UnknownTopicOrPartitionError(this.topic, this.index, `${this.topic}-${this.index} was deleted`);
    if (this.#log === null) {
      throw this.#offline instanceof LogOfflineError ? this.#offline : new LogOfflineError(`${this.topic}-${this.index}`, this.#offline!.message, { cause: this.#offline });
    }
    return this.#log;
  }

  /** Waits until `endOffset` is committed (durable with fsync=always, else written), and moves the high watermark. */
  async #whenCommitted(endOffset: number): Promise<void> {
    const log = this.#usableLog();
    await (this.#config.fsync === 'always' ? log.waitDurable(endOffset) : log.waitWritten(endOffset));
    this.#localCommitted = Math.max(this.#localCommitted, this.#committedEnd(log));
    this.#refreshHighWatermark();
  }

  /**
   * Where the high watermark may be now: this replica's committed end,
   * capped as leader by its ISR followers' log ends, as follower by the
   * leader's high watermark. A partition with no role yet keeps the one it
   * restored from the checkpoint, or else (single node, no checkpoint) its own.
   */
  #refreshHighWatermark(): void {
    let highWatermark = this.#localCommitted;
    if (this.#role === 'leader') {
      const state = this.#leaderState;
      if (state !== null && !state.alone) highWatermark = Math.min(highWatermark, state.isrFollowersMinEnd());
    } else if (this.#leaderEpoch >= 0) {
      highWatermark = Math.min(highWatermark, this.#leaderHighWatermark);
    } else if (this.#restored) {
      return;
    }
    this.#advanceTo(highWatermark);
  }

  /** Where the high watermark may be now: the durable end with fsync=always, else the written end. */
  #committedEnd(log: PartitionLog): number {
    return this.#config.fsync === 'always' ? Math.min(log.durableEndOffset, log.logEndOffset) : log.writtenEndOffset;
  }

  #advanceTo(offset: number): void {
    if (offset <= this.#highWatermark) return;
    this.#highWatermark = offset;
    while (this.#invisible.length > 0 && this.#invisible[0]!.endOffset <= offset) {
      this.#visibleBytesTotal += this.#invisible.shift()!.sizeBytes;
    }
    const short = this.#replicationWaiters.length > 0 ? this.#isrTooSmall() : null;
    while (this.#replicationWaiters.length > 0 && this.#replicationWaiters[0]!.endOffset <= offset) {
      const waiter = this.#replicationWaiters.shift()!;
      if (short === null) waiter.resolve();
      else waiter.reject(short);
    }
    this.#notify();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
