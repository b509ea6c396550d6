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
import { isWildcardHost, type ListenerSpec } from './listeners.js';

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

/** What this broker tells clients about its listeners: advertised.listeners by name, else advertised.host (or the bound host) with the bound port. */
export interface Advertising {
  /** advertised.host ('' when not set). */
  readonly host: string;
  /** advertised.listeners: the endpoint told for each listener it names. */
  readonly listeners: ReadonlyMap<string, Endpoint>;
}

export const NOT_ADVERTISED: Advertising = { host: '', listeners: new Map() };

/** The host a listener is advertised at when advertised.listeners does not name it: advertised.host when set, else the listener's own host (127.0.0.1 for a wildcard). */
export function advertisedHostOf(advertisedHostSetting: string, listenerHost: string): string {
  if (advertisedHostSetting !== '') return advertisedHostSetting;
  return isWildcardHost(listenerHost) ? '127.0.0.1' : listenerHost;
}

/** The endpoint a listener is advertised at, bound at `host`:`port`. */
export function advertisedEndpointOf(advertising: Advertising, name: string, host: string, port: number): Endpoint {
  return advertising.listeners.get(name) ?? { host: advertisedHostOf(advertising.host, host), port };
}

/** Every bound listener's advertised endpoint, by name. */
export function listenerEndpoints(advertising: Advertising, bound: readonly { name: string; host: string; port: number }[]): Map<string, Endpoint> {
  return new Map(bound.map((l) => [l.name, advertisedEndpointOf(advertising, l.name, l.host, l.port)]));
}

/**
 * What this broker registers (BrokerRegistration v1): every configured
 * listener with its security protocol and advertised endpoint, bound or
 * (a fixed or advertised port, when the broker registers before it
 * listens) as configured. Undefined while a listener's port is still to be
 * picked (port 0, not bound yet, not advertised): the registration then
 * names host/port only, and the next one (every start) names them all.
 */
export function listenersToRegister(specs: readonly ListenerSpec[], local: LocalEndpoints, advertising: Advertising): RegisteredListener[] | undefined {
  const out: RegisteredListener[] = [];
  for (const spec of specs) {
    const bound = local.listeners?.get(spec.name);
    const known = spec.port !== 0 || advertising.listeners.has(spec.name);
    const at = bound ?? (known ? advertisedEndpointOf(advertising, spec.name, spec.host, spec.port) : null);
    if (at === null) return undefined;
    out.push({ name: spec.name, securityProtocol: spec.securityProtocol, host: at.host, port: at.port });
  }
  return out.length === 0 ? undefined : out;
}

/** This node's own endpoint before it listens: the inter-broker listener's advertised one (port 0 until bound, unless advertised or fixed). */
export function localEndpoints(advertising: Advertising, listeners: readonly ListenerSpec[], interBrokerListenerName: string): LocalEndpoints {
  const interBroker = listeners.find((l) => l.name === interBrokerListenerName) ?? (listeners[0] as ListenerSpec);
  const own = advertisedEndpointOf(advertising, interBroker.name, interBroker.host, interBroker.port);
  return { host: own.host, port: own.port };
}

/** Once the listeners are bound: each one's advertised endpoint, and the inter-broker listener's as this node's own. */
export function noteBound(local: LocalEndpoints, advertising: Advertising, bound: readonly { name: string; host: string; port: number }[], interBrokerListenerName: string): void {
  const listeners = listenerEndpoints(advertising, bound);
  local.listeners = listeners;
  const own = listeners.get(interBrokerListenerName);
  if (own !== undefined) {
    local.host = own.host;
    local.port = own.port;
  }
}
