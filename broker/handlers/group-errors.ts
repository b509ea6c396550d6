/**
 * The wire error of a failed group operation: the coordinator's own refusals
 * (not the coordinator, loading, not available, timed out) by name, and
 * anything else as handlers/errors.ts maps it.
 */
import { CoordinatorError } from '../coordinator/runtime.js';
import type { Logger } from '../log.js';
import { Errors } from '../../protocol/errors.js';
import { toWireError, type WireError } from './errors.js';

export function groupWireError(error: unknown, logger: Logger, context: Record<string, unknown>): WireError {
  if (error instanceof CoordinatorError) return { errorName: error.errorName, code: Errors[error.errorName].code, message: error.message };
  return toWireError(error, logger, context);
}
