/**
 * ACLs through the admin client (CreateAcls, DescribeAcls, DeleteAcls): the
 * SDK's flat, named bindings (types.ts `AclBinding`) to and from the wire's
 * Kafka codes (protocol/acl-codes.ts), with every argument checked here so
 * a mistake is an INVALID_ARGUMENT naming the field, not a broker round trip.
 */
import { ACL_OPERATION_CODES, ACL_PATTERN_TYPE_CODES, ACL_PERMISSION_CODES, ACL_RESOURCE_TYPE_CODES, aclNameOf } from '../../protocol/acl-codes.js';
import { errorNameOf } from '../../protocol/errors.js';
import type { AclFilterWire } from '../../protocol/messages.js';
import { invalidArgument, RunnelError } from '../errors.js';
import type { Cluster } from '../metadata.js';
import type { AclBinding, AclBindingFilter } from '../types.js';

function code<K extends string>(codes: Readonly<Record<K, number>>, value: string, field: string): number {
  if (!Object.hasOwn(codes, value)) throw invalidArgument(`${field} must be one of ${Object.keys(codes).join(', ')}; got ${JSON.stringify(value)}`);
  return codes[value as K];
}

function name<K extends string>(codes: Readonly<Record<K, number>>, value: number): K {
  const found = aclNameOf(codes, value);
  if (found === undefined) throw new RunnelError('UNKNOWN_SERVER_ERROR', `the broker answered an ACL code this client does not know (${value}); upgrade the client`);
  return found;
}

function exactly<K extends string>(codes: Readonly<Record<K, number>>, value: string, field: string): number {
  if (value === 'any' || value === 'match') throw invalidArgument(`a binding's ${field} names one value, not ${value}`);
  return code(codes, value, field);
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw invalidArgument(`${field} must be a non-empty string; got ${JSON.stringify(value)}`);
  return value;
}

/** A binding as the SDK shows it, from its wire fields. */
function bindingOf(w: { resourceType: number; resourceName: string; patternType: number; principal: string; host: string; operation: number; permissionType: number }): AclBinding {
  return {
    resourceType: name(ACL_RESOURCE_TYPE_CODES, w.resourceType) as AclBinding['resourceType'],
    resourceName: w.resourceName,
    patternType: name(ACL_PATTERN_TYPE_CODES, w.patternType) as AclBinding['patternType'],
    principal: w.principal,
    host: w.host,
    operation: name(ACL_OPERATION_CODES, w.operation) as AclBinding['operation'],
    permission: name(ACL_PERMISSION_CODES, w.permissionType) as AclBinding['permission'],
  };
}

/** `allow User:alice read on topic prefixed "orders."`: how errors name a binding. */
export function describeAcl(b: AclBinding): string {
  return `${b.permission} ${b.principal} ${b.operation} on ${b.resourceType} ${b.patternType ?? 'literal'} "${b.resourceName}" from ${b.host ?? '*'}`;
}

function filterWire(f: AclBindingFilter): AclFilterWire {
  const optional = (value: string | undefined, field: string): string | null => (value === undefined ? null : text(value, field));
  return {
    resourceTypeFilter: code(ACL_RESOURCE_TYPE_CODES, f.resourceType ?? 'any', 'resourceType'),
    resourceNameFilter: optional(f.resourceName, 'resourceName'),
    patternTypeFilter: code(ACL_PATTERN_TYPE_CODES, f.patternType ?? (f.resourceName === undefined ? 'any' : 'literal'), 'patternType'),
    principalFilter: optional(f.principal, 'principal'),
    hostFilter: optional(f.host, 'host'),
    operation: code(ACL_OPERATION_CODES, f.operation ?? 'any', 'operation'),
    permissionType: code(ACL_PERMISSION_CODES, f.permission ?? 'any', 'permission'),
  };
}

/** Adds the bindings (one already there is kept once); the first refused one is thrown, naming it. */
export async function createAcls(cluster: Cluster, bindings: readonly AclBinding[]): Promise<void> {
  if (!Array.isArray(bindings)) throw invalidArgument('createAcls takes an array of bindings');
  const creations = bindings.map((b) => ({
    resourceType: exactly(ACL_RESOURCE_TYPE_CODES, b.resourceType, 'resourceType'),
    resourceName: text(b.resourceName, 'resourceName'),
    resourcePatternType: exactly(ACL_PATTERN_TYPE_CODES, b.patternType ?? 'literal', 'patternType'),
    principal: text(b.principal, 'principal'),
    host: text(b.host ?? '*', 'host'),
    operation: exactly(ACL_OPERATION_CODES, b.operation, 'operation'),
    permissionType: exactly(ACL_PERMISSION_CODES, b.permission, 'permission'),
  }));
  const res = await cluster.anyConnection().request('CreateAcls', { creations });
  res.results.forEach((r, i) => {
    if (errorNameOf(r.errorCode) !== 'NONE') throw RunnelError.fromCode(r.errorCode, `Adding ACL ${describeAcl(bindings[i]!)}`, r.errorMessage);
  });
}

/** Every binding the filter matches (every binding when it is empty). */
export async function describeAcls(cluster: Cluster, filter: AclBindingFilter = {}): Promise<AclBinding[]> {
  const res = await cluster.anyConnection().request('DescribeAcls', filterWire(filter));
  if (errorNameOf(res.errorCode) !== 'NONE') throw RunnelError.fromCode(res.errorCode, 'Describing ACLs', res.errorMessage);
  return res.resources.flatMap((r) => r.acls.map((a) => bindingOf({ ...r, ...a })));
}

/** Removes every binding each filter matches; returns those removed (each once). */
export async function deleteAcls(cluster: Cluster, filters: readonly AclBindingFilter[]): Promise<AclBinding[]> {
  if (!Array.isArray(filters) || filters.length === 0) throw invalidArgument('deleteAcls takes a non-empty array of filters');
  const res = await cluster.anyConnection().request('DeleteAcls', { filters: filters.map(filterWire) });
  const removed = new Map<string, AclBinding>();
  for (const result of res.filterResults) {
    if (errorNameOf(result.errorCode) !== 'NONE') throw RunnelError.fromCode(result.errorCode, 'Removing ACLs', result.errorMessage);
    for (const acl of result.matchingAcls) {
      const binding = bindingOf(acl);
      removed.set(describeAcl(binding), binding);
    }
  }
  return [...removed.values()];
}
