/**
 * `runnel start`: runs the single-node broker (broker and controller in this
 * process) until SIGTERM or Ctrl-C. The broker owns its command line
 * (`--data`, `--port`, `--host`, `--config`, `--set name=value`, `--help`)
 * and its precedence rules, so every argument after `start` goes to it
 * untouched: one parser, one usage text, no drift. The broker is imported only
 * here and only when this command runs, so client commands never load it.
 */
import { Command } from 'commander';
import { CliError } from '../cli-error.js';

export function startCommand(): Command {
  return new Command('start')
    .description('run a single-node broker (see `runnel start --help` for --data, --port, --config and every setting)')
    .usage('[--data DIR] [--port N] [--host H] [--config FILE] [--set name=value]...')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (_opts: unknown, command: Command) => {
      const { runBrokerCli } = await import('../../broker/main.js');
      const exitCode = await runBrokerCli(command.args);
      // The broker has already said why it stopped; only the status remains.
      if (exitCode !== 0) throw new CliError('', exitCode);
    });
}
