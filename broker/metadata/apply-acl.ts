/**
 * How ACL changes turn into the image's bindings (image.ts's
 * `applyChange`), keyed by the binding's identity (acl.ts `bindingKey`).
 * The controller checks bindings before it commits them and commits a
 * creation only for a binding not there yet, a deletion only for one that
 * is, so a change that breaks these rules is a broken invariant.
 */
import { AclError, bindingKey, validateBinding, type AclBinding } from '../acl/acl.js';
import { assert } from '../world/assert.js';
import type { AclChange } from './changes.js';

export type AclBindings = ReadonlyMap<string, AclBinding>;

/** The binding a change names. */
export function bindingOfChange(change: AclChange): AclBinding {
  return {
    resource: { type: change.resourceType, name: change.resourceName, pattern: change.patternType },
    principal: change.principal,
    host: change.host,
    operation: change.operation,
    permission: change.permission,
  };
}

/** The change that adds (or removes) `binding`. */
export function changeOfBinding(kind: AclChange['kind'], binding: AclBinding): AclChange {
  const { resource, principal, host, operation, permission } = binding;
  return { kind, resourceType: resource.type, resourceName: resource.name, patternType: resource.pattern, principal, host, operation, permission };
}

export function aclsChanged(acls: AclBindings, change: AclChange): AclBindings {
  const binding = bindingOfChange(change);
  const key = bindingKey(binding);
  const next = new Map(acls);
  if (change.kind === 'aclCreated') {
    let invalid: string | null = null;
    try {
      validateBinding(binding);
    } catch (error) {
      if (!(error instanceof AclError)) throw error;
      invalid = error.message;
    }
    assert(invalid === null, 'a created ACL binding is valid', { key, invalid });
    assert(!acls.has(key), 'a created ACL binding is new', { key });
    next.set(key, binding);
  } else {
    assert(acls.has(key), 'a deleted ACL binding exists', { key });
    next.delete(key);
  }
  return next;
}
