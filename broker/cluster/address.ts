/** HOST:PORT as the command line gives a node's address (`--listen`, `--controller`); IPv6 hosts in brackets. */
export function splitAddress(address: string): [host: string, port: number] {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address.trim());
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port < 1 || port > 65_535) throw new Error(`"${address}" is not HOST:PORT (for example 127.0.0.1:9093)`);
  return [match[1] ?? match[2]!, port];
}
