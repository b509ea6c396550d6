/**
 * The parts of a broker whose controller is elected in etcd
 * (`--controller etcd://...`), made together: the etcd client, the metadata
 * store on etcd (followed by watch; written only by this node's controller
 * while it leads), the candidacy, the controller seat, and the controller
 * channel that finds the leader. startBroker (main.ts) wires them in, and
 * starts the candidacy once this node's address is known.
 *
 * Shutdown runs through `cleanups` in reverse: the candidacy first (it
 * revokes its lease, so another broker takes over at once instead of a
 * lease later, and the seat stops), then the channel, the store, the client.
 */
import type { RequestBodies, ResponseBodies } from '../../protocol/messages.js';
import type { BrokerConfig } from '../config.js';
import type { Logger } from '../log.js';
import { parseEtcdAddress } from '../metadata/etcd-address.js';
import { connectEtcd } from '../metadata/etcd-client.js';
import { EtcdMetadataStore } from '../metadata/etcd-store.js';
import type { Cleanups } from '../running-node.js';
import type { Clock } from '../world/clock.js';
import type { FileSystem } from '../world/file-system.js';
import type { Rng } from '../world/rng.js';
import type { ClientTransport } from '../../client/transport.js';
import { adminAnswerer } from './answer-admin.js';
import type { ForwardedApi } from './controller-channel.js';
import { ControllerSeat } from './controller-seat.js';
import { EtcdCandidacy } from './etcd-candidacy.js';
import { EtcdControllerChannel } from './etcd-controller-channel.js';

export interface EtcdController {
  store: EtcdMetadataStore;
  seat: ControllerSeat;
  candidacy: EtcdCandidacy;
  channel: EtcdControllerChannel;
}

export async function openEtcdController(opts: {
  config: BrokerConfig;
  fs: FileSystem;
  clock: Clock;
  rng: Rng;
  /** How this node reaches the active controller (the inter-broker listener's TLS and SASL included). */
  transport: ClientTransport;
  logger: Logger;
  cleanups: Cleanups;
  /** This node's advertised address (the port is filled in once bound). */
  endpoint: { host: string; port: number };
}): Promise<EtcdController> {
  const { config, fs, clock, rng, transport, cleanups } = opts;
  const logger = opts.logger.child({ component: 'etcd' });
  const endpoints = parseEtcdAddress(config.controllerAddress);
  const read = async (file: string): Promise<Buffer | undefined> => (file === '' ? undefined : Buffer.from(await fs.readFile(file)));
  const credentials = endpoints.tls
    ? { rootCertificate: (await read(config.etcd.caFile)) ?? Buffer.alloc(0), ...(config.etcd.certFile === '' ? {} : { certChain: (await read(config.etcd.certFile))!, privateKey: (await read(config.etcd.keyFile))! }) }
    : undefined;
  const client = connectEtcd(endpoints, credentials);
  cleanups.push(async () => client.close());
  const where = `etcd at ${endpoints.hosts.join(',')}`;
  let store: EtcdMetadataStore;
  try {
    store = await EtcdMetadataStore.open({ client, prefix: config.etcd.prefix, clock, requireFence: true, onWatchError: (error) => logger.warn({ event: 'metadataWatchFailed', err: error }, `the metadata watch on ${where} failed: ${error.message}; reading again`) });
  } catch (error) {
    throw new Error(`cannot read the cluster metadata from ${where} under ${config.etcd.prefix}: ${(error as Error).message}`, { cause: error });
  }
  cleanups.push(() => store.close());

  // The seat runs the Controller while the candidacy says this node leads.
  let seat: ControllerSeat | undefined;
  const candidacy = new EtcdCandidacy({
    client,
    prefix: config.etcd.prefix,
    me: () => ({ nodeId: config.nodeId, host: opts.endpoint.host, port: opts.endpoint.port }),
    leaseMs: config.controllerLeaseMs,
    clock,
    rng,
    logger,
    onElected: (fence) => seat!.activate(fence),
    onDeposed: (why) => seat!.deactivate(why),
  });
  seat = new ControllerSeat({ store, config, rng, clock, logger, etcdHosts: endpoints.hosts, election: candidacy });
  const answerAdmin: <K extends ForwardedApi>(api: K, request: RequestBodies[K]) => Promise<ResponseBodies[K]> = adminAnswerer({ config, controller: seat, logger });
  const channel = new EtcdControllerChannel({
    nodeId: config.nodeId,
    election: candidacy,
    seat,
    answerAdmin,
    store,
    world: { transport, clock, rng },
    logger: logger.child({ component: 'controllerChannel' }),
    adminWaitMs: 2 * config.controllerLeaseMs,
    whyNoController: () => `no controller is elected: the metadata store (${where}) cannot be reached by the controller candidates, or an election is under way (controller.lease.ms ${config.controllerLeaseMs}); metadata changes wait for one, while producing to and consuming from existing partitions go on`,
  });
  cleanups.push(() => channel.close());
  cleanups.push(() => candidacy.close());
  return { store, seat, candidacy, channel };
}
