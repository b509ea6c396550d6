/**
 * The connection to etcd, made from the `controller` setting's
 * `etcd://HOST:PORT[,HOST:PORT...]` (or `etcds://` for TLS, with the CA and
 * an optional client certificate from files).
 *
 * The etcd3 client's own fault handling is turned off: its default circuit
 * breaker stops sending for 5 s after three failures, and its watch
 * reconnects after up to 30 s, which would keep a broker on stale metadata
 * long after etcd is back. The callers here retry on their own schedule, and
 * every unary call carries a deadline so a paused etcd (SIGSTOP, a network
 * that drops packets) fails a call instead of hanging it.
 *
 * etcd is outside the injected world (broker/world/): the gRPC client reads
 * the real network and the real clock, as the metadata store on etcd must.
 */
import { ExponentialBackoff, noop, type IBackoff } from 'cockatiel';
import { ClientRuntimeError, Etcd3, EtcdError, GRPCGenericError } from 'etcd3';
import { systemClock } from '../world/clock.js';
import type { EtcdEndpoints } from './etcd-address.js';

/** How long one etcd call may take before it fails (a paused etcd never answers). */
export const ETCD_CALL_DEADLINE_MS = 3000;

/** A client for `endpoints`; `tls` files are read by the caller (the world's file system) and passed as bytes. */
export function connectEtcd(endpoints: EtcdEndpoints, credentials?: { rootCertificate: Buffer; certChain?: Buffer; privateKey?: Buffer }): Etcd3 {
  return new Etcd3({
    hosts: endpoints.hosts,
    dialTimeout: ETCD_CALL_DEADLINE_MS,
    ...(credentials === undefined ? {} : { credentials }),
    // gRPC deadlines are wall-clock instants, on the real clock whatever the broker's world: etcd is a real server.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: systemClock.nowMs() + ETCD_CALL_DEADLINE_MS }),
    faultHandling: {
      host: () => noop,
      global: noop,
      // etcd3's types say IBackoff, its code calls the factory's next() (as its own default, an ExponentialBackoff, has it).
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }) as unknown as IBackoff<unknown>,
    },
  });
}

/** A sentence for an etcd failure that names etcd, so an operator knows which part is away. */
export function describeEtcdFailure(error: unknown, hosts: readonly string[]): string {
  return `the metadata store (etcd at ${hosts.join(',')}) did not answer: ${(error as Error)?.message ?? String(error)}`;
}

/** An error of the etcd client (etcd unavailable, a deadline passed, a refused call), not of Runnel's logic. */
export function isEtcdFailure(error: unknown): boolean {
  return error instanceof GRPCGenericError || error instanceof EtcdError || error instanceof ClientRuntimeError;
}
