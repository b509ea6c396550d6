/**
 * `runnel quota set|remove|describe`: client quotas (producer and consumer
 * byte rates, request rate) on a user and/or client id, or their defaults.
 * Changes go through any broker to the controller and reach every broker
 * through the metadata log; each broker enforces them on its own traffic
 * (a quota is per broker, as Kafka's).
 */
import { Command } from 'commander';
import { CLIENT_QUOTA_KINDS, describeEntity, type ClientQuotaEntity, type ClientQuotaKind } from '../../client/admin/client-quotas.js';
import { CliError } from '../cli-error.js';
import { withRunnel } from '../client-session.js';
import { withBootstrap, withJson, type ClientOptions } from '../options.js';
import { formatTable, printJson, printLine } from '../output.js';

interface EntityOptions {
  user?: string;
  userDefault?: boolean;
  clientId?: string;
  clientIdDefault?: boolean;
}

function withEntity(command: Command): Command {
  return command
    .option('--user <name>', 'the user (the authenticated principal\'s name; ANONYMOUS on a PLAINTEXT listener)')
    .option('--user-default', 'the default user: every user without a quota of their own, each with a budget of their own')
    .option('--client-id <id>', 'the client id')
    .option('--client-id-default', 'the default client id: every client id without a quota of its own');
}

/** The entity the options name; null parts (defaults) and absent parts as the admin client takes them. */
function entityOf(opts: EntityOptions, needed: boolean): ClientQuotaEntity {
  if (opts.user !== undefined && opts.userDefault === true) throw new CliError('give --user or --user-default, not both', 2);
  if (opts.clientId !== undefined && opts.clientIdDefault === true) throw new CliError('give --client-id or --client-id-default, not both', 2);
  const entity: ClientQuotaEntity = {};
  if (opts.user !== undefined) entity.user = opts.user;
  if (opts.userDefault === true) entity.user = null;
  if (opts.clientId !== undefined) entity.clientId = opts.clientId;
  if (opts.clientIdDefault === true) entity.clientId = null;
  if (needed && entity.user === undefined && entity.clientId === undefined) throw new CliError('name the entity: --user U or --user-default, and/or --client-id C or --client-id-default', 2);
  return entity;
}

function kindOf(name: string): ClientQuotaKind {
  if (!(CLIENT_QUOTA_KINDS as readonly string[]).includes(name)) throw new CliError(`unknown quota "${name}": ${CLIENT_QUOTA_KINDS.join(', ')}`, 2);
  return name as ClientQuotaKind;
}

/** `producer_byte_rate=1048576 request_rate=100` -> rates. */
function ratesOf(assignments: readonly string[]): Partial<Record<ClientQuotaKind, number>> {
  const rates: Partial<Record<ClientQuotaKind, number>> = {};
  for (const assignment of assignments) {
    const [name, value, ...rest] = assignment.split('=');
    if (value === undefined || rest.length > 0) throw new CliError(`"${assignment}" is not KIND=RATE (e.g. producer_byte_rate=1048576)`, 2);
    const kind = kindOf(name!.trim());
    if (!/^\d+$/.test(value.trim()) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) throw new CliError(`${kind} must be a whole number above 0 (per second), got "${value}"; use \`runnel quota remove\` for no limit`, 2);
    if (kind in rates) throw new CliError(`${kind} is given twice`, 2);
    rates[kind] = Number(value);
  }
  return rates;
}

export function quotaCommand(): Command {
  const quota = new Command('quota').description('client quotas (bytes/s produced, bytes/s fetched, requests/s) per user and client id: set, remove, describe');

  withBootstrap(withEntity(quota.command('set')
    .description('set quotas on an entity (others it has stay): KIND=RATE with KIND producer_byte_rate, consumer_byte_rate (bytes/s) or request_rate (requests/s)')
    .argument('<KIND=RATE...>', 'e.g. producer_byte_rate=1048576 request_rate=200')
    .option('--validate-only', 'check with the controller, change nothing')),
  ).action(async (assignments: string[], opts: ClientOptions & EntityOptions & { validateOnly?: boolean }) => {
    const entity = entityOf(opts, true);
    const set = ratesOf(assignments);
    await withRunnel(opts, (runnel) => runnel.admin().alterClientQuotas([{ entity, set }], { validateOnly: opts.validateOnly === true }));
    const what = Object.entries(set).map(([k, v]) => `${k}=${v}`).join(' ');
    await printLine(`${opts.validateOnly === true ? 'valid (nothing changed)' : 'set'}: ${describeEntity(entity)}: ${what}`);
  });

  withBootstrap(withEntity(quota.command('remove')
    .description('remove quotas from an entity (no limit of those kinds for it any more)')
    .argument('<KIND...>', 'producer_byte_rate, consumer_byte_rate, request_rate')),
  ).action(async (kinds: string[], opts: ClientOptions & EntityOptions) => {
    const entity = entityOf(opts, true);
    const remove = [...new Set(kinds.map(kindOf))];
    await withRunnel(opts, (runnel) => runnel.admin().alterClientQuotas([{ entity, remove }]));
    await printLine(`removed: ${describeEntity(entity)}: ${remove.join(' ')}`);
  });

  withJson(withBootstrap(withEntity(quota.command('describe')
    .description('the entities with quotas and their rates (every one unless --user / --client-id narrow it)')))).action(async (opts: ClientOptions & EntityOptions & { json?: boolean }) => {
    const filter = entityOf(opts, false);
    const described = await withRunnel(opts, (runnel) => runnel.admin().describeClientQuotas(filter));
    if (opts.json) return printJson(described);
    const part = (name: string | null | undefined): string => (name === undefined ? '' : (name ?? '<default>'));
    await printLine(formatTable(['USER', 'CLIENT ID', 'QUOTAS'], described.map((d) => [part(d.entity.user), part(d.entity.clientId), Object.entries(d.quotas).map(([k, v]) => `${k}=${v}`).join(' ')])));
  });
  return quota;
}
