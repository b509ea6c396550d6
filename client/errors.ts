/**
 * The one error type the SDK throws. Errors that came over the wire keep the
 * broker's code, name and retriability from `protocol/errors.ts`, so an app
 * can branch on `err.errorName === 'UNKNOWN_TOPIC_OR_PARTITION'` or
 * `err.retriable` without parsing messages. Conditions that only the client
 * can see (a closed producer, a bad argument) get codes of their own, above
 * 1000, so they never collide with a wire code.
 */
import { Errors, errorNameOf, type ErrorName, type ErrorSpec } from '../protocol/errors.js';

/** Client-side conditions: never on the wire. */
export const ClientErrors = {
  CLIENT_CLOSED: { code: 1001, retriable: false, message: 'This client (or producer/consumer) was closed; create a new one to continue.' },
  INVALID_ARGUMENT: { code: 1002, retriable: false, message: 'An argument is invalid; the message says which and why.' },
  CONNECTION_FAILED: { code: 1003, retriable: true, message: 'Could not connect to the broker; check that it is running and that the bootstrap address is right.' },
  DELIVERY_TIMEOUT: {
    code: 1004,
    retriable: false,
    message: 'A record was not acknowledged within the producer\'s deliveryTimeoutMs; the message says what it was waiting for. Records that were already sent may still have been written.',
  },
  BROKER_CIRCUIT_OPEN: {
    code: 1005,
    retriable: true,
    message: 'The client stopped sending to this broker for a cool-down after repeated failures (its circuit breaker is open); retry: the retry refreshes metadata and finds the new leader, or probes the broker once the cool-down ends.',
  },
  BROKER_BULKHEAD_FULL: {
    code: 1006,
    retriable: true,
    message: 'Too many requests to this broker are in flight or waiting already (its bulkhead is full); retry after a backoff.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ClientErrorName = keyof typeof ClientErrors;

/**
 * Every name a RunnelError can carry: the wire table's and the client's own.
 * Code that branches on an error compares these names (a misspelling does
 * not compile), never the numbers behind them.
 */
export type RunnelErrorName = ErrorName | ClientErrorName;

export class RunnelError extends Error {
  override name = 'RunnelError';
  readonly code: number;
  readonly errorName: RunnelErrorName;
  readonly retriable: boolean;
  /**
   * What went wrong, in a sentence without the error's name, the operation
   * the SDK was doing or advice for SDK callers: for tools that say it in
   * their own words (the `runnel` command gives command-line advice).
   */
  readonly reason: string;
  /** The partition the error is about, when it is about one. */
  readonly topicPartition: { topic: string; partition: number } | undefined;
  /** The offsets the error is about, when it is about some (a damaged batch's first and last). */
  readonly offsets: { first: number; last: number } | undefined;

  constructor(errorName: RunnelErrorName, detail?: string, options?: RunnelErrorOptions) {
    const spec: ErrorSpec = isClientErrorName(errorName) ? ClientErrors[errorName] : Errors[errorName];
    super(detail === undefined ? `${errorName}: ${spec.message}` : `${errorName}: ${detail}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = spec.code;
    this.errorName = errorName;
    this.retriable = options?.retriable ?? spec.retriable;
    this.reason = options?.reason ?? detail ?? spec.message;
    this.topicPartition = options?.topicPartition;
    this.offsets = options?.offsets;
  }

  /**
   * The error for a non-zero code in a response. `context` says what was being
   * done ("producing to orders-2"). The broker's own message, when it sent
   * one, says what went wrong in particular, so it is used instead of the
   * table's general message (which would say the same thing again); without
   * one, the table's message says what the code means and what to do. The
   * table's `advice`, for errors whose broker message says only what
   * happened, comes after either.
   */
  static fromCode(code: number, context: string, brokerMessage?: string | null, options?: Omit<RunnelErrorOptions, 'reason' | 'cause'>): RunnelError {
    const name = errorNameOf(code);
    const spec: ErrorSpec = Errors[name];
    const unknown = name === 'UNKNOWN_SERVER_ERROR' && code !== -1 ? ` (unknown error code ${code} from a newer broker)` : '';
    const reason = `${brokerMessage || spec.message}${unknown}`;
    const advice = spec.advice === undefined ? '' : `${/[.!?]$/.test(reason) ? '' : '.'} ${spec.advice}`;
    return new RunnelError(name, `${context}: ${reason}${advice}`, { ...options, reason });
  }
}

export interface RunnelErrorOptions {
  cause?: unknown;
  retriable?: boolean;
  /** What went wrong, when `detail` says more (the SDK's operation, its advice). Default: `detail`. */
  reason?: string;
  topicPartition?: { topic: string; partition: number };
  offsets?: { first: number; last: number };
}

function isClientErrorName(name: RunnelErrorName): name is ClientErrorName {
  return Object.hasOwn(ClientErrors, name);
}

export function isRetriable(err: unknown): boolean {
  return err instanceof RunnelError && err.retriable;
}

export function invalidArgument(detail: string): RunnelError {
  return new RunnelError('INVALID_ARGUMENT', detail);
}

export function clientClosed(what: string): RunnelError {
  return new RunnelError('CLIENT_CLOSED', `${what} is closed; create a new one to continue.`);
}

/**
 * The errno-style code (ECONNREFUSED, ENOENT, ...) of an error or of any
 * error in its cause chain (or inside an AggregateError, as Node's
 * happy-eyeballs connect gives), for code that words a failure by its cause.
 */
export function systemCodeOf(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  for (let current: unknown = err; typeof current === 'object' && current !== null && !seen.has(current); current = (current as { cause?: unknown }).cause) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    if (current instanceof AggregateError) {
      for (const inner of current.errors) {
        const innerCode = systemCodeOf(inner);
        if (innerCode !== undefined) return innerCode;
      }
    }
  }
  return undefined;
}
