/**
 * DescribeClientQuotas (48) and AlterClientQuotas (49). Describe reads this
 * node's metadata (every broker has the quotas: they replicate with the rest
 * of the metadata log) and filters entities as Kafka does; Alter goes to
 * the controller (in this process, or forwarded), which decides per entity.
 */
import { Errors } from '../../protocol/errors.js';
import type { DescribeClientQuotasRequest, DescribeClientQuotasResponse } from '../../protocol/messages.js';
import { CLIENT_ID_ENTITY, componentsOf, USER_ENTITY } from '../quota/quota-admin.js';
import { DEFAULT_ENTITY, type QuotaEntity, type QuotaEntry } from '../quota/quota-entities.js';
import type { AdminContext, ServingContext } from './broker-context.js';
import { toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';

const MATCH_EXACT = 0;
const MATCH_DEFAULT = 1;
const MATCH_ANY = 2;

type Filter = DescribeClientQuotasRequest['components'][number];

/** A predicate for entities matching every component, or why the filter is not one. */
function matcher(request: DescribeClientQuotasRequest): ((entity: QuotaEntity) => boolean) | string {
  const byType = new Map<string, Filter>();
  for (const component of request.components) {
    if (component.entityType !== USER_ENTITY && component.entityType !== CLIENT_ID_ENTITY) return `unknown entity type "${component.entityType}": ${USER_ENTITY} or ${CLIENT_ID_ENTITY}`;
    if (byType.has(component.entityType)) return `the filter names ${component.entityType} twice`;
    if (component.matchType === MATCH_EXACT && (component.match === null || component.match === '')) return `an exact match on ${component.entityType} needs a name`;
    if (component.matchType !== MATCH_EXACT && component.matchType !== MATCH_DEFAULT && component.matchType !== MATCH_ANY) return `unknown match type ${component.matchType}: 0 (exact), 1 (default) or 2 (any)`;
    byType.set(component.entityType, component);
  }
  const partMatches = (part: string | null, filter: Filter | undefined): boolean => {
    if (filter === undefined) return !request.strict || part === null;
    if (part === null) return false;
    if (filter.matchType === MATCH_ANY) return true;
    if (filter.matchType === MATCH_DEFAULT) return part === DEFAULT_ENTITY;
    return part === filter.match;
  };
  return (entity) => partMatches(entity.user, byType.get(USER_ENTITY)) && partMatches(entity.clientId, byType.get(CLIENT_ID_ENTITY));
}

const describedOrder = (a: QuotaEntry, b: QuotaEntry): number => {
  const key = (e: QuotaEntry): string => `${e.entity.user ?? ''}\u0000${e.entity.clientId ?? ''}`;
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
};

export function describeClientQuotasHandler(node: ServingContext): ApiHandler<'DescribeClientQuotas'> {
  return {
    api: 'DescribeClientQuotas',
    versions: { min: 0, max: 0 },
    handle: async (_ctx, request): Promise<DescribeClientQuotasResponse> => {
      const matches = matcher(request);
      if (typeof matches === 'string') return { throttleTimeMs: 0, errorCode: Errors.INVALID_REQUEST.code, errorMessage: matches, entries: null };
      const entries = [...(node.replicas.image.clientQuotas?.values() ?? [])]
        .filter((entry) => matches(entry.entity))
        .sort(describedOrder)
        .map((entry) => ({ entity: componentsOf(entry.entity), values: Object.entries(entry.quotas).map(([key, value]) => ({ key, value: value! })) }));
      return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, entries };
    },
  };
}

export function alterClientQuotasHandler(node: AdminContext): ApiHandler<'AlterClientQuotas'> {
  return {
    api: 'AlterClientQuotas',
    versions: { min: 0, max: 0 },
    handle: async (ctx, request) => {
      try {
        return await node.controller.alterClientQuotas(request);
      } catch (error) {
        const wire = toWireError(error, ctx.logger, { api: 'AlterClientQuotas' });
        return { throttleTimeMs: 0, entries: request.entries.map((entry) => ({ errorCode: wire.code, errorMessage: wire.message, entity: entry.entity })) };
      }
    },
  };
}
