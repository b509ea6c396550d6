/**
 * The broker's security, assembled at start-up from its settings: the
 * listeners to open (TLS ones with their certificate loaded), and how its
 * own connections to other brokers (follower fetches, controller requests,
 * share-group reads) are made over the inter-broker listener: TLS with the
 * broker's certificate and CA, and SCRAM as inter.broker.sasl.username,
 * when that listener uses them.
 */
import type { ClientTransport } from '../../client/transport.js';
import { tlsClientTransport } from '../../client/transport-node.js';
import { secureRandomBytes } from '../../client/security/random.js';
import { saslTransport } from '../../client/security/sasl-transport.js';
import type { BrokerConfig } from '../config.js';
import type { ListenerToOpen } from '../net/server.js';
import type { FileSystem } from '../world/file-system.js';
import { usesSasl, usesTls } from './listeners.js';
import { listenersToOpen, loadTls, SecurityFileError } from './tls-files.js';

export interface BrokerSecurity {
  readonly listeners: ListenerToOpen[];
  /** The transport this broker reaches other brokers with, given the plain one. */
  interBroker(transport: ClientTransport): ClientTransport;
}

export async function brokerSecurity(config: BrokerConfig, fs: FileSystem): Promise<BrokerSecurity> {
  const tls = await loadTls(config, fs);
  const interBroker = config.listeners.find((l) => l.name === config.interBrokerListenerName)!;
  const sasl = config.interBrokerSasl;
  const password = sasl === null ? null : await readPassword(fs, sasl.passwordFile);
  return {
    listeners: listenersToOpen(config, tls?.server ?? null),
    interBroker(transport) {
      // TLS replaces the plain transport (it opens its own sockets); a simulated network never has a TLS listener (config refuses it there).
      const secured = usesTls(interBroker.securityProtocol) && tls !== null ? tlsClientTransport(tls.client) : transport;
      return usesSasl(interBroker.securityProtocol) && sasl !== null && password !== null
        ? saslTransport(secured, { mechanism: sasl.mechanism, username: sasl.username, password }, secureRandomBytes)
        : secured;
    },
  };
}

/** The first line of the password file (a trailing newline is not part of the password). */
async function readPassword(fs: FileSystem, file: string): Promise<string> {
  try {
    const text = Buffer.from(await fs.readFile(file)).toString('utf8');
    const password = text.split(/\r?\n/)[0] ?? '';
    if (password === '') throw new Error('its first line is empty');
    return password;
  } catch (error) {
    throw new SecurityFileError(`cannot use inter.broker.sasl.password.file ${file}: ${(error as Error).message}`, { cause: error });
  }
}
