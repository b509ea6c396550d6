/**
 * How the `runnel` command reports failure: one line on stderr that says what
 * went wrong and what to do about it, and a non-zero exit. Commands throw
 * `CliError` for mistakes they can explain themselves; anything else (an SDK
 * error, a refused connection, a bad file) is turned into one line here, once,
 * so no command prints a stack trace at a person.
 */
import { systemCodeOf, type RunnelErrorName } from '../client/errors.js';

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
  /** RunnelError's: the offsets it is about, if any (a damaged batch's). */
  offsets?: { first: number; last: number };
  cause?: unknown;
  message?: unknown;
}

/** Context a command can add so the advice names the right address and topic. */
export interface ErrorContext {
  bootstrap?: string;
  topic?: string;
  /** The consumer group it works on (`groups describe <group>`). */
  group?: string;
  /** The command as typed, without `runnel` (`topic delete`), so advice never suggests what was just done. */
  command?: string;
}

/** What an explanation may use: the command's context and the error's structured facts. */
interface Facts extends ErrorContext {
  topicPartition?: { topic: string; partition: number };
  offsets?: { first: number; last: number };
}

const TOPIC_LIST_ADVICE = 'see the topics with `runnel topic list`';

/** `<data.dir>/orders-0`: where an operator finds a partition. */
const partitionDir = (tp: { topic: string; partition: number } | undefined): string =>
  `<data.dir>/${tp === undefined ? '<topic>-<partition>' : `${tp.topic}-${tp.partition}`}`;

/**
 * SDK errors in the words of the command line: what went wrong (the
 * broker's or the SDK's `reason`, said once) and what to type about it,
 * never the SDK's advice for code ("seek to 'earliest'") or the name of an
 * SDK call the user did not make ("Describing topic" while consuming).
 * Which advice fits is decided by the error's structured facts (its name,
 * partition, offsets), never by the wording of its reason.
 */
type Explain = (reason: string, facts: Facts) => string;

// `satisfies`: a key that is not an error's name (a misspelling) does not compile.
const EXPLAIN: Readonly<Record<string, Explain>> = {
  UNKNOWN_TOPIC_OR_PARTITION: (reason, { topic, topicPartition, command }) => {
    if (topicPartition !== undefined) return `${reason}; see its partitions with \`runnel topic describe ${topicPartition.topic}\``;
    if (topic === undefined) return `${reason}; ${TOPIC_LIST_ADVICE}`;
    if (command === 'topic delete') return `topic ${topic} does not exist; ${TOPIC_LIST_ADVICE}`;
    return `topic ${topic} does not exist; ${TOPIC_LIST_ADVICE}, or create it with \`runnel topic create ${topic}\``;
  },
  TOPIC_ALREADY_EXISTS: (reason, { topic }) =>
    topic === undefined
      ? reason
      : `topic ${topic} already exists; pick another name, pass --if-not-exists to accept the existing topic, or delete it first with \`runnel topic delete ${topic}\``,
  OFFSET_OUT_OF_RANGE: (reason, { topic }) =>
    `${reason}; start with --from-beginning, --from-time, or an --offset the partition holds (see \`runnel offsets ${topic ?? 'TOPIC'}\`)`,
  GROUP_ID_NOT_FOUND: (reason, { group }) => (group === undefined ? reason : `group ${group} does not exist; see the groups with \`runnel groups list\``),
  INCONSISTENT_GROUP_PROTOCOL: (reason) => `${reason}; a queue (share group) needs a group id that no consumer group uses: pick another --group (see the groups with \`runnel groups list\`)`,
  NON_EMPTY_GROUP: (reason, { group }) => (group === undefined ? reason : `${reason}; see its members with \`runnel groups describe ${group}\``),
  INVALID_CONFIG: (reason) => `${reason}; \`runnel start --help\` describes every topic setting and its values (as log.<name>)`,
  // The wire name stays: it is what the broker log and the docs call this state.
  CORRUPT_SEGMENT: (reason, { topicPartition }) =>
    `CORRUPT_SEGMENT${topicPartition === undefined ? '' : ` on ${topicPartition.topic}-${topicPartition.partition}`}: ${reason}; stop the broker and run \`runnel recover ${partitionDir(topicPartition)}\` to cut the log at the last good batch (what follows is set aside, not deleted)`,
  CORRUPT_MESSAGE: (reason, { topic, topicPartition, offsets }) => {
    const name = topicPartition?.topic ?? topic ?? 'TOPIC';
    const where = topicPartition === undefined ? '' : ` --partition ${topicPartition.partition}`;
    const skip = offsets === undefined
      ? `read past it with \`runnel consume ${name}${where} --offset N\` (N after the damaged batch)`
      : `read past it with \`runnel consume ${name}${where} --offset ${offsets.last + 1}\``;
    return `${reason}; ${skip}, look at the segment with \`runnel dump-log ${partitionDir(topicPartition)}/<segment>.log\`, and if the log on disk is damaged, stop the broker and run \`runnel recover ${partitionDir(topicPartition)}\``;
  },
} satisfies Partial<Record<RunnelErrorName, Explain>>;

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
  if (named(facts, 'DELIVERY_TIMEOUT') && typeof facts.reason === 'string') {
    const said = oneLine(facts.reason).replace(/\.$/, '');
    const lowered = `${said.charAt(0).toLowerCase()}${said.slice(1)}`;
    return `${lowered}; ${unreachable ? START_ADVICE : 'give it longer with --delivery-timeout-ms, or see the broker\'s log for why it did not answer'}`;
  }
  if (unreachable || named(facts, 'CONNECTION_FAILED')) {
    const where = context.bootstrap ?? 'the bootstrap address';
    // The SDK's reason for a failed connect is short: what got no answer.
    const why = unreachable ? systemCode : typeof facts.reason === 'string' ? oneLine(facts.reason).replace(/\.$/, '') : 'no connection within the connect timeout';
    return `cannot reach a broker at ${where} (${why}); ${START_ADVICE}`;
  }
  if (systemCode === 'ENOENT' || systemCode === 'EACCES' || systemCode === 'EISDIR') {
    return `${text}; check the path and its permissions`;
  }
  const { errorName, reason, topicPartition, offsets } = facts;
  if (typeof errorName !== 'string' || typeof reason !== 'string') return text;
  const partition = topicPartition === undefined ? undefined : `${topicPartition.topic}-${topicPartition.partition}`;
  let said = oneLine(reason).replace(/\.$/, '');
  const explain = EXPLAIN[errorName];
  if (explain !== undefined) return explain(said, { ...context, topicPartition, offsets });
  // Say which partition, when the reason does not.
  if (partition !== undefined && !said.includes(partition)) said = `${partition}: ${said}`;
  return said;
}

/** Whether the error carries that name (typed, so a misspelled name does not compile). */
function named(facts: ErrorFacts, name: RunnelErrorName): boolean {
  return facts.errorName === name;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  return String(err);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ').trim();
}
