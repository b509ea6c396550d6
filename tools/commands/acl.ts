/**
 * `runnel acl add|remove|list`: ACL bindings (docs/OPERATIONS.md,
 * "Authorization"). Through any broker; adding and removing are forwarded
 * to the controller. The resource is one of --topic T, --group G or
 * --cluster; --prefixed makes a topic or group name a prefix.
 *
 * - add: one binding per operation given (--operation read,write).
 * - remove: the same flags as a filter (any flag left out matches every
 *   value); prints what was removed.
 * - list: every binding, or those the flags match; `--match` with a
 *   --topic/--group lists every binding that applies to that resource
 *   (its literal, `*` and every prefix of its name).
 */
import { Command } from 'commander';
import type { AclBinding, AclBindingFilter, AclOperation } from '../../client/types.js';
import { CliError } from '../cli-error.js';
import { withRunnel } from '../client-session.js';
import { withBootstrap, withJson, type ClientOptions } from '../options.js';
import { formatTable, printJson, printLine } from '../output.js';

const OPERATIONS: readonly AclOperation[] = ['all', 'read', 'write', 'create', 'delete', 'alter', 'describe', 'cluster_action', 'describe_configs', 'alter_configs', 'idempotent_write'];

interface AclFlags extends ClientOptions {
  allow?: boolean;
  deny?: boolean;
  principal?: string;
  operation?: string;
  topic?: string;
  group?: string;
  cluster?: boolean;
  prefixed?: boolean;
  match?: boolean;
  host?: string;
  json?: boolean;
}

function withAclFlags(command: Command, verb: string): Command {
  return command
    .option('--allow', `${verb} allow bindings`)
    .option('--deny', `${verb} deny bindings`)
    .option('--principal <principal>', 'User:<name>, or User:* for everyone')
    .option('--operation <ops>', `comma-separated: ${OPERATIONS.join(', ')}`)
    .option('--topic <name>', 'a topic (or with --prefixed, a prefix; * for every topic)')
    .option('--group <name>', 'a consumer or share group (or with --prefixed, a prefix; * for every group)')
    .option('--cluster', 'the cluster itself (runnel-cluster)')
    .option('--prefixed', 'the --topic or --group name is a prefix')
    .option('--host <host>', 'the client address the binding is for (default *)');
}

/** The resource the flags name, or null when none is given. */
function resourceOf(flags: AclFlags): { resourceType: AclBinding['resourceType']; resourceName: string } | null {
  const named = [flags.topic !== undefined, flags.group !== undefined, flags.cluster === true].filter(Boolean).length;
  if (named > 1) throw new CliError('give one of --topic, --group or --cluster', 2);
  if (flags.prefixed === true && flags.topic === undefined && flags.group === undefined) throw new CliError('--prefixed goes with --topic or --group', 2);
  if (flags.topic !== undefined) return { resourceType: 'topic', resourceName: flags.topic };
  if (flags.group !== undefined) return { resourceType: 'group', resourceName: flags.group };
  if (flags.cluster === true) return { resourceType: 'cluster', resourceName: 'runnel-cluster' };
  return null;
}

function permissionOf(flags: AclFlags): AclBinding['permission'] | undefined {
  if (flags.allow === true && flags.deny === true) throw new CliError('give --allow or --deny, not both', 2);
  return flags.allow === true ? 'allow' : flags.deny === true ? 'deny' : undefined;
}

function operationsOf(raw: string | undefined): AclOperation[] | undefined {
  if (raw === undefined) return undefined;
  const ops = raw.split(',').map((op) => op.trim().toLowerCase().replace(/-/g, '_')).filter((op) => op !== '');
  for (const op of ops) if (!(OPERATIONS as readonly string[]).includes(op)) throw new CliError(`unknown operation "${op}": ${OPERATIONS.join(', ')}`, 2);
  if (ops.length === 0) throw new CliError('--operation names at least one operation', 2);
  return ops as AclOperation[];
}

/** The filters the flags make: one per --operation given (one matching any operation without it). */
function filtersOf(flags: AclFlags): AclBindingFilter[] {
  const resource = resourceOf(flags);
  const permission = permissionOf(flags);
  const base: AclBindingFilter = {
    ...(resource === null ? {} : { resourceType: resource.resourceType, resourceName: resource.resourceName, patternType: flags.match === true ? 'match' : flags.prefixed === true ? 'prefixed' : 'literal' }),
    ...(flags.principal === undefined ? {} : { principal: flags.principal }),
    ...(flags.host === undefined ? {} : { host: flags.host }),
    ...(permission === undefined ? {} : { permission }),
  };
  return (operationsOf(flags.operation) ?? [undefined]).map((operation) => (operation === undefined ? base : { ...base, operation }));
}

function rows(bindings: readonly AclBinding[]): string[][] {
  return bindings.map((b) => [b.permission.toUpperCase(), b.principal, b.operation.toUpperCase(), b.resourceType, b.patternType ?? 'literal', b.resourceName, b.host ?? '*']);
}

const HEADER = ['PERMISSION', 'PRINCIPAL', 'OPERATION', 'RESOURCE', 'PATTERN', 'NAME', 'HOST'];

export function aclCommand(): Command {
  const acl = new Command('acl').description('access control lists (with authorizer.enabled): add, remove, list');

  withBootstrap(withAclFlags(acl.command('add').description('allow or deny a principal operations on a topic, group or the cluster'), 'add')).action(async (flags: AclFlags) => {
    const permission = permissionOf(flags);
    if (permission === undefined) throw new CliError('give --allow or --deny', 2);
    if (flags.principal === undefined) throw new CliError('give --principal User:<name> (User:* for everyone)', 2);
    const resource = resourceOf(flags);
    if (resource === null) throw new CliError('give --topic, --group or --cluster', 2);
    const operations = operationsOf(flags.operation);
    if (operations === undefined) throw new CliError('give --operation (comma-separated)', 2);
    const bindings: AclBinding[] = operations.map((operation) => ({ ...resource, patternType: flags.prefixed === true ? 'prefixed' : 'literal', principal: flags.principal!, host: flags.host ?? '*', operation, permission }));
    await withRunnel(flags, (runnel) => runnel.admin().createAcls(bindings));
    await printLine(`added ${bindings.length} ACL binding(s):\n${formatTable(HEADER, rows(bindings))}`);
  });

  withJson(withBootstrap(withAclFlags(acl.command('remove').description('remove every binding the flags match (flags left out match anything); prints what went'), 'remove'))).action(async (flags: AclFlags) => {
    const filters = filtersOf(flags);
    if (filters.every((f) => Object.keys(f).length === 0)) throw new CliError('name what to remove (at least one of --principal, --operation, --topic, --group, --cluster, --allow/--deny, --host)', 2);
    const removed = await withRunnel(flags, (runnel) => runnel.admin().deleteAcls(filters));
    if (flags.json) return printJson(removed);
    await printLine(removed.length === 0 ? 'no ACL binding matched; nothing removed' : `removed ${removed.length} ACL binding(s):\n${formatTable(HEADER, rows(removed))}`);
  });

  withJson(
    withBootstrap(withAclFlags(acl.command('list').description('the bindings (all, or those the flags match)'), 'list').option('--match', 'with --topic/--group: every binding that applies to that resource (literal, * and prefixes)')),
  ).action(async (flags: AclFlags) => {
    const listed = await withRunnel(flags, async (runnel) => {
      const found = await Promise.all(filtersOf(flags).map((f) => runnel.admin().describeAcls(f)));
      return found.flat();
    });
    if (flags.json) return printJson(listed);
    await printLine(listed.length === 0 ? 'no ACL bindings' : formatTable(HEADER, rows(listed)));
  });
  return acl;
}
