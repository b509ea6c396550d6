/**
 * DescribeAcls (29), CreateAcls (30) and DeleteAcls (31). Describe reads
 * this node's metadata (every broker has the bindings: they replicate with
 * the rest of the metadata log); Create and Delete go to the controller (in
 * this process, or forwarded), which answers per binding or filter
 * (acl/acl-admin.ts). Who may call them is acl/api-authorization.ts's rule.
 */
import { Errors } from '../../protocol/errors.js';
import { AclError } from '../acl/acl.js';
import { describedResources, filterOfWire } from '../acl/acl-wire.js';
import { filterMatches } from '../acl/filter.js';
import type { AdminContext, ServingContext } from './broker-context.js';
import type { ApiHandler } from './handler.js';

export function describeAclsHandler(node: ServingContext): ApiHandler<'DescribeAcls'> {
  return {
    api: 'DescribeAcls',
    versions: { min: 0, max: 0 },
    handle: async (_ctx, request) => {
      try {
        const filter = filterOfWire(request);
        const bindings = [...(node.replicas.image.acls?.values() ?? [])].filter((b) => filterMatches(filter, b));
        return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, resources: describedResources(bindings) };
      } catch (error) {
        if (!(error instanceof AclError)) throw error;
        return { throttleTimeMs: 0, errorCode: Errors.INVALID_REQUEST.code, errorMessage: error.message, resources: [] };
      }
    },
  };
}

export function createAclsHandler(node: AdminContext): ApiHandler<'CreateAcls'> {
  return {
    api: 'CreateAcls',
    versions: { min: 0, max: 0 },
    handle: async (_ctx, request) => node.controller.createAcls(request),
  };
}

export function deleteAclsHandler(node: AdminContext): ApiHandler<'DeleteAcls'> {
  return {
    api: 'DeleteAcls',
    versions: { min: 0, max: 0 },
    handle: async (_ctx, request) => node.controller.deleteAcls(request),
  };
}
