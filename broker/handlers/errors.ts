/**
 * The handler edge, where internal typed errors become wire errors
 * (protocol/errors.ts), in one place, as redpanda's map_produce_error_code
 * and Kafka's Errors.forException: the broker's typed errors (controller,
 * replica manager, partition: broker/errors.ts), storage's typed errors, bad
 * batch bytes, bad settings and protocol errors map to their codes with
 * their messages;
 * anything else is a bug or an unforeseen failure and becomes
 * UNKNOWN_SERVER_ERROR, with its stack in the broker log (the client gets
 * only the generic message: internals stay inside).
 *
 * A broken invariant (InvariantError) has no wire form: the broker's own
 * state is wrong, so `toWireError` rethrows it, which ends the handler; the
 * handler table sends it to the broker-wide fatal path (faults.ts) and the
 * connection answers the request with `requestWireError`. A partition's own
 * broken invariants never arrive as one: the partition takes its log
 * offline and they arrive as its LogOfflineError (KAFKA_STORAGE_ERROR).
 */
import { BatchFormatError } from '../../protocol/batch/header.js';
import { ProtocolDecodeError } from '../../protocol/decode-error.js';
import { Errors, ProtocolError, type ErrorName } from '../../protocol/errors.js';
import {
  ControllerClosedError,
  FencedLeaderEpochError,
  InvalidPartitionsError,
  InvalidReplicationFactorError,
  InvalidTopicNameError,
  NotEnoughReplicasAfterAppendError,
  NotLeaderError,
  PartitionStorageError,
  TopicExistsError,
  UnknownLeaderEpochError,
  UnknownSettingError,
  UnknownTopicOrPartitionError,
} from '../errors.js';
import type { Logger } from '../log.js';
import { ConfigError } from '../storage/log-config.js';
import { KeylessRecordError } from '../storage/compaction-records.js';
import { EncryptionKeyError } from '../storage/encryption/key-provider.js';
import { AppendBackpressureError, corruptionIn, LogOfflineError, OffsetOutOfRangeError, RecordTooLargeError } from '../storage/errors.js';
import { InvariantError } from '../world/assert.js';

export interface WireError {
  readonly errorName: ErrorName;
  readonly code: number;
  readonly message: string;
}

function wire(errorName: ErrorName, message: string): WireError {
  return { errorName, code: Errors[errorName].code, message };
}

/** The wire error for `error`; unexpected ones are logged with their stack and `context`. */
export function toWireError(error: unknown, logger: Logger, context: Record<string, unknown> = {}): WireError {
  if (error instanceof InvariantError) throw error;
  // The code already names the error: the message says only what went wrong.
  if (error instanceof ProtocolError) return wire(error.errorName, error.detail);
  const broker = brokerErrorName(error);
  if (broker !== null) return wire(broker, (error as Error).message);
  if (error instanceof OffsetOutOfRangeError) return wire('OFFSET_OUT_OF_RANGE', error.message);
  if (error instanceof RecordTooLargeError) return wire('MESSAGE_TOO_LARGE', error.message);
  if (error instanceof AppendBackpressureError) return wire('REQUEST_TIMED_OUT', error.message);
  if (error instanceof KeylessRecordError) return wire('INVALID_RECORD', error.message);
  if (error instanceof BatchFormatError) return wire('CORRUPT_MESSAGE', `the record batch is invalid: ${error.message}`);
  if (error instanceof ConfigError) return wire('INVALID_CONFIG', error.message);
  if (error instanceof ProtocolDecodeError) return wire('INVALID_REQUEST', error.message);
  const corruption = corruptionIn(error);
  if (corruption !== null) {
    logger.error({ err: error, ...context }, 'partition log is corrupt');
    // The detail only: clients add the table's words (what to do) themselves, so nothing is said twice.
    return wire('CORRUPT_SEGMENT', corruption.message);
  }
  if (error instanceof EncryptionKeyError) {
    // A key missing from the keyring (encryption at rest): the partition stays online, the operator adds the key.
    logger.error({ err: error, ...context }, 'an encryption key is missing');
    return wire('KAFKA_STORAGE_ERROR', error.message);
  }
  if (error instanceof LogOfflineError) {
    logger.error({ err: error, ...context }, 'partition log is offline');
    return wire('KAFKA_STORAGE_ERROR', error.message);
  }
  logger.error({ err: error, ...context }, 'unexpected error while handling a request');
  return wire('UNKNOWN_SERVER_ERROR', Errors.UNKNOWN_SERVER_ERROR.message);
}

/** The wire name of one of the broker's typed errors (broker/errors.ts), or null for any other error. */
function brokerErrorName(error: unknown): ErrorName | null {
  if (error instanceof UnknownTopicOrPartitionError) return 'UNKNOWN_TOPIC_OR_PARTITION';
  if (error instanceof NotLeaderError) return 'NOT_LEADER_OR_FOLLOWER';
  if (error instanceof NotEnoughReplicasAfterAppendError) return 'NOT_ENOUGH_REPLICAS_AFTER_APPEND';
  if (error instanceof FencedLeaderEpochError) return 'FENCED_LEADER_EPOCH';
  if (error instanceof UnknownLeaderEpochError) return 'UNKNOWN_LEADER_EPOCH';
  if (error instanceof TopicExistsError) return 'TOPIC_ALREADY_EXISTS';
  if (error instanceof InvalidTopicNameError) return 'INVALID_TOPIC_EXCEPTION';
  if (error instanceof InvalidPartitionsError) return 'INVALID_PARTITIONS';
  if (error instanceof InvalidReplicationFactorError) return 'INVALID_REPLICATION_FACTOR';
  if (error instanceof UnknownSettingError) return 'INVALID_CONFIG';
  if (error instanceof PartitionStorageError) return 'KAFKA_STORAGE_ERROR';
  // Retriable: a client retries and reaches the broker once it is back.
  if (error instanceof ControllerClosedError) return 'LEADER_NOT_AVAILABLE';
  return null;
}

/** What a request that met a broken invariant in broker-wide state is told: not transient, and not the internals. */
export const BROKER_STOPPING = 'the broker found its own state inconsistent (a broken invariant) and is stopping; this is not transient, retry once it has restarted (its log has the details)';

/**
 * The wire error for a request that failed as a whole (the connection's
 * answer): `toWireError`'s, and for a broken invariant, that the broker is
 * stopping (the handler table has set off the fatal path).
 */
export function requestWireError(error: unknown, logger: Logger, context: Record<string, unknown> = {}): WireError {
  if (error instanceof InvariantError) return wire('UNKNOWN_SERVER_ERROR', BROKER_STOPPING);
  return toWireError(error, logger, context);
}

/**
 * The wire error a partition that cannot serve answers with, without
 * logging (Metadata asks on every request): CORRUPT_SEGMENT when its log is
 * corrupt (non-retriable: only an operator can fix it), else KAFKA_STORAGE_ERROR.
 */
export function offlineErrorName(reason: unknown): 'CORRUPT_SEGMENT' | 'KAFKA_STORAGE_ERROR' {
  return corruptionIn(reason) === null ? 'KAFKA_STORAGE_ERROR' : 'CORRUPT_SEGMENT';
}

/** The error code NONE and no message, for successful results. */
export const NO_ERROR: WireError = wire('NONE', '');
