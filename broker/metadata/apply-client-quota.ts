/**
 * How client-quota changes turn into the image's quotas (image.ts's
 * `applyChange`): each change carries one entity's whole set of rates, which
 * replaces what it had; an empty set removes the entity. The controller
 * checks requests before it commits them (quota/quota-admin.ts), so a rate
 * that is not a whole number above 0 here is a broken invariant.
 */
import { assert } from '../world/assert.js';
import { QUOTA_KINDS, quotaEntityKey, type QuotaEntry, type QuotaKind } from '../quota/quota-entities.js';
import type { ClientQuotaAltered } from './changes.js';

export type ClientQuotas = ReadonlyMap<string, QuotaEntry>;

const KINDS: ReadonlySet<string> = new Set(QUOTA_KINDS);

export function clientQuotasChanged(quotas: ClientQuotas, change: ClientQuotaAltered): ClientQuotas {
  assert(change.user !== null || change.clientId !== null, 'a client-quota entity names a user or a client id', {});
  const rates: Partial<Record<QuotaKind, number>> = {};
  for (const [kind, rate] of Object.entries(change.quotas)) {
    assert(KINDS.has(kind) && Number.isSafeInteger(rate) && rate > 0, 'a client quota is a known kind with a positive rate', { kind, rate });
    rates[kind as QuotaKind] = rate;
  }
  const next = new Map(quotas);
  const key = quotaEntityKey(change.user, change.clientId);
  if (Object.keys(rates).length === 0) next.delete(key);
  else next.set(key, { entity: { user: change.user, clientId: change.clientId }, quotas: rates });
  return next;
}
