/**
 * The broker's PEM files, read once at start-up through the injected
 * FileSystem: the listeners' certificate, key and CA (tls.*), and the TLS
 * options this broker connects to other brokers with (the same files: its
 * certificate is its client certificate for mutual TLS, the CA checks the
 * others'). A missing or unreadable file stops the start with its name.
 */
import type { BrokerConfig } from '../config.js';
import type { FileSystem } from '../world/file-system.js';
import type { ServerTls } from '../world/transport.js';
import type { ListenerToOpen } from '../net/server.js';
import type { ClientTlsOptions } from '../../client/transport-node.js';
import { usesTls } from './listeners.js';

export class SecurityFileError extends Error {
  override name = 'SecurityFileError';
}

async function readPem(fs: FileSystem, setting: string, file: string): Promise<Uint8Array> {
  try {
    const bytes = await fs.readFile(file);
    if (!Buffer.from(bytes).toString('latin1').includes('-----BEGIN ')) throw new Error('it holds no PEM block (-----BEGIN ...)');
    return bytes;
  } catch (error) {
    throw new SecurityFileError(`cannot use ${setting} ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** What TLS needs from the files, or null when no listener (and no inter-broker connection) uses TLS. */
export async function loadTls(config: BrokerConfig, fs: FileSystem): Promise<{ server: ServerTls; client: ClientTlsOptions } | null> {
  if (!config.listeners.some((l) => usesTls(l.securityProtocol))) return null;
  const cert = await readPem(fs, 'tls.cert.file', config.tls.certFile);
  const key = await readPem(fs, 'tls.key.file', config.tls.keyFile);
  const ca = config.tls.caFile === '' ? undefined : await readPem(fs, 'tls.ca.file', config.tls.caFile);
  return {
    server: { cert, key, clientAuth: config.tls.clientAuth, ...(ca === undefined ? {} : { ca }) },
    client: { cert, key, ...(ca === undefined ? {} : { ca }) },
  };
}

/** The config's listeners, each TLS one with the certificate loaded. */
export function listenersToOpen(config: BrokerConfig, tls: ServerTls | null): ListenerToOpen[] {
  return config.listeners.map((spec) => (usesTls(spec.securityProtocol) && tls !== null ? { spec, tls } : { spec }));
}
