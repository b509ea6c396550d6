/**
 * The authorizer: answers whether a principal may do an operation on a
 * resource, from the ACL bindings the cluster's metadata holds (acl.ts).
 *
 * The rule, Kafka's:
 * 1. a super user (`super.users`) may do anything;
 * 2. otherwise every binding whose pattern names the resource, whose
 *    principal is the requester's or `User:*`, whose host is the
 *    requester's or `*`, and whose operation covers the one asked counts;
 * 3. a counting deny refuses, whatever allows there are (deny wins);
 * 4. a counting allow permits;
 * 5. nothing counting refuses, except that with
 *    `allowEveryoneIfNoAclFound` a resource no binding names at all (for
 *    anyone, any operation) is open to everyone.
 *
 * Bindings are indexed per resource type: literal names (and `*`) in a
 * map, prefixes in a map keyed by the prefix with the set of prefix lengths
 * in use, so a request costs a few map lookups (one per distinct prefix
 * length), not a walk over every ACL. Answers are cached per request until
 * the bindings change: the same principal producing to the same topic asks
 * the same question on every request.
 */
import { bindingKey, operationCovers, validateBinding, WILDCARD, type AclBinding, type AuthorizationRequest, type ResourceType } from './acl.js';

export interface AuthorizerOptions {
  /** Principals allowed everything (`super.users`), e.g. `User:admin`. */
  readonly superUsers?: readonly string[];
  /** Kafka's allow.everyone.if.no.acl.found: a resource no ACL names is open to all. Default false. */
  readonly allowEveryoneIfNoAclFound?: boolean;
}

export interface Decision {
  readonly allowed: boolean;
  /** Why, for the log line or the error message: the binding that decided, or the default. */
  readonly reason: string;
}

const CACHE_MAX = 10_000;

class TypeIndex {
  readonly literal = new Map<string, AclBinding[]>();
  readonly prefixed = new Map<string, AclBinding[]>();
  /** Distinct prefix lengths in `prefixed`, ascending. */
  prefixLengths: number[] = [];

  add(binding: AclBinding): void {
    const map = binding.resource.pattern === 'literal' ? this.literal : this.prefixed;
    const list = map.get(binding.resource.name);
    if (list === undefined) map.set(binding.resource.name, [binding]);
    else list.push(binding);
    if (binding.resource.pattern === 'prefixed') this.#refreshLengths();
  }

  remove(binding: AclBinding, key: string): void {
    const map = binding.resource.pattern === 'literal' ? this.literal : this.prefixed;
    const list = map.get(binding.resource.name);
    if (list === undefined) return;
    const kept = list.filter((b) => bindingKey(b) !== key);
    if (kept.length === 0) map.delete(binding.resource.name);
    else map.set(binding.resource.name, kept);
    if (binding.resource.pattern === 'prefixed') this.#refreshLengths();
  }

  /** Every binding whose pattern names `name`. */
  *matching(name: string): Generator<AclBinding> {
    yield* this.literal.get(name) ?? [];
    if (name !== WILDCARD) yield* this.literal.get(WILDCARD) ?? [];
    for (const length of this.prefixLengths) {
      if (length > name.length) break;
      yield* this.prefixed.get(name.slice(0, length)) ?? [];
    }
  }

  #refreshLengths(): void {
    this.prefixLengths = [...new Set([...this.prefixed.keys()].map((prefix) => prefix.length))].sort((a, b) => a - b);
  }
}

export class Authorizer {
  readonly #superUsers: ReadonlySet<string>;
  readonly #allowIfNoAcl: boolean;
  readonly #bindings = new Map<string, AclBinding>();
  readonly #index = new Map<ResourceType, TypeIndex>();
  readonly #cache = new Map<string, Decision>();

  constructor(opts: AuthorizerOptions = {}) {
    this.#superUsers = new Set(opts.superUsers ?? []);
    this.#allowIfNoAcl = opts.allowEveryoneIfNoAclFound ?? false;
  }

  get size(): number {
    return this.#bindings.size;
  }

  /** Every binding, in the order they were added. */
  bindings(): AclBinding[] {
    return [...this.#bindings.values()];
  }

  /** Adds a binding (validated); adding one already there changes nothing. Returns whether it was new. */
  add(binding: AclBinding): boolean {
    validateBinding(binding);
    const key = bindingKey(binding);
    if (this.#bindings.has(key)) return false;
    this.#bindings.set(key, binding);
    this.#typeIndex(binding.resource.type).add(binding);
    this.#cache.clear();
    return true;
  }

  /** Removes a binding; returns whether it was there. */
  remove(binding: AclBinding): boolean {
    const key = bindingKey(binding);
    const stored = this.#bindings.get(key);
    if (stored === undefined) return false;
    this.#bindings.delete(key);
    this.#typeIndex(stored.resource.type).remove(stored, key);
    this.#cache.clear();
    return true;
  }

  authorize(request: AuthorizationRequest): Decision {
    if (this.#superUsers.has(request.principal)) return { allowed: true, reason: `${request.principal} is a super user` };
    const cacheKey = `${request.principal}\u0000${request.host}\u0000${request.operation}\u0000${request.resource.type}\u0000${request.resource.name}`;
    const cached = this.#cache.get(cacheKey);
    if (cached !== undefined) return cached;
    const decision = this.#decide(request);
    if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
    this.#cache.set(cacheKey, decision);
    return decision;
  }

  #decide(request: AuthorizationRequest): Decision {
    const index = this.#index.get(request.resource.type);
    let allow: AclBinding | null = null;
    let named = false;
    for (const binding of index?.matching(request.resource.name) ?? []) {
      named = true;
      if (binding.principal !== request.principal && binding.principal !== 'User:*') continue;
      if (binding.host !== request.host && binding.host !== WILDCARD) continue;
      if (!operationCovers(binding.permission, binding.operation, request.operation)) continue;
      if (binding.permission === 'deny') return { allowed: false, reason: `denied by ${describeBinding(binding)}` };
      allow ??= binding;
    }
    if (allow !== null) return { allowed: true, reason: `allowed by ${describeBinding(allow)}` };
    if (!named && this.#allowIfNoAcl) return { allowed: true, reason: `no ACL names ${request.resource.type} "${request.resource.name}" and allow.everyone.if.no.acl.found is on` };
    return { allowed: false, reason: `no ACL allows ${request.principal} ${request.operation} on ${request.resource.type} "${request.resource.name}"` };
  }

  #typeIndex(type: ResourceType): TypeIndex {
    let index = this.#index.get(type);
    if (index === undefined) {
      index = new TypeIndex();
      this.#index.set(type, index);
    }
    return index;
  }
}

/** One line a person reads: `allow User:alice read on topic prefixed "orders." from *`. */
export function describeBinding(b: AclBinding): string {
  return `${b.permission} ${b.principal} ${b.operation} on ${b.resource.type} ${b.resource.pattern} "${b.resource.name}" from ${b.host}`;
}

