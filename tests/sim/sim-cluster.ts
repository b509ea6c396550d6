/**
 * What the simulated group clients (group-members.ts, share-members.ts)
 * share: a client-side Cluster on the `client` host with short timeouts and
 * no retries of its own (the members retry as the protocol says), and the
 * lookup of a group's coordinator.
 */
import { Cluster } from '../../client/metadata.js';
import type { Connection } from '../../client/connection.js';
import type { Rng } from '../../broker/world/rng.js';
import { COORDINATOR_KEY_GROUP } from '../../protocol/messages.js';
import { errorNameOf } from '../../protocol/errors.js';
import type { Simulation } from './engine.js';
import { PORT } from './sim-node.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

export function simCluster(sim: Simulation, clientId: string, rng: Rng, requestTimeoutMs: number): Cluster {
  return new Cluster({
    bootstrap: [1, 2, 3].map((id) => ({ host: `b${id}`, port: PORT })),
    clientId,
    connectTimeoutMs: 1000,
    requestTimeoutMs,
    maxInFlightRequests: 16,
    maxFrameBytes: 1 << 20,
    retry: { retries: 0, initialBackoffMs: 50, maxBackoffMs: 500 },
    logger: silent,
    allowAutoTopicCreation: false,
    metadataMaxAgeMs: 2000,
    world: { transport: sim.network.node('client'), clock: sim.clock, rng: { next: () => rng.next() } },
  });
}

/** The connection to `groupId`'s coordinator (FindCoordinator, then the metadata if the broker is new to it), and its node id. */
export async function findCoordinator(cluster: Cluster, groupId: string): Promise<{ conn: Connection; nodeId: number }> {
  const res = await cluster.anyConnection().request('FindCoordinator', { keyType: COORDINATOR_KEY_GROUP, keys: [groupId] });
  const found = res.coordinators[0];
  if (found === undefined || found.errorCode !== 0) throw new Error(`no coordinator: ${found === undefined ? 'no answer' : errorNameOf(found.errorCode)}`);
  try {
    return { conn: cluster.broker(found.nodeId), nodeId: found.nodeId };
  } catch {
    await cluster.refresh();
    return { conn: cluster.broker(found.nodeId), nodeId: found.nodeId };
  }
}
