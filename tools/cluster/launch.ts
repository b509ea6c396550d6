/**
 * How a cluster node is launched: the one place that knows the command line
 * of a node, so nothing else in tools/cluster/ changes when the roles do.
 */
import { fileURLToPath } from 'node:url';
import type { ClusterNode } from './cluster-state.js';

/** The built CLI (dist/tools/cli.js runs itself when it is the main module). */
const CLI_MAIN = fileURLToPath(new URL('../cli.js', import.meta.url));

/** The executable and arguments that run `node` as a process. */
export function nodeProcessCommand(node: ClusterNode, controllerAddress: string): { file: string; args: string[] } {
  if (node.role === 'etcd') return { file: 'etcd', args: etcdArguments(node) };
  return { file: process.execPath, args: [CLI_MAIN, ...nodeArguments(node, controllerAddress)] };
}

/** One etcd member on loopback, its data under the node's directory (`runnel cluster up --etcd`). */
export function etcdArguments(node: ClusterNode): string[] {
  const client = `http://${node.host}:${node.port}`;
  const peer = `http://${node.host}:${node.peerPort!}`;
  return ['--name', 'runnel', '--data-dir', `${node.dataDir}/data`, '--listen-client-urls', client, '--advertise-client-urls', client, '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `runnel=${peer}`, '--log-level', 'warn', '--logger', 'zap'];
}

/**
 * The `runnel` arguments of one node: the controller process, or a broker
 * that registers with it (`runnel controller` / `runnel broker`,
 * docs/OPERATIONS.md "Running a cluster").
 */
export function nodeArguments(node: ClusterNode, controllerAddress: string): string[] {
  const address = `${node.host}:${node.port}`;
  return node.role === 'controller'
    ? ['controller', '--node-id', String(node.id), '--listen', address, '--data', node.dataDir]
    : ['broker', '--node-id', String(node.id), '--listen', address, '--data', node.dataDir, '--controller', controllerAddress, ...(node.rack === null ? [] : ['--rack', node.rack])];
}
