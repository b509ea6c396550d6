/**
 * Which address a client is told for a broker (Kafka's rule): the endpoint
 * of the listener the client itself connected through, so a client on the
 * SASL_SSL listener is never sent to a PLAINTEXT port. This node knows its
 * own listeners as bound; another broker's come from its registration
 * (every listener since metadata v6). A broker without that listener is
 * left out of the answer, as Kafka leaves it out.
 */
import type { RegisteredListener } from '../metadata/changes.js';
import type { BrokerRegistration } from '../metadata/image.js';
import type { ListenerSpec } from './listeners.js';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** This node's advertised (inter-broker) endpoint, and every listener's once bound (by name); filled in as the listeners bind. */
export interface LocalEndpoints {
  host: string;
  port: number;
  listeners?: ReadonlyMap<string, Endpoint>;
}

/** `listener` '': the request came from no connection (session.ts internalSession): the registered, inter-broker endpoint. */
export function localEndpointFor(local: LocalEndpoints, listener: string): Endpoint | null {
  if (listener === '' || local.listeners === undefined) return local;
  return local.listeners.get(listener) ?? null;
}

export function registeredEndpointFor(registration: BrokerRegistration, listener: string): Endpoint | null {
  if (listener === '' || registration.listeners === undefined || registration.listeners.length === 0) return registration;
  return registration.listeners.find((l) => l.name === listener) ?? null;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** The host a listener is advertised at: advertised.host when set, else the listener's own host (127.0.0.1 for a wildcard). */
export function advertisedHostOf(advertisedHostSetting: string, listenerHost: string): string {
  if (advertisedHostSetting !== '') return advertisedHostSetting;
  return WILDCARDS.has(listenerHost) ? '127.0.0.1' : listenerHost;
}

/** Every bound listener's advertised endpoint, by name. */
export function listenerEndpoints(advertisedHostSetting: string, bound: readonly { name: string; host: string; port: number }[]): Map<string, Endpoint> {
  return new Map(bound.map((l) => [l.name, { host: advertisedHostOf(advertisedHostSetting, l.host), port: l.port }]));
}

/**
 * What this broker registers (BrokerRegistration v1): every configured
 * listener with its security protocol and advertised endpoint, bound or
 * (a fixed port, when the broker registers before it listens) as
 * configured. Undefined while a listener's port is still to be picked (port
 * 0, not bound yet): the registration then names host/port only, and the
 * next one (every start) names them all.
 */
export function listenersToRegister(specs: readonly ListenerSpec[], local: LocalEndpoints, advertisedHostSetting: string): RegisteredListener[] | undefined {
  const out: RegisteredListener[] = [];
  for (const spec of specs) {
    const bound = local.listeners?.get(spec.name);
    const at = bound ?? (spec.port !== 0 ? { host: advertisedHostOf(advertisedHostSetting, spec.host), port: spec.port } : null);
    if (at === null) return undefined;
    out.push({ name: spec.name, securityProtocol: spec.securityProtocol, host: at.host, port: at.port });
  }
  return out.length === 0 ? undefined : out;
}
