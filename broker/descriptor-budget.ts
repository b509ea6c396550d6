/**
 * How the broker spends its file descriptors (`ulimit -n`), decided once at
 * start-up from the limit and what the process already holds:
 *
 *   limit = held at start + headroom        the broker's own: worker threads,
 *                                            the metadata log, the data-dir lock,
 *                                            the listening socket, short-lived
 *                                            files (state files, directory fsyncs),
 *                                            the segment files' overdraft
 *         + admin.reserved.connections      loopback connections past max.connections
 *         + max.connections                 client connections
 *         + segment files                   the HandleCache budget of the logs
 *
 * `max.connections` left at -1 takes a quarter of what remains after the
 * broker's own share and the admin reserve; the segment files take the rest.
 * Partitions are not bounded by any of it: segment files beyond the budget
 * are closed while idle and reopened on use (storage/handle-cache.ts).
 * Segment files written and not yet synced are synced before they are
 * closed, and meanwhile borrow up to the overdraft from the headroom; files
 * with an fdatasync in flight are bounded so that this always suffices
 * (the HandleCache holds at most segment files + overdraft).
 *
 * Pure: the limit and the count come from world/descriptors.ts.
 */

export class DescriptorBudgetError extends Error {
  override name = 'DescriptorBudgetError';
}

export interface DescriptorBudgetInput {
  /** RLIMIT_NOFILE (soft); null when unknown. */
  limit: number | null;
  /** Descriptors held before the broker opens anything; null when unknown. */
  inUse: number | null;
  /** The max.connections setting; -1 derives it. */
  maxConnections: number;
  adminReservedConnections: number;
  /** Recovery scan and cleaner worker threads (each holds a few descriptors of its own). */
  workerThreads: number;
  /** Transient descriptor slots of the HandleCache. */
  transientFiles: number;
  /** Descriptors written segment files may hold past the HandleCache budget before they are synced and closed on the spot. */
  segmentFilesOverdraft: number;
}

export interface DescriptorBudget {
  limit: number | null;
  /** Held at start plus headroom: what the broker keeps for itself. */
  reservedForBroker: number;
  /** Client connections accepted at once (not counting the admin reserve). */
  maxConnections: number;
  adminReservedConnections: number;
  /** The HandleCache budget; undefined when the limit is unknown (every file stays open). */
  segmentFiles: number | undefined;
  /** The start-up log line. */
  summary: string;
}

/** Descriptors a worker thread holds (its event loop's epoll and wake-up fds; measured: 4). */
export const DESCRIPTORS_PER_WORKER_THREAD = 4;
/** The metadata log, the lock, the listening socket, libuv's spare for EMFILE, and slack. */
const FIXED_HEADROOM = 16;
/** Fewer segment files than this and every fetch would reopen files: refuse to start. */
export const SEGMENT_FILES_MIN = 16;
/** The share of what is left that max.connections takes when derived. */
const CONNECTION_SHARE = 0.25;
const UNLIMITED_CONNECTIONS = 0x7fffffff;

export function planDescriptors(input: DescriptorBudgetInput): DescriptorBudget {
  const admin = input.adminReservedConnections;
  if (input.limit === null) {
    const maxConnections = input.maxConnections < 0 ? UNLIMITED_CONNECTIONS : input.maxConnections;
    return {
      limit: null,
      reservedForBroker: 0,
      maxConnections,
      adminReservedConnections: admin,
      segmentFiles: undefined,
      summary: `the file-descriptor limit is unknown on this platform: segment files stay open, ${maxConnections === UNLIMITED_CONNECTIONS ? 'connections are not limited' : `up to ${maxConnections} client connections`}`,
    };
  }
  const limit = input.limit;
  const reservedForBroker = (input.inUse ?? 0) + FIXED_HEADROOM + input.transientFiles + input.segmentFilesOverdraft + input.workerThreads * DESCRIPTORS_PER_WORKER_THREAD;
  const available = limit - reservedForBroker - admin;
  const derived = input.maxConnections < 0;
  const maxConnections = derived ? Math.max(1, Math.floor(available * CONNECTION_SHARE)) : input.maxConnections;
  const segmentFiles = available - maxConnections;
  if (segmentFiles < SEGMENT_FILES_MIN) {
    const needed = reservedForBroker + admin + (derived ? Math.ceil(SEGMENT_FILES_MIN / (1 - CONNECTION_SHARE)) : maxConnections + SEGMENT_FILES_MIN);
    throw new DescriptorBudgetError(derived
      ? `the file-descriptor limit (ulimit -n) is ${limit}, too low to run a broker: it keeps ${reservedForBroker} for itself and needs at least ${needed} in all; raise it (ulimit -n ${Math.max(needed, 1024)})`
      : `max.connections=${maxConnections} leaves ${Math.max(0, segmentFiles)} of the ${limit} file descriptors (ulimit -n) for segment files, fewer than ${SEGMENT_FILES_MIN}; lower max.connections or raise the limit to at least ${needed}`);
  }
  return {
    limit,
    reservedForBroker,
    maxConnections,
    adminReservedConnections: admin,
    segmentFiles,
    summary: `file-descriptor limit ${limit} (ulimit -n): ${maxConnections} client connections (max.connections${derived ? ', derived' : ''}) plus ${admin} reserved for loopback administrators, `
      + `${segmentFiles} open segment files (${Math.floor(segmentFiles / 3)} partitions' files open at once; any number of partitions, idle files are closed and reopened on use), ${reservedForBroker} kept for the broker itself`,
  };
}
