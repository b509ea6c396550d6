/**
 * Access control lists in Kafka's shape: a binding says that a principal,
 * connecting from a host, is allowed or denied an operation on the
 * resources a pattern names.
 *
 * - Resources: topics, groups (consumer and share groups share one
 *   namespace) and the cluster (one resource, named `runnel-cluster` as
 *   Kafka names its `kafka-cluster`).
 * - Patterns: `literal` names one resource, or every resource of its type
 *   when the name is `*`; `prefixed` names every resource whose name starts
 *   with it.
 * - Principals are `User:<name>`; `User:*` is every principal. Hosts are an
 *   address or `*`.
 * - Operations, with Kafka's implications: `all` covers every operation;
 *   an allowed `read`, `write`, `delete` or `alter` also allows `describe`,
 *   and an allowed `alter_configs` also allows `describe_configs`. Denials
 *   imply nothing further (a denied `read` does not deny `describe`).
 *
 * Deny wins over allow; with no matching allow the answer is deny (see
 * authorizer.ts for super users and the empty-resource rule).
 */

export const RESOURCE_TYPES = ['topic', 'group', 'cluster'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export const PATTERN_TYPES = ['literal', 'prefixed'] as const;
export type PatternType = (typeof PATTERN_TYPES)[number];

export const OPERATIONS = ['all', 'read', 'write', 'create', 'delete', 'alter', 'describe', 'cluster_action', 'describe_configs', 'alter_configs', 'idempotent_write'] as const;
export type Operation = (typeof OPERATIONS)[number];

export const PERMISSIONS = ['allow', 'deny'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The name of the one cluster resource. */
export const CLUSTER_RESOURCE = 'runnel-cluster';
/** As a literal resource name or a principal's name: every one. */
export const WILDCARD = '*';

export interface ResourcePattern {
  readonly type: ResourceType;
  readonly name: string;
  readonly pattern: PatternType;
}

export interface AclBinding {
  readonly resource: ResourcePattern;
  /** `User:<name>` or `User:*`. */
  readonly principal: string;
  /** An address, or `*`. */
  readonly host: string;
  readonly operation: Operation;
  readonly permission: Permission;
}

/** A request to authorize: one operation on one named resource. */
export interface AuthorizationRequest {
  readonly principal: string;
  readonly host: string;
  readonly operation: Exclude<Operation, 'all'>;
  readonly resource: { readonly type: ResourceType; readonly name: string };
}

/** Operations an allow of `granted` also allows (Kafka's implied operations). */
const IMPLIED: Readonly<Partial<Record<Operation, readonly Operation[]>>> = {
  read: ['describe'],
  write: ['describe'],
  delete: ['describe'],
  alter: ['describe'],
  alter_configs: ['describe_configs'],
};

/** Whether a binding of `permission` for `granted` covers a request for `requested`. */
export function operationCovers(permission: Permission, granted: Operation, requested: Operation): boolean {
  if (granted === 'all' || granted === requested) return true;
  return permission === 'allow' && (IMPLIED[granted]?.includes(requested) ?? false);
}

export class AclError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AclError';
  }
}

const PRINCIPAL = /^User:.+$/;

/** Checks a binding before it is stored: an error a person can act on, or nothing. */
export function validateBinding(binding: AclBinding): void {
  const { resource, principal, host, operation, permission } = binding;
  if (!RESOURCE_TYPES.includes(resource.type)) throw new AclError(`unknown resource type "${resource.type}": ${RESOURCE_TYPES.join(', ')}`);
  if (!PATTERN_TYPES.includes(resource.pattern)) throw new AclError(`unknown pattern type "${resource.pattern}": ${PATTERN_TYPES.join(', ')}`);
  if (!OPERATIONS.includes(operation)) throw new AclError(`unknown operation "${operation}": ${OPERATIONS.join(', ')}`);
  if (!PERMISSIONS.includes(permission)) throw new AclError(`unknown permission "${permission}": allow or deny`);
  if (resource.name === '') throw new AclError('a resource name must not be empty');
  if (resource.type === 'cluster' && (resource.pattern !== 'literal' || resource.name !== CLUSTER_RESOURCE)) {
    throw new AclError(`the cluster resource is the literal "${CLUSTER_RESOURCE}"`);
  }
  if (resource.pattern === 'prefixed' && resource.name === WILDCARD) throw new AclError('a prefixed pattern of "*" means a name starting with "*"; for every resource use a literal "*"');
  if (!PRINCIPAL.test(principal)) throw new AclError(`a principal is User:<name> or User:*, got "${principal}"`);
  if (host === '') throw new AclError('a host is an address or *');
}

/** Whether `pattern` names the resource `name` of its type. */
export function patternMatches(pattern: ResourcePattern, name: string): boolean {
  if (pattern.pattern === 'prefixed') return name.startsWith(pattern.name);
  return pattern.name === WILDCARD || pattern.name === name;
}

/** A binding's identity: two bindings with the same key are the same ACL (adding it twice stores it once). */
export function bindingKey(b: AclBinding): string {
  return JSON.stringify([b.resource.type, b.resource.pattern, b.resource.name, b.principal, b.host, b.operation, b.permission]);
}
