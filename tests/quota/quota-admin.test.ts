/**
 * AlterClientQuotas as the controller decides it (quota/quota-admin.ts)
 * and DescribeClientQuotas's filters (handlers/client-quotas.ts), in
 * process: each entry checked on its own (entity shape, known keys, whole
 * rates above 0, nothing named twice), the entity's whole set of rates
 * after the change, validateOnly committing nothing; Describe's exact,
 * default and any matches, strict, and a bad filter.
 */
import t from 'tap';
import { describeClientQuotasHandler } from '../../broker/handlers/client-quotas.js';
import type { ServingContext } from '../../broker/handlers/broker-context.js';
import { NO_RESPONSE, type RequestContext } from '../../broker/handlers/handler.js';
import { applyChange, EMPTY_IMAGE, type MetadataImage } from '../../broker/metadata/image.js';
import { clientQuotaAlterDecision } from '../../broker/quota/quota-admin.js';
import { Errors } from '../../protocol/errors.js';
import type { AlterClientQuotasRequest, DescribeClientQuotasRequest, DescribeClientQuotasResponse } from '../../protocol/messages.js';

const user = (name: string | null) => ({ entityType: 'user', entityName: name });
const client = (name: string | null) => ({ entityType: 'client-id', entityName: name });
const set = (key: string, value: number) => ({ key, value, remove: false });
const remove = (key: string) => ({ key, value: 0, remove: true });

function applied(image: MetadataImage, request: AlterClientQuotasRequest): { image: MetadataImage; errors: (string | null)[] } {
  const decision = clientQuotaAlterDecision(image, request);
  let next = image;
  for (const change of decision.changes) next = applyChange(next, change, next.version + 1);
  return { image: next, errors: decision.response.entries.map((e) => (e.errorCode === 0 ? null : e.errorMessage)) };
}

t.test('AlterClientQuotas: each entry on its own, the whole set after the change, validateOnly changes nothing', async (t) => {
  let { image, errors } = applied(EMPTY_IMAGE, {
    validateOnly: false,
    entries: [
      { entity: [user('alice'), client(null)], ops: [set('producer_byte_rate', 1000), set('request_rate', 10)] },
      { entity: [client('etl')], ops: [set('consumer_byte_rate', 5000)] },
      { entity: [user('bob')], ops: [set('bytes_per_fortnight', 1)] },
      { entity: [user('dave')], ops: [set('request_rate', 1.5)] },
      { entity: [user('erin')], ops: [set('request_rate', 0)] },
      { entity: [user('carol')], ops: [set('request_rate', 5), remove('request_rate')] },
      { entity: [user('alice'), client(null)], ops: [set('request_rate', 20)] },
      { entity: [], ops: [set('request_rate', 5)] },
      { entity: [user('<default>')], ops: [set('request_rate', 5)] },
      { entity: [{ entityType: 'ip', entityName: '10.0.0.1' }], ops: [set('request_rate', 5)] },
    ],
  });
  const expected = [null, null, /^unknown quota "bytes_per_fortnight"/, /request_rate must be a whole number above 0/, /request_rate must be a whole number above 0/, /quota request_rate is named twice/, /the entity is named twice in one request/, /an entity needs a user or a client-id/, /"<default>" is not a name: send a null name/, /unknown entity type "ip"/];
  t.equal(errors.length, expected.length);
  expected.forEach((want, i) => (want === null ? t.equal(errors[i], null, `entry ${i} passes`) : t.match(errors[i], want, `entry ${i} refused`)));
  t.same([...image.clientQuotas!.values()].map((e) => [e.entity, e.quotas]), [[{ user: 'alice', clientId: '<default>' }, { producer_byte_rate: 1000, request_rate: 10 }], [{ user: null, clientId: 'etl' }, { consumer_byte_rate: 5000 }]], 'only the valid entries were applied');

  const checked = applied(image, { validateOnly: true, entries: [{ entity: [client('etl')], ops: [remove('consumer_byte_rate')] }] });
  t.same(checked.errors, [null], 'validateOnly answers as if applied');
  t.equal(checked.image, image, 'and commits nothing');

  ({ image } = applied(image, { validateOnly: false, entries: [{ entity: [user('alice'), client(null)], ops: [remove('request_rate'), set('consumer_byte_rate', 7)] }] }));
  t.same(image.clientQuotas!.get([...image.clientQuotas!.keys()][0]!)!.quotas, { producer_byte_rate: 1000, consumer_byte_rate: 7 }, 'ops change only the kinds they name');
  ({ image } = applied(image, { validateOnly: false, entries: [{ entity: [client('etl')], ops: [remove('consumer_byte_rate')] }] }));
  t.equal(image.clientQuotas!.size, 1, 'an entity whose last quota is removed is gone');
});

t.test('DescribeClientQuotas: exact, default and any matches; strict; a bad filter', async (t) => {
  const { image } = applied(EMPTY_IMAGE, {
    validateOnly: false,
    entries: [
      { entity: [user('alice')], ops: [set('request_rate', 1)] },
      { entity: [user('alice'), client('etl')], ops: [set('request_rate', 2)] },
      { entity: [user(null)], ops: [set('request_rate', 3)] },
      { entity: [client(null)], ops: [set('request_rate', 4)] },
    ],
  });
  const handler = describeClientQuotasHandler({ replicas: { image } } as unknown as ServingContext);
  const describe = async (request: DescribeClientQuotasRequest): Promise<DescribeClientQuotasResponse> => {
    const response = await handler.handle({} as RequestContext, request);
    if (response === NO_RESPONSE) throw new Error('DescribeClientQuotas always answers');
    return response;
  };
  const rates = async (request: DescribeClientQuotasRequest) => ((await describe(request)).entries ?? []).map((e) => e.values[0]!.value);
  t.same(await rates({ components: [], strict: false }), [4, 3, 1, 2], 'every entity');
  t.same(await rates({ components: [{ entityType: 'user', matchType: 0, match: 'alice' }], strict: false }), [1, 2], 'user alice, with or without a client id');
  t.same(await rates({ components: [{ entityType: 'user', matchType: 0, match: 'alice' }], strict: true }), [1], 'strict: only entities of that shape');
  t.same(await rates({ components: [{ entityType: 'user', matchType: 1, match: null }], strict: false }), [3], 'the default user');
  t.same(await rates({ components: [{ entityType: 'client-id', matchType: 2, match: null }], strict: false }), [4, 2], 'any client id');
  const described = await describe({ components: [{ entityType: 'user', matchType: 1, match: null }], strict: false });
  t.same(described.entries![0]!.entity, [{ entityType: 'user', entityName: null }], 'the default is a null name on the wire');
  const bad = await describe({ components: [{ entityType: 'user', matchType: 0, match: null }], strict: false });
  t.same([bad.errorCode, bad.entries], [Errors.INVALID_REQUEST.code, null], 'an exact match without a name is refused');
});
