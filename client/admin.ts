/**
 * Topic administration over CreateTopics, DeleteTopics, Metadata,
 * DescribeConfigs, AlterConfigs and ListOffsets. Every call retries what is
 * retriable (a broker restarting, a leader moving) within the client's retry
 * budget and turns a per-topic or per-partition error into a RunnelError that
 * names the topic.
 */
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type ListOffsetsResponse } from '../protocol/messages.js';
import { RunnelError, clientClosed, invalidArgument } from './errors.js';
import type { Cluster } from './metadata.js';
import { addTo } from './group-by.js';
import type { Admin, DescribedConfig, TopicDescription } from './types.js';

export class RunnelAdmin implements Admin {
  readonly #cluster: Cluster;
  readonly #timeoutMs: number;
  readonly #onClosed: () => void;

  constructor(cluster: Cluster, timeoutMs: number, onClosed: () => void) {
    this.#cluster = cluster;
    this.#timeoutMs = timeoutMs;
    this.#onClosed = onClosed;
  }

  #retrying<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    if (this.#cluster.closed) return Promise.reject(clientClosed('The admin client'));
    return this.#cluster.withRetries(what, attempt);
  }

  async createTopic(t: { name: string; partitions?: number; replicationFactor?: number; config?: Record<string, string> }): Promise<void> {
    if (t === null || typeof t !== 'object' || typeof t.name !== 'string') throw invalidArgument('createTopic takes { name, partitions?, replicationFactor?, config? }');
    const configs = Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value: String(value) }));
    const topic = { name: t.name, partitions: t.partitions ?? 1, replicationFactor: t.replicationFactor ?? 1, configs };
    await this.#retrying(`creating topic "${t.name}"`, async () => {
      const res = await this.#cluster.anyConnection().request('CreateTopics', { topics: [topic], timeoutMs: this.#timeoutMs, validateOnly: false });
      const r = res.topics.find((x) => x.name === t.name);
      if (r === undefined) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The broker's CreateTopics answer left out "${t.name}".`);
      if (r.errorCode !== 0) throw RunnelError.fromCode(r.errorCode, `Creating topic "${t.name}"`, r.errorMessage);
    });
    this.#cluster.invalidate(t.name);
  }

  async deleteTopic(name: string): Promise<void> {
    await this.#retrying(`deleting topic "${name}"`, async () => {
      const res = await this.#cluster.anyConnection().request('DeleteTopics', { topics: [name], timeoutMs: this.#timeoutMs });
      const r = res.topics.find((x) => x.name === name);
      if (r === undefined) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The broker's DeleteTopics answer left out "${name}".`);
      if (r.errorCode !== 0) throw RunnelError.fromCode(r.errorCode, `Deleting topic "${name}"`, r.errorMessage);
    });
    this.#cluster.invalidate(name);
  }

  async listTopics(): Promise<string[]> {
    const res = await this.#retrying('listing topics', () => this.#cluster.fetchMetadata(null));
    return res.topics.map((t) => t.name).sort();
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    const [meta, configs] = await Promise.all([
      this.#retrying(`describing topic "${name}"`, async () => {
        const res = await this.#cluster.fetchMetadata([name]);
        const t = res.topics.find((x) => x.name === name);
        if (t === undefined) throw new RunnelError('UNKNOWN_TOPIC_OR_PARTITION', `Topic "${name}" does not exist.`, { retriable: false });
        if (t.errorCode === 3) throw new RunnelError('UNKNOWN_TOPIC_OR_PARTITION', `Topic "${name}" does not exist.`, { retriable: false });
        if (t.errorCode !== 0) throw RunnelError.fromCode(t.errorCode, `Describing topic "${name}"`);
        return t;
      }),
      this.describeConfigs(name),
    ]);
    const overrides: Record<string, string> = {};
    for (const c of configs) if (c.source === 'topic' && c.value !== null) overrides[c.name] = c.value;
    return {
      name,
      partitions: [...meta.partitions]
        .sort((a, b) => a.partition - b.partition)
        .map((p) => ({ partition: p.partition, leader: p.leader, replicas: p.replicas, isr: p.isr })),
      configs: overrides,
    };
  }

  async describeConfigs(topic: string): Promise<DescribedConfig[]> {
    return this.#retrying(`describing the configuration of "${topic}"`, async () => {
      const res = await this.#cluster.anyConnection().request('DescribeConfigs', { resources: [{ type: 'topic', name: topic, configNames: null }] });
      const r = res.results.find((x) => x.name === topic);
      if (r === undefined) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The broker's DescribeConfigs answer left out "${topic}".`);
      if (r.errorCode !== 0) throw RunnelError.fromCode(r.errorCode, `Describing the configuration of "${topic}"`, r.errorMessage);
      return r.configs.map((c) => ({ name: c.name, value: c.value, source: c.source, readOnly: c.readOnly }));
    });
  }

  async alterConfigs(topic: string, config: Record<string, string | null>): Promise<void> {
    if (config === null || typeof config !== 'object') throw invalidArgument('alterConfigs takes (topic, { name: value | null })');
    const configs = Object.entries(config).map(([name, value]) => ({ name, value: value === null ? null : String(value) }));
    await this.#retrying(`altering the configuration of "${topic}"`, async () => {
      const res = await this.#cluster.anyConnection().request('AlterConfigs', { resources: [{ type: 'topic', name: topic, configs }], validateOnly: false });
      const r = res.results.find((x) => x.name === topic);
      if (r === undefined) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The broker's AlterConfigs answer left out "${topic}".`);
      if (r.errorCode !== 0) throw RunnelError.fromCode(r.errorCode, `Altering the configuration of "${topic}"`, r.errorMessage);
    });
  }

  async listOffsets(topic: string): Promise<{ partition: number; earliest: number; latest: number }[]> {
    return this.#retrying(`listing offsets of "${topic}"`, async () => {
      const info = await this.#cluster.topic(topic);
      const partitions = info.partitions.map((p) => p.partition);
      const [earliest, latest] = await Promise.all([
        listOffsets(this.#cluster, topic, partitions.map((partition) => ({ partition, timestamp: EARLIEST_TIMESTAMP }))),
        listOffsets(this.#cluster, topic, partitions.map((partition) => ({ partition, timestamp: LATEST_TIMESTAMP }))),
      ]);
      return partitions.map((partition) => ({ partition, earliest: earliest.get(partition)!, latest: latest.get(partition)! }));
    });
  }

  async offsetForTimestamp(topic: string, partition: number, timestampMs: number): Promise<number | null> {
    if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) throw invalidArgument(`timestampMs must be a non-negative integer (ms since the epoch), got ${timestampMs}`);
    return this.#retrying(`looking up the offset of ${topic}-${partition} at ${timestampMs}`, async () => {
      const offsets = await listOffsets(this.#cluster, topic, [{ partition, timestamp: timestampMs }]);
      const offset = offsets.get(partition)!;
      return offset < 0 ? null : offset;
    });
  }

  async close(): Promise<void> {
    await this.#cluster.close();
    this.#onClosed();
  }
}

/**
 * ListOffsets for some partitions of one topic, one request per leader.
 * Resolves partition -> offset (-1: no record at or after the timestamp).
 * Used by the admin and by the consumer to resolve start positions.
 */
export async function listOffsets(cluster: Cluster, topic: string, wanted: { partition: number; timestamp: number }[]): Promise<Map<number, number>> {
  const byLeader = new Map<number, { partition: number; timestamp: number }[]>();
  for (const w of wanted) {
    const { leader } = await cluster.leaderFor(topic, w.partition);
    addTo(byLeader, leader, w);
  }
  const out = new Map<number, number>();
  await Promise.all([...byLeader].map(async ([leader, partitions]) => {
    const res: ListOffsetsResponse = await cluster.broker(leader).request('ListOffsets', { replicaId: -1, topics: [{ name: topic, partitions }] });
    for (const t of res.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0) {
          const err = RunnelError.fromCode(p.errorCode, `Listing offsets of ${topic}-${p.partition}`);
          if (err.retriable) cluster.invalidate(topic);
          throw err;
        }
        out.set(p.partition, p.offset);
      }
    }
  }));
  for (const w of wanted) {
    if (!out.has(w.partition)) throw new RunnelError('UNKNOWN_SERVER_ERROR', `The broker's ListOffsets answer left out ${topic}-${w.partition}.`);
  }
  return out;
}
