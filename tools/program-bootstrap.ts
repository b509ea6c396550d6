/**
 * `runnel -b host:port <command> ...`: the bootstrap list may come before the
 * subcommand too, as people type it after `kcat -b`. The program-level value
 * is handed to the subcommand before it parses its own arguments, with the
 * standing of a flag: it beats RUNNEL_BOOTSTRAP (which is then not read, so
 * a stale variable cannot fail a command that names its broker), and a
 * `--bootstrap` after the subcommand still beats it.
 */
import { Command, Option } from 'commander';
import { CliError } from './cli-error.js';
import { BOOTSTRAP_FLAGS, bootstrapArgument } from './options.js';

export function withProgramBootstrap(program: Command): Command {
  return program.addOption(
    new Option(BOOTSTRAP_FLAGS, 'brokers to connect to, for any command that talks to one (as its own --bootstrap; also RUNNEL_BOOTSTRAP)').argParser(bootstrapArgument),
  );
}

/** Installs the hand-over; call after every subcommand is added. */
export function applyProgramBootstrap(program: Command): void {
  program.hook('preSubcommand', (_program, sub) => {
    const value: unknown = program.getOptionValue('bootstrap');
    if (typeof value !== 'string') return;
    const takers = commandsTakingBootstrap(sub);
    if (takers.length === 0) {
      throw new CliError(`runnel ${sub.name()} does not talk to a broker, so -b/--bootstrap does not apply to it`);
    }
    for (const command of takers) command.setOptionValueWithSource('bootstrap', value, 'cli');
  });
}

/** `command` and its subcommands (at any depth) that have a --bootstrap option. */
function commandsTakingBootstrap(command: Command): Command[] {
  const own = command.options.some((option) => option.long === '--bootstrap') ? [command] : [];
  return [...own, ...command.commands.flatMap(commandsTakingBootstrap)];
}
