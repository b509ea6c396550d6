/**
 * ACL names <-> Kafka's wire codes, for DescribeAcls, CreateAcls and
 * DeleteAcls (schemas/describe-acls/v0.ts). The names are the ones the
 * broker's ACLs use (broker/acl/acl.ts) and the CLI prints; the codes are
 * Kafka's, so a Kafka tool reads them right. `any` (and `match` for
 * patterns) exist only in filters.
 */
export const ACL_RESOURCE_TYPE_CODES = { any: 1, topic: 2, group: 3, cluster: 4 } as const;
export const ACL_PATTERN_TYPE_CODES = { any: 1, match: 2, literal: 3, prefixed: 4 } as const;
export const ACL_OPERATION_CODES = {
  any: 1,
  all: 2,
  read: 3,
  write: 4,
  create: 5,
  delete: 6,
  alter: 7,
  describe: 8,
  cluster_action: 9,
  describe_configs: 10,
  alter_configs: 11,
  idempotent_write: 12,
} as const;
export const ACL_PERMISSION_CODES = { any: 1, deny: 2, allow: 3 } as const;

export type AclResourceTypeName = Exclude<keyof typeof ACL_RESOURCE_TYPE_CODES, 'any'>;
export type AclPatternTypeName = Exclude<keyof typeof ACL_PATTERN_TYPE_CODES, 'any' | 'match'>;
export type AclOperationName = Exclude<keyof typeof ACL_OPERATION_CODES, 'any'>;
export type AclPermissionName = Exclude<keyof typeof ACL_PERMISSION_CODES, 'any'>;

/** The name of `code` in `codes`, or undefined for a code this build does not know (Kafka's UNKNOWN 0, a newer type). */
export function aclNameOf<K extends string>(codes: Readonly<Record<K, number>>, code: number): K | undefined {
  for (const [name, value] of Object.entries(codes) as [K, number][]) if (value === code) return name;
  return undefined;
}
