/**
 * Where the request path reports usage (broker/metering/): the produce,
 * fetch and share-fetch handlers report the bytes and records they moved
 * for a principal (`UsageTap`), and the connection's request observer
 * reports each request (`observe`). Both land in the per-minute UsageMeter
 * on the injected clock, a few Map lookups and additions each.
 *
 * Not a client's usage, so not counted: follower fetches (replication) and
 * the brokers' own requests to the controller (registration, heartbeats,
 * ISR changes, producer id blocks, metadata changes), the SASL exchange
 * (SaslHandshake, SaslAuthenticate), and the metering's
 * own traffic: requests on `__usage` (brokers writing it, `runnel usage`
 * reading it). The share-group
 * coordinator's reads of partitions led by another broker are ordinary
 * Fetches there, counted under the principal the brokers authenticate with
 * (User:ANONYMOUS on a listener without authentication) like any client's.
 */
import { ApiKey } from '../../protocol/api-keys.js';
import type { RequestEvent, RequestObserver } from '../metrics/request-observer.js';
import { firstRequestTopic } from '../metrics/request-topics.js';
import type { Clock } from '../world/clock.js';
import type { UsageMeter } from './usage-meter.js';
import { USAGE_TOPIC } from './usage-writer.js';

/** What the handlers report: records and record-batch bytes moved for `principal`. */
export interface UsageTap {
  /** Appended to `topic` by this broker as leader (a producer's retried duplicate is not). */
  produced(principal: string, topic: string, records: number, bytes: number): void;
  /** Sent to a consumer (Fetch, ShareFetch); never to a follower. */
  consumed(principal: string, topic: string, records: number, bytes: number): void;
}

/** Not counted as requests: the brokers' own, and the SASL exchange (connection set-up, most of it before there is a principal to count it under). */
const UNCOUNTED_APIS: ReadonlySet<number> = new Set([ApiKey.BrokerRegistration, ApiKey.BrokerHeartbeat, ApiKey.AlterPartition, ApiKey.AllocateProducerIds, ApiKey.MetadataChanges, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);

export class UsageCounter implements UsageTap, RequestObserver {
  readonly #meter: UsageMeter;
  readonly #clock: Clock;

  constructor(meter: UsageMeter, clock: Clock) {
    this.#meter = meter;
    this.#clock = clock;
  }

  produced(principal: string, topic: string, records: number, bytes: number): void {
    if (topic === USAGE_TOPIC) return;
    this.#meter.moved(principal, this.#clock.nowMs(), topic, bytes, records, 0, 0);
  }

  consumed(principal: string, topic: string, records: number, bytes: number): void {
    if (topic === USAGE_TOPIC) return;
    this.#meter.moved(principal, this.#clock.nowMs(), topic, 0, 0, bytes, records);
  }

  observe(event: RequestEvent): void {
    if (UNCOUNTED_APIS.has(event.apiKey)) return;
    if (event.apiKey === ApiKey.Fetch && isFollowerFetch(event.request)) return;
    const topic = firstRequestTopic(event.request);
    if (topic === USAGE_TOPIC) return;
    this.#meter.request(event.principal, this.#clock.nowMs(), topic);
  }
}

function isFollowerFetch(body: unknown): boolean {
  return typeof body === 'object' && body !== null && ((body as { replicaId?: unknown }).replicaId as number) >= 0;
}
