/**
 * A broker's access control: the Authorizer (authorizer.ts) fed from the
 * metadata image this node serves, and the one question handlers ask of it:
 * may the sender of this request do this operation on this resource?
 *
 * - `authorizer.enabled` off: yes, always (as before ACLs existed).
 * - A request the broker runs for itself (`session.internal`: a forwarded
 *   admin request the controller answers) was authorized where it came in.
 * - Otherwise the authorizer decides for the session's principal and the
 *   client's host.
 *
 * The bindings are the image's (`image.acls`, replicated with the metadata
 * log): each question first brings the authorizer in step when the image's
 * binding map is a new one (it is replaced on every ACL change, so an
 * identity check suffices), adding and removing the difference, so its
 * index and cache survive the changes that do not touch ACLs.
 */
import { ProtocolError, type ErrorName } from '../../protocol/errors.js';
import type { BrokerConfig } from '../config.js';
import { silentLogger, type Logger } from '../log.js';
import type { AclBindings } from '../metadata/apply-acl.js';
import { EMPTY_IMAGE, type MetadataImage } from '../metadata/image.js';
import type { ConnectionSession } from '../security/session.js';
import { bindingKey, CLUSTER_RESOURCE, operationCovers, type AuthorizationRequest, type ResourceType } from './acl.js';
import { Authorizer, type Decision } from './authorizer.js';

/** What a check needs of the request: who sent it, and from where. */
export interface Requester {
  readonly session: ConnectionSession;
  readonly clientHost?: string;
}

export type RequestOperation = AuthorizationRequest['operation'];

const EMPTY: AclBindings = new Map();

const AUTHORIZATION_FAILED = { topic: 'TOPIC_AUTHORIZATION_FAILED', group: 'GROUP_AUTHORIZATION_FAILED', cluster: 'CLUSTER_AUTHORIZATION_FAILED' } as const satisfies Record<ResourceType, ErrorName>;

export class AccessControl {
  readonly enabled: boolean;
  readonly #authorizer: Authorizer;
  readonly #image: () => MetadataImage;
  readonly #logger: Logger;
  readonly #superUsers: ReadonlySet<string>;
  #seen: AclBindings = EMPTY;

  constructor(opts: { config: Pick<BrokerConfig, 'authorizer'>; image: () => MetadataImage; logger: Logger }) {
    const { enabled, superUsers, allowEveryoneIfNoAclFound } = opts.config.authorizer;
    this.enabled = enabled;
    this.#superUsers = new Set(superUsers);
    this.#authorizer = new Authorizer({ superUsers, allowEveryoneIfNoAclFound });
    this.#image = opts.image;
    this.#logger = opts.logger;
  }

  /** Everything allowed: for nodes and tests without authorization. */
  static open(): AccessControl {
    return new AccessControl({ config: { authorizer: { enabled: false, superUsers: [], allowEveryoneIfNoAclFound: false } }, image: () => EMPTY_IMAGE, logger: silentLogger() });
  }

  /** Whether the requester may do `operation` on the resource; a refusal is logged (debug) with the reason. */
  allows(requester: Requester, operation: RequestOperation, type: ResourceType, name: string = CLUSTER_RESOURCE): boolean {
    if (!this.enabled || requester.session.internal) return true;
    const decision = this.decide(requester, operation, type, name);
    if (!decision.allowed) this.#logger.debug({ event: 'authorizationDenied', principal: requester.session.principal, host: requester.clientHost, operation, resourceType: type, resourceName: name }, decision.reason);
    return decision.allowed;
  }

  /**
   * Null when allowed; else the error to answer in the resource's place
   * (TOPIC_, GROUP_ or CLUSTER_AUTHORIZATION_FAILED), naming the principal,
   * the operation and the resource.
   */
  refusal(requester: Requester, operation: RequestOperation, type: ResourceType, name: string = CLUSTER_RESOURCE): ProtocolError | null {
    if (this.allows(requester, operation, type, name)) return null;
    const what = type === 'cluster' ? 'the cluster' : `${type} "${name}"`;
    return new ProtocolError(AUTHORIZATION_FAILED[type], `${requester.session.principal} is not authorized to ${operation} ${what}; an ACL must allow it (runnel acl add)`);
  }

  /** The authorizer's decision and its reason (authorization on or off alike). */
  decide(requester: Requester, operation: RequestOperation, type: ResourceType, name: string): Decision {
    this.#syncBindings();
    return this.#authorizer.authorize({ principal: requester.session.principal, host: requester.clientHost ?? '*', operation, resource: { type, name } });
  }

  /**
   * Whether some topic allows the requester `operation` (Kafka's
   * authorizeByResourceType, for InitProducerId's WRITE on any topic): an
   * allow binding for the principal on a topic pattern whose own name the
   * authorizer allows (so a deny of that name or a wider one is not passed by).
   */
  allowsOnSomeTopic(requester: Requester, operation: RequestOperation): boolean {
    if (!this.enabled || requester.session.internal || this.#superUsers.has(requester.session.principal)) return true;
    this.#syncBindings();
    const { principal } = requester.session;
    const host = requester.clientHost ?? '*';
    return this.#authorizer.bindings().some(
      (b) => b.resource.type === 'topic' && b.permission === 'allow' && (b.principal === principal || b.principal === 'User:*') && (b.host === host || b.host === '*') && operationCovers('allow', b.operation, operation) && this.decide(requester, operation, 'topic', b.resource.name).allowed,
    );
  }

  #syncBindings(): void {
    const acls = this.#image().acls ?? EMPTY;
    if (acls === this.#seen) return;
    for (const binding of this.#authorizer.bindings()) if (!acls.has(bindingKey(binding))) this.#authorizer.remove(binding);
    for (const binding of acls.values()) this.#authorizer.add(binding);
    this.#seen = acls;
  }
}

/** Why creating topic `name` (an auto-create, a CreateTopics) is refused: CREATE on the cluster or on the topic allows it. */
export function createRefusal(access: AccessControl, requester: Requester, name: string): ProtocolError | null {
  if (access.allows(requester, 'create', 'cluster')) return null;
  return access.refusal(requester, 'create', 'topic', name);
}

let openAccess: AccessControl | undefined;

/** A context's access control; without one (authorization not configured, as in tests), everything is allowed. */
export function accessOf(node: { readonly access?: AccessControl | undefined }): AccessControl {
  return node.access ?? (openAccess ??= AccessControl.open());
}
