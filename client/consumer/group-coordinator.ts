/**
 * The way to a group's coordinator: FindCoordinator on any broker, then the
 * coordinator's own connection, remembered until it says it is not the
 * coordinator any more (the group's `__consumer_offsets` partition moved) or
 * stops answering; then it is looked up again. Every group request of a
 * consumer goes through here, so heartbeats, commits and offset fetches all
 * follow a coordinator failover the same way.
 */
import { errorNameOf, type ErrorName } from '../../protocol/errors.js';
import { COORDINATOR_KEY_GROUP, type OutgoingRequestBodies, type ResponseBodies } from '../../protocol/messages.js';
import type { ApiName } from '../../protocol/api-keys.js';
import type { Connection } from '../connection.js';
import { RunnelError } from '../errors.js';
import type { Cluster } from '../metadata.js';

/** Errors that mean "ask FindCoordinator again" (the group moved, or its coordinator is gone). */
const MOVED: ReadonlySet<ErrorName> = new Set(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE']);

export function coordinatorMoved(name: string): boolean {
  return MOVED.has(name as ErrorName);
}

export class GroupCoordinator {
  readonly #cluster: Cluster;
  readonly groupId: string;
  #nodeId: number | null = null;
  #finding: Promise<number> | null = null;

  constructor(cluster: Cluster, groupId: string) {
    this.#cluster = cluster;
    this.groupId = groupId;
  }

  /** Forgets the coordinator: the next request looks it up again. */
  forget(): void {
    this.#nodeId = null;
  }

  /**
   * One request to the coordinator (no retries: the callers decide, since a
   * heartbeat and a commit retry differently). A network failure forgets the
   * coordinator, as does an answer whose error code says it moved (the
   * caller reads the error from the body and calls `forget` for those).
   */
  async request<A extends ApiName>(api: A, body: OutgoingRequestBodies[A], timeoutMs?: number): Promise<ResponseBodies[A]> {
    const conn = await this.#connection();
    try {
      return await conn.request(api, body, timeoutMs);
    } catch (err) {
      this.forget();
      throw err;
    }
  }

  async #connection(): Promise<Connection> {
    const nodeId = this.#nodeId ?? (await (this.#finding ??= this.#find().finally(() => (this.#finding = null))));
    try {
      return this.#cluster.broker(nodeId);
    } catch {
      // A broker the metadata has not named yet (the cluster grew): learn it, then connect.
      await this.#cluster.fetchMetadata([]);
      return this.#cluster.broker(nodeId);
    }
  }

  async #find(): Promise<number> {
    const res = await this.#cluster.anyConnection().request('FindCoordinator', { keyType: COORDINATOR_KEY_GROUP, keys: [this.groupId] });
    const c = res.coordinators.find((x) => x.key === this.groupId) ?? res.coordinators[0];
    if (c === undefined) throw new RunnelError('COORDINATOR_NOT_AVAILABLE', `FindCoordinator named no coordinator for group "${this.groupId}"; retrying.`);
    if (errorNameOf(c.errorCode) !== 'NONE') throw RunnelError.fromCode(c.errorCode, `Finding the coordinator of group "${this.groupId}"`, c.errorMessage);
    this.#nodeId = c.nodeId;
    return c.nodeId;
  }
}
