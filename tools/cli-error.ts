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
  /** RunnelError's: what went wrong, without the SDK's operation or its advice for code. */
  reason?: unknown;
  /** RunnelError's: the partition it is about, if any. */
  topicPartition?: { topic: string; partition: number };
  cause?: unknown;
  message?: unknown;
}

/** Context a command can add so the advice names the right address and topic. */
export interface ErrorContext {
  bootstrap?: string;
  topic?: string;
}

/** A reason that is about a partition number rather than the topic as a whole. */
const PARTITION_PROBLEM = /has no partition|has partitions|\bpartitions? \d/i;

/**
 * SDK errors in the words of the command line: what went wrong (the
 * broker's or the SDK's `reason`, said once) and what to type about it,
 * never the SDK's advice for code ("seek to 'earliest'") or the name of an
 * SDK call the user did not make ("Describing topic" while consuming).
 */
const EXPLAIN: Readonly<Record<string, (reason: string, topic: string | undefined, partition: string | undefined) => string>> = {
  UNKNOWN_TOPIC_OR_PARTITION: (reason, topic) => {
    if (topic === undefined) return `${reason}; see the topics with \`runnel topic list\``;
    if (PARTITION_PROBLEM.test(reason)) return `${reason}; see its partitions with \`runnel topic describe ${topic}\``;
    return `topic ${topic} does not exist; see the topics with \`runnel topic list\`, or create it with \`runnel topic create ${topic}\``;
  },
  TOPIC_ALREADY_EXISTS: (reason, topic) =>
    topic === undefined
      ? reason
      : `topic ${topic} already exists; pick another name, pass --if-not-exists to accept the existing topic, or delete it first with \`runnel topic delete ${topic}\``,
  OFFSET_OUT_OF_RANGE: (reason, topic) =>
    `${reason}; start with --from-beginning, --from-time, or an --offset the partition holds (see \`runnel offsets ${topic ?? 'TOPIC'}\`)`,
  INVALID_CONFIG: (reason) => `${reason}; \`runnel start --help\` describes every topic setting and its values (as log.<name>)`,
  // The wire name stays: it is what the broker log and the docs call this state.
  CORRUPT_SEGMENT: (reason, _topic, partition) =>
    `CORRUPT_SEGMENT${partition === undefined ? '' : ` on ${partition}`}: ${reason}; stop the broker and run \`runnel recover <data.dir>/${partition ?? '<topic>-<partition>'}\` to cut the log at the last good batch (what follows is set aside, not deleted)`,
};

const START_ADVICE = 'start one with `runnel start`, or point --bootstrap (or RUNNEL_BOOTSTRAP) at a running broker';

/** One line, no trailing newline: `error: <what happened>; <what to do>`. */
export function describeError(err: unknown, context: ErrorContext = {}): string {
  return `error: ${explainError(err, context)}`;
}

/** The same line without the `error: ` prefix, for commands that wrap it in their own sentence. */
export function explainError(err: unknown, context: ErrorContext = {}): string {
  const text = oneLine(messageOf(err));
  const systemCode = systemCodeOf(err);
  const unreachable = systemCode !== undefined && UNREACHABLE_CODES.has(systemCode);
  const facts = (err ?? {}) as ErrorFacts;
  // A send that timed out says itself what it waited for, and which broker it could not reach for how long.
  if (facts.errorName === 'DELIVERY_TIMEOUT' && typeof facts.reason === 'string') {
    const said = oneLine(facts.reason).replace(/\.$/, '');
    const lowered = `${said.charAt(0).toLowerCase()}${said.slice(1)}`;
    return `${lowered}; ${unreachable ? START_ADVICE : 'give it longer with --delivery-timeout-ms, or see the broker\'s log for why it did not answer'}`;
  }
  if (unreachable || facts.errorName === 'CONNECTION_FAILED') {
    const where = context.bootstrap ?? 'the bootstrap address';
    const why = unreachable ? systemCode : 'no connection within the connect timeout';
    return `cannot reach a broker at ${where} (${why}); ${START_ADVICE}`;
  }
  if (systemCode === 'ENOENT' || systemCode === 'EACCES' || systemCode === 'EISDIR') {
    return `${text}; check the path and its permissions`;
  }
  const { errorName, reason, topicPartition } = facts;
  if (typeof errorName !== 'string' || typeof reason !== 'string') return text;
  const partition = topicPartition === undefined ? undefined : `${topicPartition.topic}-${topicPartition.partition}`;
  let said = oneLine(reason).replace(/\.$/, '');
  const explain = EXPLAIN[errorName];
  if (explain !== undefined) return explain(said, context.topic, partition);
  // Say which partition, when the reason does not.
  if (partition !== undefined && !said.includes(partition)) said = `${partition}: ${said}`;
  return said;
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
