/**
 * `runnel controller` and `runnel broker`: the two roles of a cluster's
 * processes (docs/OPERATIONS.md "Running a cluster"). Their flags are turned
 * into the broker's own settings (`node.id`, `host`, `port`, `data.dir`,
 * `controller.address`, `broker.rack`), and any further `--set name=value`
 * or `--config FILE` goes to the broker's parser untouched, so every setting
 * of `runnel start` works here too. The broker code is imported only when
 * the command runs.
 */
import { Command, Option } from 'commander';
import { CliError } from '../cli-error.js';

interface RoleOptions {
  nodeId: string;
  listen?: string;
  data: string;
  controller?: string;
  rack?: string;
}

/** HOST:PORT of --listen; refused with usage advice otherwise. */
function splitListen(listen: string): [string, string] {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  if (match === null) throw new CliError(`--listen must be HOST:PORT (for example 127.0.0.1:9093), not "${listen}"`, 2);
  return [match[1] ?? match[2]!, match[3]!];
}

function roleCommand(role: 'controller' | 'broker'): Command {
  const command = new Command(role)
    .requiredOption('--node-id <id>', 'this node\'s id (the controller is usually 0, brokers 1..N)')
    .option('--listen <host:port>', 'address to listen on and to advertise (one PLAINTEXT listener); or give every listener with --set listeners=NAME://HOST:PORT,...')
    .requiredOption('--data <dir>', role === 'controller' ? 'directory of the cluster metadata log' : 'directory of this broker\'s partition logs')
    .allowUnknownOption()
    .allowExcessArguments();
  if (role === 'broker') {
    command
      .description('run a broker of a cluster: it registers with the controller, heartbeats, follows the metadata log and hosts the replicas placed on it (any `--set name=value` of `runnel start` applies)')
      .requiredOption('--controller <host:port>', 'the controller\'s address, or etcd://HOST:PORT[,HOST:PORT...]: the metadata lives in etcd and every broker is a controller candidate')
      .addOption(new Option('--rack <rack>', 'this broker\'s rack or zone (replicas are spread across racks)'));
  } else {
    command.description('run the controller of a cluster: it keeps the metadata log, places replicas, registers brokers, fences those that stop heartbeating and elects new leaders (any `--set name=value` of `runnel start` applies)');
  }
  return command.action(async (opts: RoleOptions, cmd: Command) => {
    const ownListeners = cmd.args.some((arg) => arg.startsWith('listeners='));
    if (opts.listen === undefined && !ownListeners) throw new CliError('give --listen HOST:PORT, or the listeners with --set listeners=NAME://HOST:PORT,...', 2);
    const address = opts.listen === undefined ? [] : (([host, port]) => ['--host', host, '--port', port])(splitListen(opts.listen));
    const argv = ['--set', `node.id=${opts.nodeId}`, ...address, '--data', opts.data];
    if (opts.controller !== undefined) argv.push('--set', `controller.address=${opts.controller}`);
    if (opts.rack !== undefined) argv.push('--set', `broker.rack=${opts.rack}`);
    const { runBrokerCli } = await import('../../broker/main.js');
    const exitCode = await runBrokerCli([...argv, ...cmd.args], process.env, role);
    if (exitCode !== 0) throw new CliError('', exitCode);
  });
}

export function controllerCommand(): Command {
  return roleCommand('controller');
}

export function brokerCommand(): Command {
  return roleCommand('broker');
}
