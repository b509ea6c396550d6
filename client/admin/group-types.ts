/**
 * The public shapes of the admin's consumer-group calls (Admin in
 * ../types.ts) and of lag, the figure the admin, the CLI and consumers share.
 */

/** A group as `listGroups` gives it. */
export interface GroupListing {
  group: string;
  /** "Empty", "Assigning", "Reconciling", "Stable" or "Dead". */
  state: string;
  /** "consumer". */
  type: string;
  /** The id of the broker that coordinates it. */
  coordinator: number;
}

/** A partition of a topic, as group calls name them. */
export interface GroupTopicPartition {
  topic: string;
  partition: number;
}

export interface GroupMemberDescription {
  memberId: string;
  /** Its static instance id (groupInstanceId); null for a dynamic member. */
  instanceId: string | null;
  clientId: string;
  /** The address its last heartbeat came from. */
  host: string;
  memberEpoch: number;
  /** What it owns now, sorted. */
  assignment: GroupTopicPartition[];
  /** What it is converging to (equal to `assignment` once the group is stable), sorted. */
  targetAssignment: GroupTopicPartition[];
}

export interface GroupDescription {
  group: string;
  state: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignor: string;
  coordinator: number;
  members: GroupMemberDescription[];
}

/** A group's committed position in one partition. */
export interface CommittedOffset extends GroupTopicPartition {
  /** The next offset the group will consume. */
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  /** When the coordinator stored it (ms since the epoch). */
  commitTimestampMs: number;
}

/**
 * The lag of one partition (client/lag.ts has the rules): `lag` in records,
 * `lagSeconds` the age of the oldest unconsumed record (0 when caught up).
 * The log figures are null for a topic or partition that does not exist.
 */
export interface PartitionLag extends GroupTopicPartition {
  /** The committed offset; null when the group has none for it. */
  committedOffset: number | null;
  logStartOffset: number | null;
  /** The high watermark: the end a consumer can read to. */
  logEndOffset: number | null;
  lag: number | null;
  lagSeconds: number | null;
}

/** A partition of a group with its lag and the member that owns it (null: none). */
export interface GroupPartitionLag extends PartitionLag {
  member: string | null;
  /** The owner's address; null without one. */
  host: string | null;
}

/** Where `resetGroupOffsets` moves each partition to (Kafka's kafka-consumer-groups --reset-offsets). */
export type OffsetResetSpec =
  | { to: 'earliest' }
  | { to: 'latest' }
  /** An offset, brought into the partition's [log start, high watermark] if outside it. */
  | { to: 'offset'; offset: number }
  /** The first record at or after this time; the high watermark when no record is that recent. */
  | { to: 'datetime'; timestampMs: number }
  /** The committed offset moved by this many (negative: back), within [log start, high watermark]. */
  | { shiftBy: number };

export interface OffsetResetPlanEntry extends GroupTopicPartition {
  /** The committed offset now; null when there is none. */
  currentOffset: number | null;
  newOffset: number;
}

export interface OffsetResetResult {
  /** False for a plan (nothing committed). */
  executed: boolean;
  partitions: OffsetResetPlanEntry[];
}

/** One group's result of `deleteGroups`: `error` null on success. */
export interface GroupOutcome {
  group: string;
  error: { name: string; message: string } | null;
}
