/**
 * The authorizer (broker/acl/authorizer.ts): Kafka's rules one by one, then
 * a property test against a reference model written as plainly as the rule
 * reads (a scan of every ACL, implications spelled out as a table), on
 * random ACL sets that grow and shrink between questions, so the index, the
 * answer cache and its invalidation must agree with the model every time.
 */
import t from 'tap';
import { CLUSTER_RESOURCE, OPERATIONS, type AclBinding, type AuthorizationRequest, type Operation, type ResourceType } from '../../../broker/acl/acl.js';
import { Authorizer } from '../../../broker/acl/authorizer.js';
import { ANY_BINDING, filterMatches } from '../../../broker/acl/filter.js';
import { seededRng, type Rng } from '../../../broker/world/rng.js';

const acl = (principal: string, operation: Operation, permission: 'allow' | 'deny', name: string, pattern: 'literal' | 'prefixed' = 'literal', type: ResourceType = 'topic', host = '*'): AclBinding => ({ resource: { type, name, pattern }, principal, host, operation, permission });
const ask = (principal: string, operation: Exclude<Operation, 'all'>, name: string, type: ResourceType = 'topic', host = '10.0.0.1'): AuthorizationRequest => ({ principal, host, operation, resource: { type, name } });

t.test('default deny; an allow permits; deny wins over any allow', async (t) => {
  const authz = new Authorizer();
  t.notOk(authz.authorize(ask('User:alice', 'read', 'orders')).allowed, 'nothing allows: denied');
  authz.add(acl('User:alice', 'read', 'allow', 'orders'));
  t.ok(authz.authorize(ask('User:alice', 'read', 'orders')).allowed);
  t.notOk(authz.authorize(ask('User:bob', 'read', 'orders')).allowed, 'another principal: denied');
  t.notOk(authz.authorize(ask('User:alice', 'write', 'orders')).allowed, 'another operation: denied');
  authz.add(acl('User:*', 'all', 'deny', 'ord', 'prefixed'));
  const denied = authz.authorize(ask('User:alice', 'read', 'orders'));
  t.notOk(denied.allowed, 'a prefixed deny for everyone beats the literal allow');
  t.match(denied.reason, /denied by deny User:\* all on topic prefixed "ord"/, 'the reason names the binding');
  t.ok(authz.remove(acl('User:*', 'all', 'deny', 'ord', 'prefixed')));
  t.ok(authz.authorize(ask('User:alice', 'read', 'orders')).allowed, 'the cached denial went with the binding');
});

t.test('implied operations: an allowed read, write, delete or alter allows describe; alter_configs allows describe_configs; a denial implies nothing', async (t) => {
  const authz = new Authorizer();
  for (const op of ['read', 'write', 'delete', 'alter'] as const) {
    authz.add(acl('User:a', op, 'allow', `t-${op}`));
    t.ok(authz.authorize(ask('User:a', 'describe', `t-${op}`)).allowed, `${op} implies describe`);
    t.notOk(authz.authorize(ask('User:a', 'create', `t-${op}`)).allowed, `${op} does not imply create`);
  }
  authz.add(acl('User:a', 'alter_configs', 'allow', 'cfg'));
  t.ok(authz.authorize(ask('User:a', 'describe_configs', 'cfg')).allowed);
  authz.add(acl('User:a', 'describe', 'allow', 'x'));
  authz.add(acl('User:a', 'read', 'deny', 'x'));
  t.ok(authz.authorize(ask('User:a', 'describe', 'x')).allowed, 'a denied read does not deny describe');
  authz.add(acl('User:a', 'all', 'allow', 'everything'));
  t.ok(authz.authorize(ask('User:a', 'idempotent_write', 'everything')).allowed, 'all covers every operation');
});

t.test('patterns: literal, the literal *, prefixed; hosts; the cluster resource; super users; allow.everyone.if.no.acl.found', async (t) => {
  const authz = new Authorizer({ superUsers: ['User:admin'], allowEveryoneIfNoAclFound: true });
  authz.add(acl('User:bob', 'write', 'allow', '*'));
  t.ok(authz.authorize(ask('User:bob', 'write', 'anything')).allowed, 'the literal * names every topic');
  t.notOk(authz.authorize(ask('User:carol', 'write', 'anything')).allowed, 'a topic the * names is not open to others: allow.everyone.if.no.acl.found is for resources no ACL names');
  authz.add(acl('User:carol', 'read', 'allow', 'eu-', 'prefixed', 'group', '10.0.0.9'));
  t.ok(authz.authorize(ask('User:carol', 'read', 'eu-billing', 'group', '10.0.0.9')).allowed, 'prefixed, from its host');
  t.notOk(authz.authorize(ask('User:carol', 'read', 'eu-billing', 'group', '10.0.0.1')).allowed, 'from another host: denied (the group is named by an ACL now)');
  t.ok(authz.authorize(ask('User:zed', 'read', 'us-billing', 'group')).allowed, 'a group no ACL names is open to everyone with allow.everyone.if.no.acl.found');
  t.ok(authz.authorize(ask('User:admin', 'alter', CLUSTER_RESOURCE, 'cluster')).allowed, 'a super user may do anything');
  t.throws(() => authz.add(acl('User:x', 'alter', 'allow', 'other', 'literal', 'cluster')), /the cluster resource is the literal "runnel-cluster"/);
  t.throws(() => authz.add(acl('alice', 'read', 'allow', 't')), /User:<name>/);
  t.throws(() => authz.add(acl('User:x', 'read', 'allow', '*', 'prefixed')), /literal "\*"/);
  t.equal(authz.add(acl('User:bob', 'write', 'allow', '*')), false, 'the same binding twice is stored once');
  t.equal(authz.size, 2);
});

t.test('binding filters: any field null matches all; the match pattern finds every binding that applies to a resource', async (t) => {
  const bindings = [acl('User:a', 'read', 'allow', 'orders'), acl('User:a', 'read', 'allow', '*'), acl('User:b', 'write', 'deny', 'ord', 'prefixed'), acl('User:b', 'write', 'deny', 'other')];
  t.equal(bindings.filter((b) => filterMatches(ANY_BINDING, b)).length, 4);
  const match = { ...ANY_BINDING, resourceType: 'topic' as const, resourceName: 'orders', patternType: 'match' as const };
  t.same(bindings.filter((b) => filterMatches(match, b)).map((b) => b.resource.name), ['orders', '*', 'ord']);
  const exact = { ...ANY_BINDING, resourceName: 'ord', patternType: 'prefixed' as const };
  t.same(bindings.filter((b) => filterMatches(exact, b)).map((b) => b.principal), ['User:b']);
  t.same(bindings.filter((b) => filterMatches({ ...ANY_BINDING, principal: 'User:a', operation: 'read' }, b)).length, 2);
});

// ---- the reference model ----

/** Which requested operations an ALLOW of each operation covers, written out (a DENY covers only itself, and `all` everything). */
const ALLOW_COVERS: Record<Operation, readonly Operation[]> = {
  all: OPERATIONS,
  read: ['read', 'describe'],
  write: ['write', 'describe'],
  delete: ['delete', 'describe'],
  alter: ['alter', 'describe'],
  create: ['create'],
  describe: ['describe'],
  cluster_action: ['cluster_action'],
  describe_configs: ['describe_configs'],
  alter_configs: ['alter_configs', 'describe_configs'],
  idempotent_write: ['idempotent_write'],
};

function modelDecides(acls: readonly AclBinding[], superUsers: readonly string[], allowIfNone: boolean, r: AuthorizationRequest): boolean {
  if (superUsers.includes(r.principal)) return true;
  const onResource = acls.filter((a) => a.resource.type === r.resource.type && (a.resource.pattern === 'prefixed' ? r.resource.name.startsWith(a.resource.name) : a.resource.name === r.resource.name || a.resource.name === '*'));
  const counting = onResource.filter((a) => (a.principal === r.principal || a.principal === 'User:*') && (a.host === r.host || a.host === '*') && (a.permission === 'allow' ? ALLOW_COVERS[a.operation].includes(r.operation) : a.operation === 'all' || a.operation === r.operation));
  if (counting.some((a) => a.permission === 'deny')) return false;
  if (counting.some((a) => a.permission === 'allow')) return true;
  return onResource.length === 0 && allowIfNone;
}

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)]!;
const NAMES = ['a', 'ab', 'abc', 'b', 'ba', '*'];
const PRINCIPALS = ['User:alice', 'User:bob', 'User:*'];
const HOSTS = ['*', '10.0.0.1', '10.0.0.2'];
const TYPES: ResourceType[] = ['topic', 'group'];

function randomBinding(rng: Rng): AclBinding {
  const pattern = rng.next() < 0.4 ? 'prefixed' : 'literal';
  const name = pattern === 'prefixed' ? pick(rng, NAMES.filter((n) => n !== '*')) : pick(rng, NAMES);
  return acl(pick(rng, PRINCIPALS), pick(rng, OPERATIONS), rng.next() < 0.3 ? 'deny' : 'allow', name, pattern, pick(rng, TYPES), pick(rng, HOSTS));
}

function randomRequest(rng: Rng): AuthorizationRequest {
  return ask(pick(rng, ['User:alice', 'User:bob', 'User:carol']), pick(rng, OPERATIONS.filter((o) => o !== 'all')) as Exclude<Operation, 'all'>, pick(rng, NAMES.filter((n) => n !== '*').concat(['abcd', 'c'])), pick(rng, TYPES), pick(rng, ['10.0.0.1', '10.0.0.2']));
}

t.test('property: the authorizer agrees with the reference model on random ACL sets, as they grow and shrink (2,000 seeds)', async (t) => {
  let questions = 0;
  let allowed = 0;
  for (let seed = 1; seed <= 2_000; seed++) {
    const rng = seededRng(seed);
    const superUsers = rng.next() < 0.2 ? ['User:bob'] : [];
    const allowIfNone = rng.next() < 0.3;
    const authz = new Authorizer({ superUsers, allowEveryoneIfNoAclFound: allowIfNone });
    const model: AclBinding[] = [];
    for (let step = 0; step < 30; step++) {
      const roll = rng.next();
      if (roll < 0.5) {
        const b = randomBinding(rng);
        const isNew = !model.some((m) => JSON.stringify(m) === JSON.stringify(b));
        if (authz.add(b) !== isNew) return t.fail(`seed ${seed} step ${step}: add said ${!isNew} for a binding the model ${isNew ? 'lacks' : 'has'}`);
        if (isNew) model.push(b);
      } else if (roll < 0.7 && model.length > 0) {
        const b = model.splice(rng.int(model.length), 1)[0]!;
        if (!authz.remove({ ...b, resource: { ...b.resource } })) return t.fail(`seed ${seed} step ${step}: a stored binding was not removed`);
      }
      for (let q = 0; q < 6; q++) {
        const r = randomRequest(rng);
        const want = modelDecides(model, superUsers, allowIfNone, r);
        const got = authz.authorize(r).allowed;
        questions += 1;
        if (got) allowed += 1;
        if (got !== want) return t.fail(`seed ${seed} step ${step}: ${JSON.stringify(r)} -> ${got}, the model says ${want}; ACLs ${JSON.stringify(model)}`);
      }
    }
    if (authz.size !== model.length) return t.fail(`seed ${seed}: ${authz.size} stored, the model has ${model.length}`);
  }
  t.ok(allowed > questions * 0.1 && allowed < questions * 0.9, `both answers are common (${allowed} of ${questions} allowed), so the agreement means something`);
});
