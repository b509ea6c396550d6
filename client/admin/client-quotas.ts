/**
 * Client quotas through the admin client (AlterClientQuotas and
 * DescribeClientQuotas). An entity names a user and/or a client id; each
 * part is a name, or null for the default (every user or client id without
 * an entry of its own); a part left out is not part of the entity. Quotas
 * are rates per second: producer_byte_rate, consumer_byte_rate (bytes) and
 * request_rate (requests), enforced by each broker on its own traffic.
 */
import { errorNameOf } from '../../protocol/errors.js';
import type { ClientQuotaEntityComponent } from '../../protocol/messages.js';
import { RunnelError, invalidArgument } from '../errors.js';
import type { Cluster } from '../metadata.js';

export const CLIENT_QUOTA_KINDS = ['producer_byte_rate', 'consumer_byte_rate', 'request_rate'] as const;
export type ClientQuotaKind = (typeof CLIENT_QUOTA_KINDS)[number];

export interface ClientQuotaEntity {
  /** A user name; null: the default user; absent: not part of the entity. */
  user?: string | null;
  /** A client id; null: the default client id; absent: not part of the entity. */
  clientId?: string | null;
}

export interface ClientQuotaAlteration {
  entity: ClientQuotaEntity;
  /** Rates to set (whole numbers per second, above 0). */
  set?: Partial<Record<ClientQuotaKind, number>>;
  /** Kinds to remove (no limit of that kind for the entity any more). */
  remove?: readonly ClientQuotaKind[];
}

export interface ClientQuotaDescription {
  entity: ClientQuotaEntity;
  quotas: Partial<Record<ClientQuotaKind, number>>;
}

function componentsOf(entity: ClientQuotaEntity): ClientQuotaEntityComponent[] {
  const components: ClientQuotaEntityComponent[] = [];
  if (entity.user !== undefined) components.push({ entityType: 'user', entityName: entity.user });
  if (entity.clientId !== undefined) components.push({ entityType: 'client-id', entityName: entity.clientId });
  if (components.length === 0) throw invalidArgument('a quota entity names a user or a client id (null for the default)');
  return components;
}

function entityOf(components: readonly ClientQuotaEntityComponent[]): ClientQuotaEntity {
  const entity: ClientQuotaEntity = {};
  for (const c of components) {
    if (c.entityType === 'user') entity.user = c.entityName;
    else if (c.entityType === 'client-id') entity.clientId = c.entityName;
  }
  return entity;
}

/** A person's name for an entity: `user alice, client-id <default>`. */
export function describeEntity(entity: ClientQuotaEntity): string {
  const part = (type: string, name: string | null | undefined): string[] => (name === undefined ? [] : [`${type} ${name ?? '<default>'}`]);
  return [...part('user', entity.user), ...part('client-id', entity.clientId)].join(', ');
}

export async function alterClientQuotas(cluster: Cluster, alterations: readonly ClientQuotaAlteration[], validateOnly: boolean): Promise<void> {
  const entries = alterations.map((a) => ({
    entity: componentsOf(a.entity),
    ops: [
      ...Object.entries(a.set ?? {}).map(([key, value]) => ({ key, value: value!, remove: false })),
      ...(a.remove ?? []).map((key) => ({ key, value: 0, remove: true })),
    ],
  }));
  const res = await cluster.anyConnection().request('AlterClientQuotas', { entries, validateOnly });
  const failed = res.entries.find((e) => errorNameOf(e.errorCode) !== 'NONE');
  if (failed !== undefined) throw RunnelError.fromCode(failed.errorCode, `Altering the quotas of ${describeEntity(entityOf(failed.entity))}`, failed.errorMessage);
}

/**
 * The entities matching `filter` and their quotas: a part given as a name
 * matches that name, as null the default, and a part left out matches
 * anything (with `strict`: only entities without that part).
 */
export async function describeClientQuotas(cluster: Cluster, filter: ClientQuotaEntity & { strict?: boolean } = {}): Promise<ClientQuotaDescription[]> {
  const component = (entityType: string, part: string | null | undefined): { entityType: string; matchType: number; match: string | null }[] =>
    part === undefined ? [] : [{ entityType, matchType: part === null ? 1 : 0, match: part }];
  const res = await cluster.anyConnection().request('DescribeClientQuotas', { components: [...component('user', filter.user), ...component('client-id', filter.clientId)], strict: filter.strict ?? false });
  if (errorNameOf(res.errorCode) !== 'NONE') throw RunnelError.fromCode(res.errorCode, 'Describing client quotas', res.errorMessage);
  return (res.entries ?? []).map((e) => ({ entity: entityOf(e.entity), quotas: Object.fromEntries(e.values.map((v) => [v.key, v.value])) }));
}
