/**
 * Opens one SDK client for the length of a command and always closes it, so
 * a command that fails half-way still leaves no socket keeping the process
 * alive. The bootstrap list is validated here, once, for every command.
 */
import { readFile } from 'node:fs/promises';
import { Runnel, type RunnelOptions } from '../client/index.js';
import { CliError } from './cli-error.js';
import { parseBootstrap, type ClientOptions } from './options.js';
import { readStdinLine } from './stdin-line.js';

export const CLI_CLIENT_ID = 'runnel-cli';

/**
 * A person at a terminal should hear "no broker there" in a couple of
 * seconds, not after the SDK's default ten retries; four retries still ride
 * out a broker restart or a leader move.
 */
const CLI_RETRY = { retries: 4 };
const CLI_CONNECT_TIMEOUT_MS = 5000;

/** The SDK's tls and sasl options from the common flags (options.ts withConnectionSecurity). */
export async function connectionSecurity(options: ClientOptions, env: Readonly<Record<string, string | undefined>> = process.env): Promise<Pick<RunnelOptions, 'tls' | 'sasl'>> {
  const out: Pick<RunnelOptions, 'tls' | 'sasl'> = {};
  if (options.tlsCa !== undefined) {
    let ca: Buffer;
    try {
      ca = await readFile(options.tlsCa);
    } catch (error) {
      throw new CliError(`cannot read --tls-ca ${options.tlsCa}: ${(error as Error).message}`);
    }
    out.tls = { ca };
  } else if (options.tls === true) {
    out.tls = true;
  }
  if (options.username !== undefined && options.username !== '') {
    const password = options.passwordStdin === true ? await readStdinLine() : env['RUNNEL_PASSWORD'];
    if (password === undefined || password === '') throw new CliError(`--username ${options.username} needs a password: set RUNNEL_PASSWORD or pass --password-stdin`);
    const mechanism = (options.saslMechanism ?? 'SCRAM-SHA-512').toLowerCase();
    if (mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') throw new CliError(`--sasl-mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512, got ${options.saslMechanism}`);
    out.sasl = { mechanism, username: options.username, password };
  }
  return out;
}

export async function withRunnel<T>(options: ClientOptions, fn: (runnel: Runnel) => Promise<T>): Promise<T> {
  const runnel = new Runnel({
    bootstrap: parseBootstrap(options.bootstrap),
    clientId: CLI_CLIENT_ID,
    retry: CLI_RETRY,
    connectTimeoutMs: CLI_CONNECT_TIMEOUT_MS,
    ...(await connectionSecurity(options)),
  });
  try {
    return await fn(runnel);
  } finally {
    await runnel.close();
  }
}
