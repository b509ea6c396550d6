/**
 * The controller's ACL decisions (acl-admin.ts) and their application to the
 * image (metadata/apply-acl.ts): per-creation and per-filter answers,
 * idempotent creation, a binding two filters match removed once.
 */
import t from 'tap';
import { createAclsDecision, deleteAclsDecision } from '../../../broker/acl/acl-admin.js';
import { creationOfBinding } from '../../../broker/acl/acl-wire.js';
import type { AclBinding } from '../../../broker/acl/acl.js';
import { applyChange, EMPTY_IMAGE, type MetadataImage } from '../../../broker/metadata/image.js';
import { Errors } from '../../../protocol/errors.js';

const read: AclBinding = { resource: { type: 'topic', name: 'orders.', pattern: 'prefixed' }, principal: 'User:alice', host: '*', operation: 'read', permission: 'allow' };
const denyWrite: AclBinding = { resource: { type: 'topic', name: 'orders.eu', pattern: 'literal' }, principal: 'User:alice', host: '*', operation: 'write', permission: 'deny' };
const alter: AclBinding = { resource: { type: 'cluster', name: 'runnel-cluster', pattern: 'literal' }, principal: 'User:ops', host: '*', operation: 'alter', permission: 'allow' };

function applied(image: MetadataImage, changes: Parameters<typeof applyChange>[1][]): MetadataImage {
  return changes.reduce((img, change) => applyChange(img, change, img.version + 1), image);
}

t.test('creations are answered one by one; a duplicate (stored or in the same request) adds nothing', async (t) => {
  const bad = { ...creationOfBinding(read), resourcePatternType: 1 };
  const first = createAclsDecision(EMPTY_IMAGE, { creations: [creationOfBinding(read), bad, creationOfBinding(read), creationOfBinding(alter)] });
  t.same(first.response.results.map((r) => r.errorCode), [0, Errors.INVALID_REQUEST.code, 0, 0]);
  t.match(first.response.results[1]!.errorMessage, /not any/);
  t.equal(first.changes.length, 2, 'the repeated binding is one change');
  const image = applied(EMPTY_IMAGE, first.changes);
  t.equal(image.acls?.size, 2);
  const again = createAclsDecision(image, { creations: [creationOfBinding(read)] });
  t.same(again.changes, [], 'adding a stored binding again changes nothing');
  t.equal(again.response.results[0]!.errorCode, 0);
});

t.test('a binding the validation refuses (the cluster under another name, an empty principal) is INVALID_REQUEST', async (t) => {
  const wrongCluster = { ...creationOfBinding(alter), resourceName: 'other' };
  const noUser = { ...creationOfBinding(read), principal: 'alice' };
  const decision = createAclsDecision(EMPTY_IMAGE, { creations: [wrongCluster, noUser] });
  t.same(decision.changes, []);
  t.match(decision.response.results, [{ errorCode: Errors.INVALID_REQUEST.code, errorMessage: /runnel-cluster/ }, { errorCode: Errors.INVALID_REQUEST.code, errorMessage: /User:<name>/ }]);
});

t.test('filters remove what they match, each reports it, each binding goes once', async (t) => {
  const image = applied(EMPTY_IMAGE, createAclsDecision(EMPTY_IMAGE, { creations: [read, denyWrite, alter].map(creationOfBinding) }).changes);
  const byAlice = { resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: 'User:alice', hostFilter: null, operation: 1, permissionType: 1 };
  const matchingEu = { resourceTypeFilter: 2, resourceNameFilter: 'orders.eu', patternTypeFilter: 2, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 };
  const badCode = { ...byAlice, operation: 99 };
  const decision = deleteAclsDecision(image, { filters: [byAlice, matchingEu, badCode] });
  t.equal(decision.response.filterResults[0]!.matchingAcls.length, 2);
  t.equal(decision.response.filterResults[1]!.matchingAcls.length, 2, 'match: the literal and the prefix that name orders.eu');
  t.equal(decision.response.filterResults[2]!.errorCode, Errors.INVALID_REQUEST.code);
  t.match(decision.response.filterResults[2]!.errorMessage, /unknown operation code 99/);
  t.equal(decision.changes.length, 2, 'removed once');
  const after = applied(image, decision.changes);
  t.same([...after.acls!.values()], [alter]);
});
