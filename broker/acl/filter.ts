/**
 * ACL binding filters, as Kafka's DescribeAcls and DeleteAcls take them:
 * each field either names a value or is null for "any". The pattern type
 * has two more choices: `any` (literal or prefixed, the name compared as
 * it is) and `match` (every binding that applies to the named resource:
 * its literal, the literal `*`, and every prefix of its name), which is how
 * an operator asks "what decides access to topic orders-eu?".
 */
import { patternMatches, type AclBinding, type Operation, type PatternType, type Permission, type ResourceType } from './acl.js';

export type PatternFilter = PatternType | 'any' | 'match';

export interface AclBindingFilter {
  readonly resourceType: ResourceType | null;
  readonly resourceName: string | null;
  readonly patternType: PatternFilter;
  readonly principal: string | null;
  readonly host: string | null;
  readonly operation: Operation | null;
  readonly permission: Permission | null;
}

/** Matches every binding. */
export const ANY_BINDING: AclBindingFilter = { resourceType: null, resourceName: null, patternType: 'any', principal: null, host: null, operation: null, permission: null };

export function filterMatches(filter: AclBindingFilter, b: AclBinding): boolean {
  if (filter.resourceType !== null && filter.resourceType !== b.resource.type) return false;
  if (filter.principal !== null && filter.principal !== b.principal) return false;
  if (filter.host !== null && filter.host !== b.host) return false;
  if (filter.operation !== null && filter.operation !== b.operation) return false;
  if (filter.permission !== null && filter.permission !== b.permission) return false;
  if (filter.patternType === 'match') return filter.resourceName === null || patternMatches(b.resource, filter.resourceName);
  if (filter.patternType !== 'any' && filter.patternType !== b.resource.pattern) return false;
  return filter.resourceName === null || filter.resourceName === b.resource.name;
}
