/**
 * Option parsing shared by every command, so `--bootstrap`, numbers, `k=v`
 * settings and `--acks` are spelled, validated and explained the same way
 * everywhere. Parsers throw commander's `InvalidArgumentError`, which
 * commander prints as one line naming the option and the value given
 * ("option '--partitions <n>' argument 'many' is invalid."), so their
 * messages say only what to give instead, without the value again.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Acks, CompressionName } from '../client/index.js';

export const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';

/** Options every command that talks to a broker carries. */
export interface ClientOptions {
  bootstrap: string;
  /** Connect over TLS (implied by tlsCa). */
  tls?: boolean;
  /** CA certificate file (PEM) the broker's certificate must chain to. */
  tlsCa?: string;
  /** SCRAM user to log in as (also RUNNEL_USERNAME). */
  username?: string;
  /** Read the login password from stdin's first line (otherwise RUNNEL_PASSWORD). */
  passwordStdin?: boolean;
  saslMechanism?: string;
}

export const BOOTSTRAP_ENV_VAR = 'RUNNEL_BOOTSTRAP';
export const BOOTSTRAP_FLAGS = '-b, --bootstrap <host:port[,host:port]>';

/**
 * Adds `-b, --bootstrap` (also RUNNEL_BOOTSTRAP) to a command that talks to a
 * broker. The value is checked as it is parsed, from the flag or the
 * variable, so a malformed one is a one-line usage error naming its source.
 */
export function withBootstrap(command: Command, opts: { passwordStdin?: boolean } = {}): Command {
  command.addOption(
    new Option(BOOTSTRAP_FLAGS, 'brokers to connect to')
      .env(BOOTSTRAP_ENV_VAR)
      .default(DEFAULT_BOOTSTRAP)
      .argParser(bootstrapArgument),
  );
  return withConnectionSecurity(command, opts);
}

/**
 * The connection's security, the same on every command: `--tls`,
 * `--tls-ca FILE`, `--username NAME` (RUNNEL_USERNAME) with the password
 * from RUNNEL_PASSWORD or `--password-stdin`, and `--sasl-mechanism`.
 * `passwordStdin: false` for a command whose stdin carries something else
 * (`users create --password-stdin` reads the new user's password there).
 */
function withConnectionSecurity(command: Command, opts: { passwordStdin?: boolean }): Command {
  command
    .option('--tls', 'connect over TLS (checks the broker certificate against the system CAs, or --tls-ca)')
    .option('--tls-ca <file>', 'CA certificate (PEM) the broker certificate must chain to; implies --tls')
    .addOption(new Option('--username <name>', 'SCRAM user to log in as (SASL listeners); the password comes from RUNNEL_PASSWORD or --password-stdin').env('RUNNEL_USERNAME'))
    .addOption(new Option('--sasl-mechanism <name>', 'SCRAM-SHA-256 or SCRAM-SHA-512').default('SCRAM-SHA-512'));
  if (opts.passwordStdin !== false) command.option('--password-stdin', 'read the login password from the first line of stdin (not with produce, which reads records there)');
  return command;
}

/** The commander parser of a bootstrap list: the value as given, once it is known to parse. */
export function bootstrapArgument(value: string): string {
  parseBootstrap(value);
  return value;
}

/** Adds `--json`: machine-readable output for scripts. */
export function withJson(command: Command, what = 'print the result as JSON'): Command {
  return command.option('--json', what);
}

/** `host:port[,host:port]` -> `['host:port', ...]`, each checked. */
export function parseBootstrap(value: string): string[] {
  const hosts = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (hosts.length === 0) throw new InvalidArgumentError('Give at least one host:port, e.g. 127.0.0.1:9092.');
  for (const hostPort of hosts) {
    const match = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(hostPort);
    const port = match ? Number(match[2]) : NaN;
    if (!match || port < 1 || port > 65535) {
      // Commander names the whole value; in a list, say which entry is wrong.
      const which = hosts.length > 1 ? `Its entry "${hostPort}" is not host:port. ` : '';
      throw new InvalidArgumentError(`${which}Give host:port with a port from 1 to 65535, e.g. 127.0.0.1:9092.`);
    }
  }
  return hosts;
}

/** A commander parser for a whole number in [min, max]. */
export function intOption(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`Give a whole number ${range}.`);
    }
    return n;
  };
}

/** Collects repeated `--config k=v` into a record; a later value for a key wins. */
export function collectConfig(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('Give key=value, e.g. retention.ms=86400000.');
  return { ...previous, [value.slice(0, eq).trim()]: value.slice(eq + 1) };
}

/** Collects a repeatable option into a list. */
export function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseAcks(value: string): Acks {
  switch (value) {
    case '0':
      return 0;
    case '1':
      return 1;
    case 'all':
    case '-1':
      return 'all';
    default:
      throw new InvalidArgumentError('Give 0, 1 or all.');
  }
}

const COMPRESSIONS: readonly CompressionName[] = ['none', 'gzip', 'lz4'];

export function parseCompression(value: string): CompressionName {
  if ((COMPRESSIONS as readonly string[]).includes(value)) return value as CompressionName;
  throw new InvalidArgumentError(`Give one of ${COMPRESSIONS.join(', ')}.`);
}

/**
 * `--from-time`: milliseconds since the epoch, or an ISO 8601 date-time. As
 * JavaScript reads them, a date alone is midnight UTC, and a date-time
 * without a zone (no `Z`, no `+01:00`) is local time.
 */
export function parseTimestamp(value: string): number {
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new InvalidArgumentError('Give milliseconds since the epoch or an ISO date-time such as 2026-01-31T09:30:00Z.');
  }
  return ms;
}

/** Collects repeated `-H key=value` into an ordered list of pairs; a key may repeat, as in Kafka. */
export function collectHeader(value: string, previous: [string, string][] = []): [string, string][] {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('Give key=value, e.g. trace-id=abc123.');
  return [...previous, [value.slice(0, eq), value.slice(eq + 1)]];
}
