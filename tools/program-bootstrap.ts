/**
 * `runnel -b host:port <command> ...`: the bootstrap list may come before the
 * subcommand too, as people type it after `kcat -b`, and after a command
 * group (`runnel topic -b host:port list`, `runnel perf -b host:port
 * produce`). The value is handed to the subcommand before it parses its own
 * arguments, with the standing of a flag: it beats RUNNEL_BOOTSTRAP (which is
 * then not read, so a stale variable cannot fail a command that names its
 * broker), and a `--bootstrap` after the subcommand still beats it (the one
 * closest to the command wins).
 */
import { Command, Option } from 'commander';
import { CliError } from './cli-error.js';
import { BOOTSTRAP_FLAGS, bootstrapArgument } from './options.js';

/**
 * Gives `parent` (the program, or a group such as `topic`) a -b/--bootstrap
 * of its own that it hands to the subcommand it runs. Its options then come
 * before the subcommand's name (positional), so the subcommand's own flag
 * stays its own.
 */
export function withSubcommandBootstrap(parent: Command): Command {
  parent.enablePositionalOptions();
  parent.addOption(
    new Option(BOOTSTRAP_FLAGS, 'brokers to connect to, for any command that talks to one (as its own --bootstrap; also RUNNEL_BOOTSTRAP)').argParser(bootstrapArgument),
  );
  parent.hook('preSubcommand', (_parent, sub) => {
    const value: unknown = parent.getOptionValue('bootstrap');
    if (typeof value !== 'string') return;
    const takers = commandsTakingBootstrap(sub);
    if (takers.length === 0) {
      throw new CliError(`runnel ${sub.name()} does not talk to a broker, so -b/--bootstrap does not apply to it`);
    }
    for (const command of takers) command.setOptionValueWithSource('bootstrap', value, 'cli');
  });
  return parent;
}

/** `command` and its subcommands (at any depth) that have a --bootstrap option. */
function commandsTakingBootstrap(command: Command): Command[] {
  const own = command.options.some((option) => option.long === '--bootstrap') ? [command] : [];
  return [...own, ...command.commands.flatMap(commandsTakingBootstrap)];
}
