/**
 * Listeners in Kafka's shape: `listeners=PLAINTEXT://127.0.0.1:9092,SASL_SSL://0.0.0.0:9093`.
 * Each entry is NAME://HOST:PORT; the name is also the security protocol
 * when it is one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL, and any other
 * name (INTERNAL, EXTERNAL) takes its protocol from
 * `listener.security.protocol.map` (NAME:PROTOCOL,...), as Kafka's. An
 * empty `listeners` is the one PLAINTEXT listener at `host`:`port`.
 */
export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];

export interface ListenerSpec {
  /** Upper case, unique among the broker's listeners. */
  readonly name: string;
  readonly securityProtocol: SecurityProtocol;
  /** Address to bind ('' would be every interface; written as 0.0.0.0 or [::]). */
  readonly host: string;
  /** 0: the OS picks. */
  readonly port: number;
}

export function isSecurityProtocol(name: string): name is SecurityProtocol {
  return (SECURITY_PROTOCOLS as readonly string[]).includes(name);
}

export function usesTls(protocol: SecurityProtocol): boolean {
  return protocol === 'SSL' || protocol === 'SASL_SSL';
}

export function usesSasl(protocol: SecurityProtocol): boolean {
  return protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
}

/** `NAME:PROTOCOL,...` -> map; throws with what a valid value looks like. */
export function parseProtocolMap(raw: string): Map<string, SecurityProtocol> {
  const map = new Map<string, SecurityProtocol>();
  for (const part of raw.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const [name, protocol, extra] = part.split(':').map((p) => p.trim().toUpperCase());
    if (name === undefined || name === '' || protocol === undefined || extra !== undefined || !isSecurityProtocol(protocol)) {
      throw new Error(`"${part}" is not NAME:PROTOCOL with PROTOCOL one of ${SECURITY_PROTOCOLS.join(', ')}`);
    }
    map.set(name, protocol);
  }
  return map;
}

/** The entries of a NAME://HOST:PORT list (listeners, advertised.listeners): name upper-cased, host without IPv6 brackets ('' when empty). */
function parseEntries(raw: string): { part: string; name: string; host: string; port: number }[] {
  return raw.split(',').map((p) => p.trim()).filter((p) => p !== '').map((part) => {
    const match = /^([A-Za-z][A-Za-z0-9_]*):\/\/(\[[0-9a-fA-F:]+\]|[^:/\s]*):(\d{1,5})$/.exec(part);
    if (match === null) throw new Error(`"${part}" is not NAME://HOST:PORT (e.g. SASL_SSL://0.0.0.0:9093)`);
    const port = Number(match[3]);
    if (port > 65535) throw new Error(`"${part}": port ${port} is above 65535`);
    return { part, name: (match[1] as string).toUpperCase(), host: (match[2] as string).replace(/^\[(.*)\]$/, '$1'), port };
  });
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/** An address that means every interface: fine to bind, never one to tell a client. */
export function isWildcardHost(host: string): boolean {
  return WILDCARD_HOSTS.has(host);
}

/**
 * Parses `advertised.listeners` (NAME://HOST:PORT, comma-separated): what
 * clients are told for each named listener instead of its bound address,
 * for brokers behind NAT, in containers or behind a load balancer. A host
 * and a port clients can connect to: no wildcard, no port 0. Which names
 * exist is checked against `listeners` (config.ts).
 */
export function parseAdvertisedListeners(raw: string): Map<string, { host: string; port: number }> {
  const advertised = new Map<string, { host: string; port: number }>();
  for (const { part, name, host, port } of parseEntries(raw)) {
    if (host === '' || isWildcardHost(host)) throw new Error(`"${part}": an advertised host must be one clients can connect to, not ${host === '' ? 'empty' : `the wildcard ${host}`}`);
    if (port === 0) throw new Error(`"${part}": an advertised port must be the one clients connect to, not 0`);
    if (advertised.has(name)) throw new Error(`listener ${name} is advertised twice`);
    advertised.set(name, { host, port });
  }
  return advertised;
}

/** Parses `listeners`; throws an Error saying which entry is wrong and why (with `syntaxOnly`, a name no protocol is known for yet passes). */
export function parseListeners(raw: string, protocolMap: ReadonlyMap<string, SecurityProtocol> = new Map(), opts: { syntaxOnly?: boolean } = {}): ListenerSpec[] {
  const listeners: ListenerSpec[] = [];
  for (const { name, host, port } of parseEntries(raw)) {
    // syntaxOnly: the setting on its own, before listener.security.protocol.map is known (config.ts parses again with it).
    const protocol = protocolMap.get(name) ?? (isSecurityProtocol(name) ? name : opts.syntaxOnly === true ? 'PLAINTEXT' : undefined);
    if (protocol === undefined) throw new Error(`listener ${name} has no security protocol: name it after one (${SECURITY_PROTOCOLS.join(', ')}) or map it in listener.security.protocol.map`);
    if (listeners.some((l) => l.name === name)) throw new Error(`listener ${name} is named twice`);
    if (port !== 0 && listeners.some((l) => l.port === port)) throw new Error(`port ${port} is used by two listeners`);
    listeners.push({ name, securityProtocol: protocol, host: host === '' ? '0.0.0.0' : host, port });
  }
  if (listeners.length === 0) throw new Error('must name at least one listener');
  return listeners;
}
