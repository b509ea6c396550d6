/**
 * Invariant checks for our own code (never for bad input: that gets a typed
 * error). The message names the invariant that broke and the values that
 * broke it, so a failure in a crash test says what went wrong, not just where.
 */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

export function assert(condition: unknown, invariant: string, context?: Record<string, unknown>): asserts condition {
  if (!condition) {
    const detail = context === undefined ? '' : ` ${JSON.stringify(context, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`;
    throw new InvariantError(`invariant broken: ${invariant}${detail}`);
  }
}
