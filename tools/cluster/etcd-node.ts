/**
 * The etcd server of a local cluster on etcd (`runnel cluster up --etcd`):
 * whether the binary is there (Debian's `etcd-server`), and which broker it
 * names as the active controller (the oldest candidate key under the
 * default cluster prefix, as the brokers' election reads it).
 */
import { spawnSync } from 'node:child_process';
import { CliError } from '../cli-error.js';
import { addressOf, type ClusterNode } from './cluster-state.js';

/** The brokers' default `controller.etcd.prefix`. */
const PREFIX = '/runnel/default/';

export function requireEtcdBinary(): void {
  if (spawnSync('sh', ['-c', 'command -v etcd'], { stdio: 'ignore' }).status !== 0) {
    throw new CliError('--etcd needs the etcd server binary on PATH; install it (Debian, Ubuntu: apt-get install etcd-server)');
  }
}

/** The node id of the broker etcd names as controller, or null (none elected, or etcd not answering within a second). */
export async function electedController(etcd: ClusterNode): Promise<number | null> {
  // Loaded here, not at the top: etcd3 takes a quarter of a second to load, and every `runnel` command would pay it.
  const { Etcd3 } = await import('etcd3');
  const client = new Etcd3({ hosts: `http://${addressOf(etcd)}`, dialTimeout: 1000 });
  try {
    const response = await client.getAll().prefix(`${PREFIX}election/`).sort('Create', 'Ascend').limit(1).options({ deadline: new Date(Date.now() + 1000) }).exec();
    const first = response.kvs[0];
    return first === undefined ? null : (JSON.parse(first.value.toString()) as { nodeId: number }).nodeId;
  } catch {
    return null;
  } finally {
    client.close();
  }
}
