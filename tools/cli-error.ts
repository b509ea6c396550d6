/**
 * How the `runnel` command reports failure: one line on stderr that says what
 * went wrong and what to do about it, and a non-zero exit. Commands throw
 * `CliError` for mistakes they can explain themselves; anything else (an SDK
 * error, a refused connection, a bad file) is turned into one line here, once,
 * so no command prints a stack trace at a person.
 */
/** An empty message means "already reported": only the exit status is left to set. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Node's socket error codes that mean "no broker answered at that address". */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN']);

interface ErrorFacts {
  code?: unknown;
  errorName?: unknown;
  cause?: unknown;
  message?: unknown;
}

/**
 * What to do, for wire errors whose message may not say it (the SDK passes
 * the broker's words through). Added only when the message names no command.
 */
const ADVICE: Readonly<Record<string, string>> = {
  UNKNOWN_TOPIC_OR_PARTITION: 'see the topics with `runnel topic list`, or create it with `runnel topic create NAME`',
  TOPIC_ALREADY_EXISTS: 'pick another name, or delete the old topic first with `runnel topic delete NAME`',
  INVALID_CONFIG: 'see every setting and its current value with `runnel topic describe NAME --all-configs`',
  INVALID_TOPIC_EXCEPTION: 'use 1 to 249 characters from [a-zA-Z0-9._-]',
  DELIVERY_TIMEOUT: 'give the broker longer with --delivery-timeout-ms, or see its log for why it did not answer',
};

const START_ADVICE = 'Start one with `runnel start`, or point --bootstrap (or RUNNEL_BOOTSTRAP) at a running broker';

/** Context a command can add so the advice names the right address. */
export interface ErrorContext {
  bootstrap?: string;
}

/** One line, no trailing newline: `error: <what happened>; <what to do>`. */
export function describeError(err: unknown, context: ErrorContext = {}): string {
  return `error: ${explainError(err, context)}`;
}

/** The same line without the `error: ` prefix, for commands that wrap it in their own sentence. */
export function explainError(err: unknown, context: ErrorContext = {}): string {
  const text = oneLine(messageOf(err));
  const systemCode = systemCodeOf(err);
  const unreachable = systemCode !== undefined && UNREACHABLE_CODES.has(systemCode);
  const errorName = (err as ErrorFacts | null)?.errorName;
  // A send that timed out says itself which broker it could not reach and for how long.
  if (unreachable && errorName === 'DELIVERY_TIMEOUT') return `${text} ${START_ADVICE}.`;
  if (unreachable || errorName === 'CONNECTION_FAILED') {
    const where = context.bootstrap ?? 'the bootstrap address';
    const why = unreachable ? systemCode : 'no connection within the connect timeout';
    return `cannot reach a broker at ${where} (${why}); ${START_ADVICE.charAt(0).toLowerCase()}${START_ADVICE.slice(1)}`;
  }
  if (systemCode === 'ENOENT' || systemCode === 'EACCES' || systemCode === 'EISDIR') {
    return `${text}; check the path and its permissions`;
  }
  const advice = typeof errorName === 'string' ? ADVICE[errorName] : undefined;
  if (advice === undefined || text.includes('runnel ')) return text;
  return text.endsWith('.') ? `${text} ${advice.charAt(0).toUpperCase()}${advice.slice(1)}.` : `${text}; ${advice}`;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  return String(err);
}

/** The errno-style code of the error or of any error in its cause chain. */
function systemCodeOf(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const facts = current as ErrorFacts;
    if (typeof facts.code === 'string' && /^E[A-Z_]+$/.test(facts.code)) return facts.code;
    if (current instanceof AggregateError) {
      for (const inner of current.errors) {
        const code = systemCodeOf(inner);
        if (code !== undefined) return code;
      }
    }
    current = facts.cause;
  }
  return undefined;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ').trim();
}
