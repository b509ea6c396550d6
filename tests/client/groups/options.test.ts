/** The consumer-group options and subscriptions the SDK refuses, with messages that say why. */
import t from 'tap';
import { Runnel } from '../../../client/index.js';
import { matches, parseSubscription } from '../../../client/consumer/subscription.js';

t.test('subscriptions: names and whole-name patterns; flags, empty lists and other values refused', async (t) => {
  const sub = parseSubscription(['a', /b.*/, 'a', /c|d/]);
  t.same(sub.names, ['a']);
  t.equal(sub.regex, '(?:b.*)|(?:c|d)', 'one expression for the coordinator');
  t.ok(matches(sub, 'a'));
  t.ok(matches(sub, 'bx'));
  t.ok(matches(sub, 'd'));
  t.notOk(matches(sub, 'xb'), 'a pattern matches the whole name');
  t.notOk(matches(sub, 'cd'), 'alternatives are anchored too');
  t.notOk(matches(parseSubscription([/.*/]), '__consumer_offsets'), 'never an internal topic by pattern');
  t.ok(matches(parseSubscription(['__consumer_offsets']), '__consumer_offsets'), 'by name, yes');
  t.throws(() => parseSubscription([/a/i]), /flags/);
  t.throws(() => parseSubscription([]), /one or more/);
  t.throws(() => parseSubscription([''] as never), /non-empty name or a RegExp/);
  t.throws(() => parseSubscription('a' as never), /one or more/);
});

t.test('group options need a groupId, and are checked', async (t) => {
  const runnel = new Runnel({ bootstrap: ['127.0.0.1:1'] });
  t.teardown(() => runnel.close());
  t.throws(() => runnel.consumer({ autoCommit: false }), /autoCommit is for group members; give a groupId too/);
  t.throws(() => runnel.consumer({ groupId: '' }), /groupId must be a non-empty string/);
  t.throws(() => runnel.consumer({ groupId: 'g', sessionTimeoutMs: 0 }), /sessionTimeoutMs must be a positive integer/);
  const c = runnel.consumer({ groupId: 'g' });
  t.throws(() => c.assign([{ topic: 't', partition: 0 }]), /either assigns partitions or subscribes/);
  await t.rejects(c.commit(), /subscribe\(\) first/);
  await t.rejects(c.run({} as never), /one handler/);
  await c.close();
});
