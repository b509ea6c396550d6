/**
 * The handler edge, where internal typed errors become wire errors
 * (protocol/errors.ts), in one place, as redpanda's map_produce_error_code
 * and Kafka's Errors.forException: storage's typed errors, bad batch bytes,
 * bad settings and protocol errors map to their codes with their messages;
 * anything else is a bug or an unforeseen failure and becomes
 * UNKNOWN_SERVER_ERROR, with its stack in the broker log (the client gets
 * only the generic message: internals stay inside).
 */
import { BatchFormatError } from '../../protocol/batch/header.js';
import { ProtocolDecodeError } from '../../protocol/decode-error.js';
import { Errors, ProtocolError, type ErrorName } from '../../protocol/errors.js';
import type { Logger } from '../log.js';
import { ConfigError } from '../storage/log-config.js';
import { KeylessRecordError } from '../storage/compaction-records.js';
import { CorruptLogError, LogOfflineError, OffsetOutOfRangeError, RecordTooLargeError } from '../storage/errors.js';

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
  // The code already names the error: the message says only what went wrong.
  if (error instanceof ProtocolError) return wire(error.errorName, error.detail);
  if (error instanceof OffsetOutOfRangeError) return wire('OFFSET_OUT_OF_RANGE', error.message);
  if (error instanceof RecordTooLargeError) return wire('MESSAGE_TOO_LARGE', error.message);
  if (error instanceof KeylessRecordError) return wire('INVALID_RECORD', error.message);
  if (error instanceof BatchFormatError) return wire('CORRUPT_MESSAGE', `the record batch is invalid: ${error.message}`);
  if (error instanceof ConfigError) return wire('INVALID_CONFIG', error.message);
  if (error instanceof ProtocolDecodeError) return wire('INVALID_REQUEST', error.message);
  if (error instanceof CorruptLogError) {
    logger.error({ err: error, ...context }, 'partition log is corrupt');
    return wire('CORRUPT_SEGMENT', `${Errors.CORRUPT_SEGMENT.message} (${error.message})`);
  }
  if (error instanceof LogOfflineError) {
    logger.error({ err: error, ...context }, 'partition log is offline');
    return wire('KAFKA_STORAGE_ERROR', `${Errors.KAFKA_STORAGE_ERROR.message} (${error.message})`);
  }
  logger.error({ err: error, ...context }, 'unexpected error while handling a request');
  return wire('UNKNOWN_SERVER_ERROR', Errors.UNKNOWN_SERVER_ERROR.message);
}

/** The error code NONE and no message, for successful results. */
export const NO_ERROR: WireError = wire('NONE', '');
