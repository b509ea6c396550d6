/**
 * Which quota applies to a request: client quotas are set on entities made
 * of a user (the authenticated principal's name) and a client id, either
 * part naming one value, `<default>` (every user or client id without an
 * entry of its own), or absent (any). The most specific entity that sets a
 * quota of the kind wins, in Kafka's order of precedence (KIP-55):
 *
 *   1. user + client id       5. default user + default client id
 *   2. user + default client  6. default user
 *   3. user                   7. client id
 *   4. default user + client  8. default client id
 *
 * Each kind (producer bytes, consumer bytes, requests) is resolved on its
 * own. Clients matched by the same entity share one budget: a quota on user
 * `alice` is shared by all her clients; one on `<default>` user gives each
 * user their own. `bucketKey` names that budget.
 */

export const DEFAULT_ENTITY = '<default>';

export const QUOTA_KINDS = ['producer_byte_rate', 'consumer_byte_rate', 'request_rate'] as const;
export type QuotaKind = (typeof QUOTA_KINDS)[number];

export interface QuotaEntity {
  /** A user name, DEFAULT_ENTITY, or null (the entity does not name users). */
  readonly user: string | null;
  /** A client id, DEFAULT_ENTITY, or null. */
  readonly clientId: string | null;
}

export interface QuotaEntry {
  readonly entity: QuotaEntity;
  /** Rates per second: bytes for the byte rates, requests for request_rate. */
  readonly quotas: Readonly<Partial<Record<QuotaKind, number>>>;
}

export interface ResolvedQuota {
  readonly rate: number;
  /** The budget the request draws on: requests resolving to the same key share it. */
  readonly bucketKey: string;
  /** Whose budget it is: the user and client id it is kept for, '' for a part the quota does not divide by (Kafka's quota metric tags). */
  readonly budget: QuotaBudget;
  /** The entity that set it, for messages and metrics. */
  readonly entity: QuotaEntity;
}

export interface QuotaBudget {
  /** The quota kind's bucket key (ResolvedQuota.bucketKey): one per budget and kind. */
  readonly key: string;
  readonly user: string;
  readonly clientId: string;
}

/** One key per entity (user part, client part), for maps of entities. */
export const quotaEntityKey = (user: string | null, clientId: string | null): string => `${user ?? '\u0001'}\u0000${clientId ?? '\u0001'}`;
const entityKey = quotaEntityKey;

/** The entities to try for (user, clientId), most specific first: [user part, client part] with `<default>` standing in. */
function precedence(user: string, clientId: string): [string | null, string | null][] {
  const D = DEFAULT_ENTITY;
  return [[user, clientId], [user, D], [user, null], [D, clientId], [D, D], [D, null], [null, clientId], [null, D]];
}

export class QuotaTable {
  readonly #entries = new Map<string, QuotaEntry>();

  constructor(entries: readonly QuotaEntry[] = []) {
    for (const entry of entries) this.set(entry);
  }

  /** Sets an entity's quotas (replacing what it had); an entry with no quotas removes the entity. */
  set(entry: QuotaEntry): void {
    const key = entityKey(entry.entity.user, entry.entity.clientId);
    if (Object.keys(entry.quotas).length === 0) this.#entries.delete(key);
    else this.#entries.set(key, { entity: { ...entry.entity }, quotas: { ...entry.quotas } });
  }

  entries(): QuotaEntry[] {
    return [...this.#entries.values()];
  }

  /** The quota of `kind` for a request of `user` with `clientId`, or null when none applies. */
  resolve(kind: QuotaKind, user: string, clientId: string): ResolvedQuota | null {
    for (const [userPart, clientPart] of precedence(user, clientId)) {
      const entry = this.#entries.get(entityKey(userPart, clientPart));
      const rate = entry?.quotas[kind];
      if (entry === undefined || rate === undefined) continue;
      // A default part stands for the request's own value: each user (or client id) gets a budget of its own.
      const budgetUser = userPart === null ? '' : user;
      const budgetClient = clientPart === null ? '' : clientId;
      const bucketKey = `${kind}\u0000${budgetUser}\u0000${budgetClient}`;
      return { rate, bucketKey, budget: { key: bucketKey, user: budgetUser, clientId: budgetClient }, entity: entry.entity };
    }
    return null;
  }
}
