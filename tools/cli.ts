/**
 * The `runnel` command: one commander program with a subcommand per file in
 * commands/. Every command has --help; every failure ends as one line on
 * stderr (`error: what happened; what to do`) and a non-zero exit, whatever
 * threw it. `-b/--bootstrap` may also come before the subcommand
 * (program-bootstrap.ts). `bin/runnel.js` calls `runCli`; running this file
 * directly does too.
 */
import { Command, CommanderError } from 'commander';
import { CliError, describeError, type ErrorContext } from './cli-error.js';
import { clusterCommand } from './commands/cluster.js';
import { brokerCommand, controllerCommand } from './commands/node-role.js';
import { consumeCommand } from './commands/consume.js';
import { dlqCommand } from './commands/dlq.js';
import { dumpLogCommand } from './commands/dump-log.js';
import { groupsCommand } from './commands/groups.js';
import { offsetsCommand } from './commands/offsets.js';
import { partitionsCommand } from './commands/partitions.js';
import { perfCommand } from './commands/perf.js';
import { produceCommand } from './commands/produce.js';
import { queueCommand } from './commands/queue.js';
import { recoverCommand } from './commands/recover.js';
import { startCommand } from './commands/start.js';
import { topicCommand } from './commands/topic.js';
import { usageCommand } from './commands/usage.js';
import { usersCommand } from './commands/users.js';
import { aclCommand } from './commands/acl.js';
import { quotaCommand } from './commands/quota.js';
import { isMainModule } from './main-module.js';
import { withSubcommandBootstrap } from './program-bootstrap.js';

export const CLI_VERSION = '0.1.0';

/** The first-argument names that hold a topic (`consume <topic>`, `topic create <name>`). */
const TOPIC_ARGUMENTS = new Set(['topic', 'name']);

export function buildProgram(context: ErrorContext): Command {
  const program = new Command('runnel')
    .description('Runnel: a durable, partitioned message log. Start a broker, manage topics, produce, consume, measure, inspect segments.')
    .version(CLI_VERSION, '-V, --version')
    .showSuggestionAfterError(true);
  withSubcommandBootstrap(program);
  for (const command of [startCommand(), topicCommand(), produceCommand(), consumeCommand(), offsetsCommand(), groupsCommand(), queueCommand(), dlqCommand(), partitionsCommand(), perfCommand(), dumpLogCommand(), recoverCommand(), clusterCommand(), usageCommand(), usersCommand(), aclCommand(), quotaCommand(), controllerCommand(), brokerCommand()]) {
    program.addCommand(command);
  }
  // Remember which broker and topic a command works on, so a failure names them.
  program.hook('preAction', (_program, action) => {
    const bootstrap: unknown = action.opts()['bootstrap'];
    if (typeof bootstrap === 'string') context.bootstrap = bootstrap;
    const topic: unknown = action.opts()['topic'] ?? (TOPIC_ARGUMENTS.has(action.registeredArguments[0]?.name() ?? '') ? action.processedArgs[0] : undefined);
    if (typeof topic === 'string') context.topic = topic;
    const group: unknown = action.registeredArguments[0]?.name() === 'group' ? action.processedArgs[0] : undefined;
    if (typeof group === 'string') context.group = group;
    const path: string[] = [];
    for (let c: Command | null = action; c !== null && c !== program; c = c.parent) path.unshift(c.name());
    context.command = path.join(' ');
  });
  exitOverrideEverywhere(program);
  return program;
}

function exitOverrideEverywhere(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) exitOverrideEverywhere(sub);
}

/** Runs the CLI with `argv` (as `process.argv`: node, script, args...) and returns the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const context: ErrorContext = {};
  const program = buildProgram(context);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    // Commander has already printed its own one-line message (or the help text).
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CliError) {
      if (err.message !== '') process.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`${describeError(err, context)}\n`);
    return 1;
  }
}

/** Runs the CLI and ends the process with its exit code once output is flushed. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  const code = await runCli(argv);
  process.exitCode = code;
  // Flush stdout before leaving: a pipe reader must see the last line (perf --json).
  process.stdout.write('', () => process.exit(code));
}


if (isMainModule(import.meta.url)) void main();
