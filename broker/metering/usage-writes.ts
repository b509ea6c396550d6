/**
 * Who may append to `__usage` with a Produce: another broker of the
 * cluster, writing its usage to the partition's leader (usage-writer.ts).
 * Clients may not (they would bill someone else): the request must come in
 * on the inter-broker listener, and when that listener uses SASL, from the
 * user brokers authenticate with (`inter.broker.sasl.username`). On a
 * listener without authentication nothing tells a broker from a client;
 * a cluster that bills keeps its inter-broker listener authenticated or
 * out of clients' reach.
 */
import type { BrokerConfig } from '../config.js';

export function isBrokerUsageWrite(config: Pick<BrokerConfig, 'interBrokerListenerName' | 'interBrokerSasl'>, session: { readonly listener: string; readonly usesSasl: boolean; readonly principal: string }): boolean {
  if (session.listener !== config.interBrokerListenerName) return false;
  if (!session.usesSasl) return true;
  return config.interBrokerSasl !== null && session.principal === `User:${config.interBrokerSasl.username}`;
}
