/**
 * `runnel users create|delete|list`: SCRAM users (SASL listeners). Over the
 * network through any broker (the change is forwarded to the controller),
 * or, for the first administrator before any broker runs, straight into a
 * data directory's metadata log with `create NAME --data DIR`.
 *
 * The new user's password comes from `--password-stdin` (its first line) or
 * RUNNEL_NEW_PASSWORD, never from an argument (process lists and shell
 * history would show it). Logging in to make a user takes --username with
 * RUNNEL_PASSWORD (stdin is the new password's here).
 */
import { Command, Option } from 'commander';
import { SCRAM_MECHANISMS, type ScramMechanism } from '../../client/security/scram.js';
import { CliError } from '../cli-error.js';
import { withRunnel } from '../client-session.js';
import { collectList, intOption, withBootstrap, withJson, type ClientOptions } from '../options.js';
import { formatTable, printJson, printLine } from '../output.js';
import { readStdinLine } from '../stdin-line.js';

function mechanismsOf(given: readonly string[] | undefined): ScramMechanism[] {
  const names = given === undefined || given.length === 0 ? [...SCRAM_MECHANISMS] : given.map((m) => m.toUpperCase());
  for (const name of names) if (!(SCRAM_MECHANISMS as readonly string[]).includes(name)) throw new CliError(`--mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512, got ${name}`, 2);
  return names as ScramMechanism[];
}

async function newPassword(opts: { passwordStdin?: boolean }): Promise<string> {
  const password = opts.passwordStdin === true ? await readStdinLine() : process.env['RUNNEL_NEW_PASSWORD'];
  if (password === undefined || password === '') throw new CliError('the new user needs a password: pipe it to --password-stdin, or set RUNNEL_NEW_PASSWORD', 2);
  return password;
}

export function usersCommand(): Command {
  const users = new Command('users').description('SCRAM users for SASL listeners: create, delete, list');

  withBootstrap(
    users.command('create')
      .description('create a user, or set a new password (SCRAM-SHA-256 and -512 unless --mechanism)')
      .argument('<name>', 'user name')
      .option('--password-stdin', 'read the new user\'s password from the first line of stdin (else RUNNEL_NEW_PASSWORD)')
      .option('--mechanism <name>', 'SCRAM-SHA-256 or SCRAM-SHA-512 (repeatable; default both)', collectList, [])
      .option('--iterations <n>', 'PBKDF2 iterations (4096..16384)', intOption(4096, 16384), 8192)
      .addOption(new Option('--data <dir>', 'write into this data directory\'s metadata, with no broker running (the first administrator)')),
    { passwordStdin: false },
  ).action(async (name: string, opts: ClientOptions & { passwordStdin?: boolean; mechanism?: string[]; iterations: number; data?: string }) => {
    const mechanisms = mechanismsOf(opts.mechanism);
    const password = await newPassword(opts);
    if (opts.data !== undefined) {
      // The broker's metadata code is loaded only for this (the network path needs none of it).
      const { bootstrapScramUserOnDisk } = await import('../../broker/security/bootstrap-user.js');
      let done: { clusterId: string; created: boolean };
      try {
        done = await bootstrapScramUserOnDisk({ dataDir: opts.data, name, password, mechanisms, iterations: opts.iterations });
      } catch (error) {
        throw new CliError((error as Error).message);
      }
      await printLine(`user ${name} (${mechanisms.join(', ')}) written to the metadata in ${opts.data}${done.created ? ` (a new cluster, id ${done.clusterId})` : ''}`);
      return;
    }
    // --password-stdin here was the new user's password: the login password comes from RUNNEL_PASSWORD.
    await withRunnel({ ...opts, passwordStdin: false }, (runnel) => runnel.admin().upsertScramUser(name, password, { mechanisms, iterations: opts.iterations }));
    await printLine(`user ${name} (${mechanisms.join(', ')}) created`);
  });

  withBootstrap(
    users.command('delete')
      .description('delete a user\'s credentials (every mechanism unless --mechanism)')
      .argument('<name>', 'user name')
      .option('--mechanism <name>', 'SCRAM-SHA-256 or SCRAM-SHA-512 (repeatable)', collectList, []),
  ).action(async (name: string, opts: ClientOptions & { mechanism?: string[] }) => {
    const mechanisms = opts.mechanism === undefined || opts.mechanism.length === 0 ? undefined : mechanismsOf(opts.mechanism);
    await withRunnel(opts, (runnel) => runnel.admin().deleteScramUser(name, mechanisms === undefined ? undefined : { mechanisms }));
    await printLine(`user ${name} deleted${mechanisms === undefined ? '' : ` (${mechanisms.join(', ')})`}`);
  });

  withJson(withBootstrap(users.command('list').description('users and their SCRAM mechanisms (never keys or salts)'))).action(async (opts: ClientOptions & { json?: boolean }) => {
    const listed = await withRunnel(opts, (runnel) => runnel.admin().describeScramUsers());
    if (opts.json) return printJson(listed);
    await printLine(formatTable(['USER', 'MECHANISMS'], listed.map((u) => [u.name, u.credentials.map((c) => `${c.mechanism} (${c.iterations} iterations)`).join(', ')])));
  });
  return users;
}
