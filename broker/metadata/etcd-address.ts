/**
 * The `controller` setting's etcd form, `etcd://HOST:PORT[,HOST:PORT...]`
 * (`etcds://` for TLS), parsed without loading the etcd client (the
 * settings module reads it).
 */
export interface EtcdEndpoints {
  /** `http://host:port` or `https://host:port`, as the client takes them. */
  hosts: string[];
  tls: boolean;
}

/** Whether a `controller` setting names etcd rather than a controller's HOST:PORT. */
export function isEtcdAddress(raw: string): boolean {
  return /^etcds?:\/\//.test(raw.trim());
}

/** `etcd://h1:p1,h2:p2` -> the client's hosts; throws a sentence naming the problem. */
export function parseEtcdAddress(raw: string): EtcdEndpoints {
  const match = /^(etcds?):\/\/(.+)$/.exec(raw.trim());
  if (match === null) throw new Error(`"${raw}" is not etcd://HOST:PORT[,HOST:PORT...] (or etcds:// for TLS)`);
  const tls = match[1] === 'etcds';
  const hosts = match[2]!.split(',').map((part) => {
    const hostPort = /^(?:\[([^\]]+)\]|([^:/\[\]]+)):(\d{1,5})$/.exec(part.trim());
    const port = hostPort === null ? NaN : Number(hostPort[3]);
    if (hostPort === null || port < 1 || port > 65_535) throw new Error(`"${part}" in "${raw}" is not HOST:PORT (for example 127.0.0.1:2379)`);
    const host = hostPort[1] !== undefined ? `[${hostPort[1]}]` : hostPort[2]!;
    return `${tls ? 'https' : 'http'}://${host}:${port}`;
  });
  return { hosts, tls };
}
