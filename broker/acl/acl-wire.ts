/**
 * ACL bindings and filters <-> their wire form in Kafka's codes
 * (protocol/acl-codes.ts), for the DescribeAcls, CreateAcls and DeleteAcls
 * handlers and the controller's decisions. A code this build does not know,
 * or `any` where a binding needs one value, is an AclError the request's
 * result carries as INVALID_REQUEST.
 */
import { ACL_OPERATION_CODES, ACL_PATTERN_TYPE_CODES, ACL_PERMISSION_CODES, ACL_RESOURCE_TYPE_CODES, aclNameOf } from '../../protocol/acl-codes.js';
import type { AclCreationWire, AclFilterWire, DeleteAclsMatchingAcl, DescribeAclsResponse } from '../../protocol/messages.js';
import { AclError, validateBinding, type AclBinding, type Operation, type Permission, type ResourceType } from './acl.js';
import type { AclBindingFilter, PatternFilter } from './filter.js';

function named<K extends string>(codes: Readonly<Record<K, number>>, code: number, what: string): K {
  const name = aclNameOf(codes, code);
  if (name === undefined) throw new AclError(`unknown ${what} code ${code}: ${Object.entries(codes).map(([n, c]) => `${String(c)} ${n}`).join(', ')}`);
  return name;
}

function exact<K extends string>(codes: Readonly<Record<K | 'any', number>>, code: number, what: string): Exclude<K, 'any' | 'match'> {
  const name = named(codes, code, what);
  if (name === 'any' || name === 'match') throw new AclError(`a binding names one ${what}, not ${name}`);
  return name as Exclude<K, 'any' | 'match'>;
}

/** The binding a CreateAcls creation asks for, checked (throws AclError). */
export function bindingOfCreation(c: AclCreationWire): AclBinding {
  const binding: AclBinding = {
    resource: { type: exact(ACL_RESOURCE_TYPE_CODES, c.resourceType, 'resource type'), name: c.resourceName, pattern: exact(ACL_PATTERN_TYPE_CODES, c.resourcePatternType, 'pattern type') },
    principal: c.principal,
    host: c.host,
    operation: exact(ACL_OPERATION_CODES, c.operation, 'operation'),
    permission: exact(ACL_PERMISSION_CODES, c.permissionType, 'permission'),
  };
  validateBinding(binding);
  return binding;
}

/** The creation that asks for `b` (the SDK's and tests' direction). */
export function creationOfBinding(b: AclBinding): AclCreationWire {
  return {
    resourceType: ACL_RESOURCE_TYPE_CODES[b.resource.type],
    resourceName: b.resource.name,
    resourcePatternType: ACL_PATTERN_TYPE_CODES[b.resource.pattern],
    principal: b.principal,
    host: b.host,
    operation: ACL_OPERATION_CODES[b.operation],
    permissionType: ACL_PERMISSION_CODES[b.permission],
  };
}

/** The filter a DescribeAcls or DeleteAcls filter means (throws AclError). */
export function filterOfWire(f: AclFilterWire): AclBindingFilter {
  const anyOr = <K extends string>(name: K): Exclude<K, 'any'> | null => (name === 'any' ? null : (name as Exclude<K, 'any'>));
  return {
    resourceType: anyOr(named(ACL_RESOURCE_TYPE_CODES, f.resourceTypeFilter, 'resource type')) as ResourceType | null,
    resourceName: f.resourceNameFilter,
    patternType: named(ACL_PATTERN_TYPE_CODES, f.patternTypeFilter, 'pattern type') as PatternFilter,
    principal: f.principalFilter,
    host: f.hostFilter,
    operation: anyOr(named(ACL_OPERATION_CODES, f.operation, 'operation')) as Operation | null,
    permission: anyOr(named(ACL_PERMISSION_CODES, f.permissionType, 'permission')) as Permission | null,
  };
}

/** One removed binding as DeleteAcls reports it. */
export function matchingAclOf(b: AclBinding): DeleteAclsMatchingAcl {
  const { resourceType, resourceName, resourcePatternType, principal, host, operation, permissionType } = creationOfBinding(b);
  return { errorCode: 0, errorMessage: null, resourceType, resourceName, patternType: resourcePatternType, principal, host, operation, permissionType };
}

/** Bindings grouped by resource pattern, patterns in first-seen order, as DescribeAcls answers. */
export function describedResources(bindings: Iterable<AclBinding>): DescribeAclsResponse['resources'] {
  const byPattern = new Map<string, DescribeAclsResponse['resources'][number]>();
  for (const b of bindings) {
    const wire = creationOfBinding(b);
    const key = JSON.stringify([wire.resourceType, wire.resourcePatternType, wire.resourceName]);
    let resource = byPattern.get(key);
    if (resource === undefined) {
      resource = { resourceType: wire.resourceType, resourceName: wire.resourceName, patternType: wire.resourcePatternType, acls: [] };
      byPattern.set(key, resource);
    }
    resource.acls.push({ principal: wire.principal, host: wire.host, operation: wire.operation, permissionType: wire.permissionType });
  }
  return [...byPattern.values()];
}

