/**
 * Opens one SDK client for the length of a command and always closes it, so
 * a command that fails half-way still leaves no socket keeping the process
 * alive. The bootstrap list is validated here, once, for every command.
 */
import { Runnel } from '../client/index.js';
import { parseBootstrap, type ClientOptions } from './options.js';

export const CLI_CLIENT_ID = 'runnel-cli';

/**
 * A person at a terminal should hear "no broker there" in a couple of
 * seconds, not after the SDK's default ten retries; four retries still ride
 * out a broker restart or a leader move.
 */
const CLI_RETRY = { retries: 4 };
const CLI_CONNECT_TIMEOUT_MS = 5000;

export async function withRunnel<T>(options: ClientOptions, fn: (runnel: Runnel) => Promise<T>): Promise<T> {
  const runnel = new Runnel({
    bootstrap: parseBootstrap(options.bootstrap),
    clientId: CLI_CLIENT_ID,
    retry: CLI_RETRY,
    connectTimeoutMs: CLI_CONNECT_TIMEOUT_MS,
  });
  try {
    return await fn(runnel);
  } finally {
    await runnel.close();
  }
}
