/**
 * `runnel topic create|list|describe|delete|alter|alter-config`: topic
 * administration through the SDK's Admin, with output in the shape people
 * know from `kafka-topics.sh --describe` and a `--json` form for scripts.
 */
import { Command } from 'commander';
import { RunnelError, type Admin, type DescribedConfig, type TopicDescription } from '../../client/index.js';
import { withRunnel } from '../client-session.js';
import { CliError } from '../cli-error.js';
import { collectConfig, collectList, intOption, withBootstrap, withJson, type ClientOptions } from '../options.js';
import { formatTable, printJson, printLine } from '../output.js';
import { partitionLine, underReplicated } from '../topic/partition-lines.js';
import { uncleanElectionWarning } from '../topic/unclean-warning.js';
import { withSubcommandBootstrap } from '../program-bootstrap.js';

interface CreateOptions extends ClientOptions {
  partitions: number;
  replicationFactor: number;
  config: Record<string, string>;
  ifNotExists?: boolean;
}

interface DescribeOptions extends ClientOptions {
  json?: boolean;
  allConfigs?: boolean;
}

interface AlterOptions extends ClientOptions {
  config: Record<string, string>;
  deleteConfig: string[];
}

export function topicCommand(): Command {
  const topic = withSubcommandBootstrap(new Command('topic').description('create, list, describe, grow, delete and configure topics'));

  withBootstrap(
    topic
      .command('create')
      .description('create a topic')
      .argument('<name>', 'topic name: 1 to 249 characters from [a-zA-Z0-9._-]')
      .option('--partitions <n>', 'number of partitions', intOption(1, 1_000_000), 1)
      .option('--replication-factor <n>', 'copies of each partition (at most the number of brokers)', intOption(1, 32_767), 1)
      .option('--config <key=value>', 'a topic setting, e.g. retention.ms=86400000 (repeatable)', collectConfig, {})
      .option('--if-not-exists', 'succeed, changing nothing, when the topic already exists'),
  ).action(async (name: string, opts: CreateOptions) => {
    const created = await withRunnel(opts, async (runnel) => {
      try {
        await runnel.admin().createTopic({ name, partitions: opts.partitions, replicationFactor: opts.replicationFactor, config: opts.config });
        return true;
      } catch (err) {
        if (opts.ifNotExists === true && err instanceof RunnelError && err.errorName === 'TOPIC_ALREADY_EXISTS') return false;
        throw err;
      }
    });
    await printLine(created ? `Created topic ${name} with ${plural(opts.partitions, 'partition')}.` : `Topic ${name} already exists; left as it is.`);
    if (created) warnOnStderr(uncleanElectionWarning(name, opts.config));
  });

  withJson(
    withBootstrap(
      topic
        .command('list')
        .description('list topic names, one a line')
        .option('--under-replicated', 'list instead the partitions whose in-sync replicas are fewer than their replicas')
        .option('--internal', 'include the broker\'s internal topics (names starting with __)'),
    ),
  ).action(async (opts: ClientOptions & { json?: boolean; underReplicated?: boolean; internal?: boolean }) => {
    const includeInternal = opts.internal === true;
    if (opts.underReplicated === true) {
      const partitions = underReplicated(await withRunnel(opts, (runnel) => describeEveryTopic(runnel.admin(), includeInternal)));
      if (opts.json) return printJson(partitions);
      for (const p of partitions) await printLine(partitionLine(p.topic, p));
      return;
    }
    const names = (await withRunnel(opts, (runnel) => runnel.admin().listTopics({ includeInternal }))).slice().sort();
    if (opts.json) return printJson(names);
    for (const name of names) await printLine(name);
  });

  withJson(
    withBootstrap(
      topic
        .command('describe')
        .description('partitions, leaders, replicas and settings of a topic')
        .argument('<name>', 'topic name')
        .option('--all-configs', 'list every setting with its source, not only those set on the topic'),
    ),
  ).action(async (name: string, opts: DescribeOptions) => {
    const everySetting = opts.json === true || opts.allConfigs === true;
    const { description, settings } = await withRunnel(opts, (runnel) => describe(runnel.admin(), name, everySetting));
    if (opts.json) return printJson({ ...description, settings });
    await printLine(formatDescription(description, settings));
  });

  withBootstrap(topic.command('delete').description('delete a topic and all its data').argument('<name>', 'topic name')).action(
    async (name: string, opts: ClientOptions) => {
      await withRunnel(opts, (runnel) => runnel.admin().deleteTopic(name));
      await printLine(`Deleted topic ${name}.`);
    },
  );

  withBootstrap(
    topic
      .command('alter')
      .description('add partitions to a topic (records already written stay where they are; keys map anew)')
      .argument('<name>', 'topic name')
      .requiredOption('--partitions <n>', 'the new total number of partitions, more than it has', intOption(1, 1_000_000)),
  ).action(async (name: string, opts: ClientOptions & { partitions: number }) => {
    await withRunnel(opts, (runnel) => runnel.admin().createPartitions({ topic: name, count: opts.partitions }));
    await printLine(`Topic ${name} now has ${plural(opts.partitions, 'partition')}.`);
  });

  withBootstrap(
    topic
      .command('alter-config')
      .description('change settings of a topic (others keep their values)')
      .argument('<name>', 'topic name')
      .option('--config <key=value>', 'a setting to change (repeatable)', collectConfig, {})
      .option('--delete-config <key>', 'a setting to reset to its default (repeatable)', collectList, []),
  ).action(async (name: string, opts: AlterOptions) => {
    const changes: Record<string, string | null> = { ...opts.config };
    for (const key of opts.deleteConfig) changes[key] = null;
    if (Object.keys(changes).length === 0) {
      throw new CliError('nothing to change; pass --config key=value or --delete-config key');
    }
    await withRunnel(opts, (runnel) => runnel.admin().alterConfigs(name, changes));
    const summary = Object.entries(changes).map(([key, value]) => (value === null ? `${key} (reset to default)` : `${key}=${value}`));
    await printLine(`Altered topic ${name}: ${summary.join(', ')}.`);
    warnOnStderr(uncleanElectionWarning(name, changes));
  });

  return topic;
}

/** The topic, and every setting with its source when asked (one more round trip). */
async function describe(admin: Admin, name: string, everySetting: boolean): Promise<{ description: TopicDescription; settings?: DescribedConfig[] }> {
  if (!everySetting) return { description: await admin.describeTopic(name) };
  const [description, settings] = await Promise.all([admin.describeTopic(name), admin.describeConfigs(name)]);
  return { description, settings };
}

/** Every topic's partitions; a topic deleted between the listing and its description is left out. */
async function describeEveryTopic(admin: Admin, includeInternal: boolean): Promise<TopicDescription[]> {
  const described = await Promise.all(
    (await admin.listTopics({ includeInternal })).map((name) =>
      admin.describeTopic(name).catch((err: unknown) => {
        if (err instanceof RunnelError && err.errorName === 'UNKNOWN_TOPIC_OR_PARTITION') return null;
        throw err;
      }),
    ),
  );
  return described.filter((d): d is TopicDescription => d !== null);
}

/** `kafka-topics.sh --describe` layout: a topic line, then one line per partition. */
function formatDescription(description: TopicDescription, settings: DescribedConfig[] | undefined): string {
  const replicationFactor = description.partitions[0]?.replicas.length ?? 0;
  const overrides = Object.entries(description.configs).map(([key, value]) => `${key}=${value}`);
  const lines = [
    `Topic: ${description.name}\tPartitionCount: ${description.partitions.length}\tReplicationFactor: ${replicationFactor}\tConfigs: ${overrides.join(',')}`,
  ];
  for (const p of [...description.partitions].sort((a, b) => a.partition - b.partition)) {
    lines.push(partitionLine(description.name, p));
  }
  if (settings !== undefined) {
    const rows = [...settings]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((c) => [c.name, c.value ?? '(null)', c.source, c.readOnly ? 'yes' : 'no']);
    lines.push('', formatTable(['SETTING', 'VALUE', 'SOURCE', 'READ-ONLY'], rows));
  }
  return lines.join('\n');
}

function warnOnStderr(warning: string | null): void {
  if (warning !== null) process.stderr.write(`${warning}\n`);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
