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
  return { file: process.execPath, args: [CLI_MAIN, ...nodeArguments(node, controllerAddress)] };
}

/**
 * INTERIM LAUNCH FUNCTION: the `runnel` arguments of one node.
 *
 * The controller and broker roles (`runnel controller ...`, `runnel broker
 * ...`, CLUSTER.md "Processes and roles") are not in broker/main.ts yet, so
 * today every node runs as the single-node broker of `runnel start`, on its
 * own address, data directory and node id; the nodes do not know of each
 * other. When the roles land, this body becomes (and nothing else changes):
 *
 *   node.role === 'controller'
 *     ? ['controller', '--node-id', String(node.id), '--listen', address, '--data', node.dataDir]
 *     : ['broker', '--node-id', String(node.id), '--listen', address, '--data', node.dataDir,
 *        '--controller', controllerAddress, ...(node.rack === null ? [] : ['--rack', node.rack])]
 *
 * `controllerAddress` and `node.rack` are unused until then.
 */
export function nodeArguments(node: ClusterNode, controllerAddress: string): string[] {
  void controllerAddress;
  return ['start', '--host', node.host, '--port', String(node.port), '--data', node.dataDir, '--set', `node.id=${node.id}`];
}
