/**
 * The named safety invariants, checked after every step of a simulated run
 * (docs/SIMULATION.md lists them):
 *
 * - `one-leader-per-epoch`: no two brokers ever lead a partition in the
 *   same leader epoch, and a broker leading in epoch E is the leader the
 *   controller chose for E.
 * - `epochs-never-go-back`: a partition's leader epoch and partition epoch
 *   never decrease in the controller's metadata (across its restarts too:
 *   the metadata log is durable), nor in a broker's partition state or
 *   metadata cache within one incarnation.
 * - `hw-never-goes-back`: a replica's high watermark never decreases within
 *   one incarnation (a restart may resume lower, from its checkpoint).
 * - `committed-never-changes`: every record below any replica's high
 *   watermark is the record every other replica has (or had) at that offset
 *   below its own: the first one seen there is the committed record, and no
 *   replica ever shows another. This is "every replica's log is a prefix of
 *   the leader's up to the high watermark" and "no committed record is lost
 *   or changed" in one check, over time as well as across replicas.
 * - `hw-covers-log`: a replica holds every record between its log start and
 *   its high watermark.
 * - `acked-is-committed`: an acks=all acknowledgement names a committed
 *   record with the value sent (the high watermark had covered it).
 * - `consumed-is-committed`: a consumer only reads committed records.
 * - `no-broker-invariant`: no broker logged a broken invariant of its own.
 *
 * Liveness (after the faults stop) is scenario.ts's `converged`.
 */
import type { PartitionState } from '../../broker/metadata/image.js';
import type { Checker, Simulation } from './engine.js';
import { recordsOnDisk } from './disk-view.js';
import type { SimNode } from './sim-node.js';

const DATA_DIR = '/data';

export class Invariants implements Checker {
  readonly #sim: Simulation;
  /** topic-p -> leader epoch -> the broker that leads in it. */
  readonly #leaderOfEpoch = new Map<string, Map<number, number>>();
  /** The controller's last partition state per topic-p. */
  readonly #controllerState = new Map<string, PartitionState>();
  /** host#incarnation topic-p -> last leader epoch, high watermark, cached-metadata epoch. */
  readonly #replicaState = new Map<string, { leaderEpoch: number; highWatermark: number; cachedEpoch: number }>();
  /** topic-p -> offset -> identity of the committed record. */
  readonly #committed = new Map<string, Map<number, { identity: string; value: string }>>();
  /** host#incarnation topic-p -> the (high watermark, log end) last read from disk: unchanged means nothing to read. */
  readonly #lastRead = new Map<string, string>();

  constructor(sim: Simulation) {
    this.#sim = sim;
  }

  /** The committed records of `topic-p`, offset -> value (for the final read-back). */
  committed(topic: string, partition: number): ReadonlyMap<number, { identity: string; value: string }> {
    return this.#committed.get(`${topic}-${partition}`) ?? new Map();
  }

  check(): void {
    const sim = this.#sim;
    for (const node of sim.nodes.values()) {
      if (node.brokenInvariants.length > 0) sim.fail('no-broker-invariant', `${node.name}: ${node.brokenInvariants[0]}`);
      if (node.view === null) continue;
      if (node.role === 'controller') this.#checkController(node);
      else this.#checkBroker(node);
    }
  }

  acked(topic: string, partition: number, offset: number, value: string): void {
    const committed = this.#committed.get(`${topic}-${partition}`)?.get(offset);
    if (committed === undefined) this.#sim.fail('acked-is-committed', `${topic}-${partition} offset ${offset} (${value}) was acknowledged, but no replica's high watermark had covered it`);
    if (committed.value !== value) this.#sim.fail('acked-is-committed', `${topic}-${partition} offset ${offset} was acknowledged as ${value}, but the committed record there is ${committed.value}`);
  }

  consumed(topic: string, partition: number, offset: number, value: string): void {
    const committed = this.#committed.get(`${topic}-${partition}`)?.get(offset);
    if (committed === undefined) this.#sim.fail('consumed-is-committed', `a consumer read ${topic}-${partition} offset ${offset} (${value}), which no replica's high watermark had covered`);
    if (committed.value !== value) this.#sim.fail('consumed-is-committed', `a consumer read ${value} at ${topic}-${partition} offset ${offset}; the committed record there is ${committed.value}`);
  }

  #claimLeader(tp: string, epoch: number, leader: number, who: string): void {
    let epochs = this.#leaderOfEpoch.get(tp);
    if (epochs === undefined) this.#leaderOfEpoch.set(tp, (epochs = new Map()));
    const known = epochs.get(epoch);
    if (known === undefined) epochs.set(epoch, leader);
    else if (known !== leader) this.#sim.fail('one-leader-per-epoch', `${tp} leader epoch ${epoch}: broker ${known} and broker ${leader} (${who})`);
  }

  #checkController(node: SimNode): void {
    const image = node.view!.image();
    for (const topic of image.topics.values()) {
      topic.partitionStates.forEach((state, index) => {
        const tp = `${topic.name}-${index}`;
        const before = this.#controllerState.get(tp);
        if (before !== undefined && (state.leaderEpoch < before.leaderEpoch || state.partitionEpoch < before.partitionEpoch)) {
          this.#sim.fail('epochs-never-go-back', `controller: ${tp} went from leader epoch ${before.leaderEpoch} / partition epoch ${before.partitionEpoch} to ${state.leaderEpoch} / ${state.partitionEpoch}`);
        }
        if (before === undefined || before.leaderEpoch !== state.leaderEpoch || before.leader !== state.leader) {
          this.#sim.event(`controller: ${tp} leader ${state.leader} epoch ${state.leaderEpoch} isr [${state.isr.join(',')}]`);
        }
        this.#controllerState.set(tp, state);
        if (state.leader !== -1) this.#claimLeader(tp, state.leaderEpoch, state.leader, 'controller');
      });
    }
  }

  #checkBroker(node: SimNode): void {
    const view = node.view!;
    const replicas = view.replicas;
    if (replicas === null) return;
    const image = view.image();
    for (const topic of image.topics.values()) {
      for (let index = 0; index < topic.partitions; index++) {
        const tp = `${topic.name}-${index}`;
        const key = `${node.host}#${node.incarnation} ${tp}`;
        const cachedEpoch = topic.partitionStates[index]?.leaderEpoch ?? -1;
        const partition = replicas.partition(topic.name, index);
        const before = this.#replicaState.get(key);
        if (partition === undefined) continue;
        const { leaderEpoch, highWatermark } = partition;
        if (before !== undefined) {
          if (leaderEpoch < before.leaderEpoch) this.#sim.fail('epochs-never-go-back', `${node.name}: ${tp} leader epoch went from ${before.leaderEpoch} to ${leaderEpoch}`);
          if (cachedEpoch < before.cachedEpoch) this.#sim.fail('epochs-never-go-back', `${node.name}: ${tp} cached metadata leader epoch went from ${before.cachedEpoch} to ${cachedEpoch}`);
          if (highWatermark < before.highWatermark) this.#sim.fail('hw-never-goes-back', `${node.name}: ${tp} high watermark went from ${before.highWatermark} to ${highWatermark}`);
        }
        this.#replicaState.set(key, { leaderEpoch, highWatermark, cachedEpoch });
        if (partition.role === 'leader' && leaderEpoch >= 0) this.#claimLeader(tp, leaderEpoch, node.id, `${node.name} acting as leader`);
        // A log taken offline (a failed fsync) still holds on disk what its high watermark covered; only a log that never opened has nothing.
        if (partition.deleted || partition.logStartOffset < 0) continue;
        this.#checkRecords(node, key, tp, topic.name, index, partition.logStartOffset, highWatermark, partition.logEndOffset);
      }
    }
  }

  #checkRecords(node: SimNode, key: string, tp: string, topic: string, index: number, logStart: number, highWatermark: number, logEnd: number): void {
    const stamp = `${highWatermark}:${logEnd}`;
    if (this.#lastRead.get(key) === stamp || highWatermark <= logStart) return;
    this.#lastRead.set(key, stamp);
    let committed = this.#committed.get(tp);
    if (committed === undefined) this.#committed.set(tp, (committed = new Map()));
    // A damaged disk (a flipped bit) loses the batch it hit; its other records still count.
    const damaged = node.damaged;
    const records = recordsOnDisk(node.disk, DATA_DIR, topic, index, highWatermark, damaged);
    let expected = logStart;
    for (const record of records) {
      if (record.offset < logStart) continue;
      if (record.offset !== expected && !damaged) this.#sim.fail('hw-covers-log', `${node.name}: ${tp} has no record at offset ${expected} (next on disk: ${record.offset}), below its high watermark ${highWatermark}`);
      expected = record.offset + 1;
      const known = committed.get(record.offset);
      if (known === undefined) committed.set(record.offset, { identity: record.identity, value: record.value });
      else if (known.identity !== record.identity) this.#sim.fail('committed-never-changes', `${node.name}: ${tp} offset ${record.offset} is ${record.identity} below its high watermark ${highWatermark}; the committed record there is ${known.identity}`);
    }
    if (expected < highWatermark && !damaged) this.#sim.fail('hw-covers-log', `${node.name}: ${tp} holds records up to offset ${expected}, below its high watermark ${highWatermark}`);
  }
}
