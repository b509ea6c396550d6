/**
 * The broker's own typed errors: what the controller (topic changes) and the
 * replica manager and `Partition` (reaching and serving a partition) throw.
 * They never carry wire codes: `handlers/errors.ts` maps each to its
 * `protocol/errors.ts` entry once, at the edge (storage's typed errors live in
 * `storage/errors.ts` and are mapped there too). A message says what went
 * wrong and, where it helps, what to do; the wire code already names the kind.
 */
import { OffsetOutOfRangeError } from './storage/errors.js';

/** The topic, or that partition of it, is not in the metadata (never was, or was deleted). -> UNKNOWN_TOPIC_OR_PARTITION */
export class UnknownTopicOrPartitionError extends Error {
  override name = 'UnknownTopicOrPartitionError';
  constructor(readonly topic: string, readonly partition: number | null, message: string) {
    super(message);
  }
}

/** A topic of that name exists already. -> TOPIC_ALREADY_EXISTS */
export class TopicExistsError extends Error {
  override name = 'TopicExistsError';
  constructor(readonly topic: string) {
    super(`topic ${topic} already exists`);
  }
}

/** Whether a topic creation failed because the topic exists: here, or as a remote controller's TOPIC_ALREADY_EXISTS answer. */
export function isTopicExists(error: unknown): boolean {
  return error instanceof TopicExistsError || /TOPIC_ALREADY_EXISTS/.test(String((error as Error | undefined)?.message));
}

/** The name breaks the naming rules, or is reserved (internal topics) for what was asked. -> INVALID_TOPIC_EXCEPTION */
export class InvalidTopicNameError extends Error {
  override name = 'InvalidTopicNameError';
  constructor(readonly topic: string, message: string) {
    super(message);
  }
}

/** A partition count that is out of range, or does not grow the topic. -> INVALID_PARTITIONS */
export class InvalidPartitionsError extends Error {
  override name = 'InvalidPartitionsError';
}

/** A replication factor the cluster cannot give. -> INVALID_REPLICATION_FACTOR */
export class InvalidReplicationFactorError extends Error {
  override name = 'InvalidReplicationFactorError';
}

/** A topic setting that does not exist (a bad value of a known one is storage's ConfigError). -> INVALID_CONFIG */
export class UnknownSettingError extends Error {
  override name = 'UnknownSettingError';
  constructor(readonly setting: string) {
    super(`unknown topic setting ${setting}`);
  }
}

/**
 * The change was committed, but this broker could not carry it out on its
 * disk (a log that would not open or be created, or be removed). Says what
 * stands and what happens next. -> KAFKA_STORAGE_ERROR
 */
export class PartitionStorageError extends Error {
  override name = 'PartitionStorageError';
}

/** The controller stopped taking changes (the process is shutting down). -> LEADER_NOT_AVAILABLE (retriable: another try reaches a live one) */
export class ControllerClosedError extends Error {
  override name = 'ControllerClosedError';
  constructor() {
    super('the broker is shutting down');
  }
}

/** This broker hosts the partition but does not lead it, or does not host it at all. -> NOT_LEADER_OR_FOLLOWER */
export class NotLeaderError extends Error {
  override name = 'NotLeaderError';
  constructor(readonly topic: string, readonly partition: number, readonly leader: number, message: string) {
    super(message);
  }
}

/**
 * An acks=all append reached every in-sync replica, but the ISR had shrunk
 * below the topic's min.insync.replicas by then: the records are written
 * (on fewer replicas than asked) and not acknowledged. -> NOT_ENOUGH_REPLICAS_AFTER_APPEND
 */
export class NotEnoughReplicasAfterAppendError extends Error {
  override name = 'NotEnoughReplicasAfterAppendError';
  constructor(readonly topic: string, readonly partition: number, message: string) {
    super(message);
  }
}

/** The request's leader epoch is older than this replica's: the sender has stale metadata. -> FENCED_LEADER_EPOCH */
export class FencedLeaderEpochError extends Error {
  override name = 'FencedLeaderEpochError';
  constructor(readonly topic: string, readonly partition: number, readonly requestEpoch: number, readonly currentEpoch: number) {
    super(`${topic}-${partition} is at leader epoch ${currentEpoch}; the request's epoch ${requestEpoch} is older (refresh metadata)`);
  }
}

/** The request's leader epoch is newer than this replica's: this broker has not learned it yet. -> UNKNOWN_LEADER_EPOCH */
export class UnknownLeaderEpochError extends Error {
  override name = 'UnknownLeaderEpochError';
  constructor(readonly topic: string, readonly partition: number, readonly requestEpoch: number, readonly currentEpoch: number) {
    super(`${topic}-${partition} is at leader epoch ${currentEpoch} here; the request's epoch ${requestEpoch} is newer than this broker knows (retry shortly)`);
  }
}

/** A fetch or lookup outside a partition's log, said with the partition and what to do. -> OFFSET_OUT_OF_RANGE */
export class PartitionOffsetOutOfRangeError extends OffsetOutOfRangeError {
  override name = 'PartitionOffsetOutOfRangeError';
  constructor(readonly topic: string, readonly partition: number, offset: number, logStartOffset: number, logEndOffset: number) {
    super(offset, logStartOffset, logEndOffset);
    this.message = `offset ${offset} is outside ${topic}-${partition}, which holds [${logStartOffset}, ${logEndOffset}); seek to earliest or latest`;
  }
}
