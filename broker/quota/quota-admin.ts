/**
 * What the controller decides for an AlterClientQuotas request (Kafka's
 * KIP-546 rules), as a pure function of the metadata image: each entry is
 * checked on its own (a known entity shape, known quota keys, rates that
 * are whole numbers above 0, no key twice), and the entries that pass become one
 * ClientQuotaAltered each, carrying the entity's whole set of rates after
 * the change. With `validateOnly` the answers are the same and nothing is
 * committed. Also the entity conversions DescribeClientQuotas shares.
 */
import type { AlterClientQuotasRequest, AlterClientQuotasResponse, ClientQuotaEntityComponent } from '../../protocol/messages.js';
import { Errors } from '../../protocol/errors.js';
import type { ClientQuotaAltered } from '../metadata/changes.js';
import type { MetadataImage } from '../metadata/image.js';
import { DEFAULT_ENTITY, QUOTA_KINDS, quotaEntityKey, type QuotaEntity, type QuotaKind } from './quota-entities.js';

export const USER_ENTITY = 'user';
export const CLIENT_ID_ENTITY = 'client-id';
const KINDS: ReadonlySet<string> = new Set(QUOTA_KINDS);

/** The wire's components as an entity, or why they are not one. */
export function entityOf(components: readonly ClientQuotaEntityComponent[]): QuotaEntity | string {
  let user: string | null = null;
  let clientId: string | null = null;
  const seen = new Set<string>();
  for (const { entityType, entityName } of components) {
    if (entityType !== USER_ENTITY && entityType !== CLIENT_ID_ENTITY) return `unknown entity type "${entityType}": ${USER_ENTITY} or ${CLIENT_ID_ENTITY}`;
    if (seen.has(entityType)) return `the entity names ${entityType} twice`;
    seen.add(entityType);
    if (entityName === DEFAULT_ENTITY) return `"${DEFAULT_ENTITY}" is not a name: send a null name for the default ${entityType}`;
    if (entityName === '') return `an empty ${entityType} name; send a null name for the default`;
    const part = entityName ?? DEFAULT_ENTITY;
    if (entityType === USER_ENTITY) user = part;
    else clientId = part;
  }
  if (seen.size === 0) return `an entity needs a ${USER_ENTITY} or a ${CLIENT_ID_ENTITY} component`;
  return { user, clientId };
}

/** An entity as wire components, user first; the default as a null name. */
export function componentsOf(entity: QuotaEntity): ClientQuotaEntityComponent[] {
  const name = (part: string): string | null => (part === DEFAULT_ENTITY ? null : part);
  const components: ClientQuotaEntityComponent[] = [];
  if (entity.user !== null) components.push({ entityType: USER_ENTITY, entityName: name(entity.user) });
  if (entity.clientId !== null) components.push({ entityType: CLIENT_ID_ENTITY, entityName: name(entity.clientId) });
  return components;
}

type Entry = AlterClientQuotasRequest['entries'][number];

/** The entity's rates after `entry`'s ops, or why the ops are refused. */
function ratesAfter(current: Readonly<Partial<Record<QuotaKind, number>>>, entry: Entry): Record<string, number> | string {
  const rates: Record<string, number> = { ...current };
  const keys = new Set<string>();
  for (const op of entry.ops) {
    if (!KINDS.has(op.key)) return `unknown quota "${op.key}": ${QUOTA_KINDS.join(', ')}`;
    if (keys.has(op.key)) return `quota ${op.key} is named twice for one entity`;
    keys.add(op.key);
    if (op.remove) delete rates[op.key];
    else if (!Number.isSafeInteger(op.value) || op.value <= 0) return `${op.key} must be a whole number above 0 (per second), got ${op.value}; remove it instead for no limit`;
    else rates[op.key] = op.value;
  }
  return rates;
}

export function clientQuotaAlterDecision(image: MetadataImage, request: AlterClientQuotasRequest): { changes: ClientQuotaAltered[]; response: AlterClientQuotasResponse } {
  const changes: ClientQuotaAltered[] = [];
  const named = new Set<string>();
  const entries = request.entries.map((entry) => {
    const refuse = (message: string): AlterClientQuotasResponse['entries'][number] => ({ errorCode: Errors.INVALID_REQUEST.code, errorMessage: message, entity: entry.entity });
    const entity = entityOf(entry.entity);
    if (typeof entity === 'string') return refuse(entity);
    const key = quotaEntityKey(entity.user, entity.clientId);
    if (named.has(key)) return refuse('the entity is named twice in one request');
    named.add(key);
    const rates = ratesAfter(image.clientQuotas?.get(key)?.quotas ?? {}, entry);
    if (typeof rates === 'string') return refuse(rates);
    changes.push({ kind: 'clientQuotaAltered', user: entity.user, clientId: entity.clientId, quotas: rates });
    return { errorCode: 0, errorMessage: null, entity: entry.entity };
  });
  return { changes: request.validateOnly ? [] : changes, response: { throttleTimeMs: 0, entries } };
}
