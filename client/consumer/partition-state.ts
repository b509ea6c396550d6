/**
 * What the consumer knows about one assigned partition: where the app is
 * (`position`), where fetching is (`fetchOffset`, ahead while answers are
 * buffered), a start still to resolve, and the epoch that a seek bumps so
 * that data fetched for an old position is recognised and dropped.
 */
import { invalidArgument, type RunnelError } from '../errors.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP } from '../../protocol/messages.js';
import type { StartOffset } from '../types.js';

export interface PartitionState {
  readonly key: string;
  readonly topic: string;
  readonly partition: number;
  /** A start still to resolve to an offset, or null. */
  start: Exclude<StartOffset, number> | null;
  /** The next offset the app will be given. */
  position: number | undefined;
  /** The next offset to fetch (ahead of `position` while answers are buffered). */
  fetchOffset: number | undefined;
  /** Bumped by seek: data fetched under an older epoch is dropped. */
  epoch: number;
  /** False once a new assign() left it out (its buffered data is dropped). */
  assigned: boolean;
  inFlight: boolean;
  resolving: boolean;
  /** Set after a non-retriable error: no fetching until the next seek. */
  stopped: RunnelError | null;
  fetchMaxBytes: number;
  retryAtMs: number;
  failures: number;
  highWatermark: number;
  /** The leader epoch of the leader it last fetched from (-1: none yet, or a broker without epochs). */
  leaderEpoch: number;
  /** The epoch the records just before `fetchOffset` were written in (-1: unknown); what a new leader is asked about. */
  lastFetchedEpoch: number;
  /** An OffsetForLeaderEpoch check of the position is under way (no fetching meanwhile). */
  validating: boolean;
  /** The app paused it: not fetched until resumed. */
  paused: boolean;
  /** Delayed delivery ('wait'): its next record is not due before this time (ms since the epoch); not fetched until then. 0: not held. */
  heldUntilMs: number;
}

export const keyOf = (topic: string, partition: number): string => `${topic}\0${partition}`;

export function newPartitionState(topic: string, partition: number, start: StartOffset, fetchMaxBytes: number): PartitionState {
  const state: PartitionState = {
    key: keyOf(topic, partition), topic, partition, start: null, position: undefined, fetchOffset: undefined, epoch: 0, assigned: true,
    inFlight: false, resolving: false, stopped: null, fetchMaxBytes, retryAtMs: 0, failures: 0, highWatermark: -1,
    leaderEpoch: -1, lastFetchedEpoch: -1, validating: false, paused: false, heldUntilMs: 0,
  };
  setStart(state, start);
  return state;
}

/** Moves the partition to `start` (an offset at once; the others once resolved). */
export function setStart(state: PartitionState, start: StartOffset): void {
  // A position the app chose has no epoch to check with a new leader.
  state.lastFetchedEpoch = -1;
  if (typeof start === 'number') {
    state.start = null;
    state.position = start;
    state.fetchOffset = start;
  } else {
    state.start = start;
    state.position = undefined;
    state.fetchOffset = undefined;
  }
}

export function checkStart(start: StartOffset): StartOffset {
  if (start === 'earliest' || start === 'latest') return start;
  if (typeof start === 'number' && Number.isSafeInteger(start) && start >= 0) return start;
  if (start !== null && typeof start === 'object' && Number.isSafeInteger(start.timestamp) && start.timestamp >= 0) return { timestamp: start.timestamp };
  throw invalidArgument(`a start offset is 'earliest', 'latest', a non-negative offset or { timestamp: ms }, got ${JSON.stringify(start)}`);
}

/** The ListOffsets timestamp for a start: -2 earliest, -1 latest, else the time itself. */
export function timestampOf(start: Exclude<StartOffset, number>): number {
  if (start === 'earliest') return EARLIEST_TIMESTAMP;
  if (start === 'latest') return LATEST_TIMESTAMP;
  return start.timestamp;
}

/**
 * Pauses or resumes a partition. Pausing drops what was fetched for it and
 * not handed out (the epoch bump), so a resumed partition carries on from
 * the app's position with nothing skipped and nothing held in memory meanwhile.
 */
export function setPaused(state: PartitionState, paused: boolean): void {
  if (state.paused === paused) return;
  state.paused = paused;
  if (paused) restartAt(state, state.position);
}

/**
 * Delayed delivery ('wait'): the record at `offset` is not due before
 * `dueMs`, so the partition stops there, as a pause does (what was fetched
 * past it is dropped by the epoch bump) and is fetched again from it at
 * `dueMs`. Records after it wait too: a partition is handed out in order.
 */
export function holdUntil(state: PartitionState, offset: number, dueMs: number): void {
  state.heldUntilMs = dueMs;
  restartAt(state, offset);
}

/** Drops what was fetched (or is being fetched) for the partition and fetches again from `offset`. */
function restartAt(state: PartitionState, offset: number | undefined): void {
  state.epoch++;
  if (offset !== undefined) {
    state.fetchOffset = offset;
    state.lastFetchedEpoch = -1;
  }
}
