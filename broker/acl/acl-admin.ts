/**
 * What the controller decides for CreateAcls and DeleteAcls, as pure
 * functions of the metadata image (as security/scram-admin.ts for SCRAM):
 * each creation or filter is answered on its own; the valid ones become
 * metadata changes committed together.
 *
 * - A creation of a binding that is there already (or earlier in the same
 *   request) succeeds without a change: adding an ACL is idempotent.
 * - A filter removes every binding it matches; a binding two filters match
 *   is reported by both and removed once.
 */
import { Errors } from '../../protocol/errors.js';
import type { CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse } from '../../protocol/messages.js';
import { changeOfBinding } from '../metadata/apply-acl.js';
import type { AclChange } from '../metadata/changes.js';
import type { MetadataImage } from '../metadata/image.js';
import { AclError, bindingKey } from './acl.js';
import { bindingOfCreation, filterOfWire, matchingAclOf } from './acl-wire.js';
import { filterMatches } from './filter.js';

interface Decision<R> {
  changes: AclChange[];
  response: R;
}

function invalid(error: unknown): { errorCode: number; errorMessage: string } {
  if (!(error instanceof AclError)) throw error;
  return { errorCode: Errors.INVALID_REQUEST.code, errorMessage: error.message };
}

export function createAclsDecision(image: MetadataImage, request: CreateAclsRequest): Decision<CreateAclsResponse> {
  const present = new Set(image.acls?.keys() ?? []);
  const changes: AclChange[] = [];
  const results = request.creations.map((creation) => {
    try {
      const binding = bindingOfCreation(creation);
      const key = bindingKey(binding);
      if (!present.has(key)) {
        present.add(key);
        changes.push(changeOfBinding('aclCreated', binding));
      }
      return { errorCode: 0, errorMessage: null };
    } catch (error) {
      return invalid(error);
    }
  });
  return { changes, response: { throttleTimeMs: 0, results } };
}

export function deleteAclsDecision(image: MetadataImage, request: DeleteAclsRequest): Decision<DeleteAclsResponse> {
  const bindings = [...(image.acls?.entries() ?? [])];
  const removed = new Set<string>();
  const changes: AclChange[] = [];
  const filterResults = request.filters.map((wire) => {
    try {
      const filter = filterOfWire(wire);
      const matching = bindings.filter(([, b]) => filterMatches(filter, b));
      for (const [key, binding] of matching) {
        if (removed.has(key)) continue;
        removed.add(key);
        changes.push(changeOfBinding('aclDeleted', binding));
      }
      return { errorCode: 0, errorMessage: null, matchingAcls: matching.map(([, b]) => matchingAclOf(b)) };
    } catch (error) {
      return { ...invalid(error), matchingAcls: [] };
    }
  });
  return { changes, response: { throttleTimeMs: 0, filterResults } };
}
