/**
 * The gauges that describe a state, computed when Prometheus scrapes (a
 * prom-client `collect`), never on the hot path: partitions hosted and led,
 * under-replicated and under-min-ISR partitions (Kafka's
 * UnderReplicatedPartitions and UnderMinIsrPartitionCount: of the partitions
 * this broker leads), partitions without a leader anywhere (Kafka's
 * OfflinePartitionsCount; every broker reports the cluster's count as its
 * metadata has it, so alert on max(), not sum()), hosted logs that are
 * offline (Kafka's OfflineReplicaCount), open client connections, and
 * whether this broker is fenced.
 *
 * A scrape walks the metadata's partitions once and the hosted partitions
 * once: tens of microseconds for thousands of partitions, every 15 s or so.
 */
import { Counter, Gauge } from 'prom-client';
import type { PlaintextCache, PlaintextCacheStats } from '../storage/encryption/plaintext-cache.js';
import type { MetadataImage } from '../metadata/image.js';
import type { Partition } from '../partition.js';
import type { BrokerMetrics } from './broker-metrics.js';

export interface ScrapeSources {
  readonly nodeId: number;
  image(): MetadataImage;
  hostedPartitions(): Iterable<Partition>;
  /** Open client connections (0 before the listener is up). */
  openConnections(): number;
  /** Why the broker takes no writes now, or null. */
  whyFenced(): string | null;
}

interface PartitionCounts {
  hosted: number;
  leader: number;
  underReplicated: number;
  underMinIsr: number;
  offline: number;
  offlineReplicas: number;
}

export function countPartitions(sources: Pick<ScrapeSources, 'nodeId' | 'image' | 'hostedPartitions'>): PartitionCounts {
  const counts: PartitionCounts = { hosted: 0, leader: 0, underReplicated: 0, underMinIsr: 0, offline: 0, offlineReplicas: 0 };
  for (const topic of sources.image().topics.values()) {
    for (const state of topic.partitionStates) {
      if (state.leader === -1) counts.offline += 1;
      else if (state.leader === sources.nodeId && state.isr.length < state.replicas.length) counts.underReplicated += 1;
    }
  }
  for (const partition of sources.hostedPartitions()) {
    if (partition.deleted) continue;
    counts.hosted += 1;
    if (partition.offlineReason !== null) counts.offlineReplicas += 1;
    if (partition.role !== 'leader') continue;
    counts.leader += 1;
    if (partition.isr.length < partition.config.minInsyncReplicas) counts.underMinIsr += 1;
  }
  return counts;
}

/** Registers the gauges on `metrics`' registry; each scrape reads `sources` and drops deleted topics' series. */
export function registerScrapeGauges(metrics: BrokerMetrics, sources: ScrapeSources): void {
  const registers = [metrics.registry];
  let counts: PartitionCounts | null = null;
  // One walk per scrape feeds all the partition gauges: the first gauge collected takes it, the last one clears it.
  const partitionGauge = (name: string, help: string, pick: keyof PartitionCounts, last = false): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        counts ??= countPartitions(sources);
        this.set(counts[pick]);
        if (last) counts = null;
      },
    });
  };
  new Gauge({
    name: 'runnel_partitions',
    help: 'Partitions this broker hosts a replica of.',
    registers,
    collect() {
      metrics.forgetTopicsOtherThan(sources.image().topics);
      counts = countPartitions(sources);
      this.set(counts.hosted);
    },
  });
  partitionGauge('runnel_leader_partitions', 'Partitions this broker leads.', 'leader');
  partitionGauge('runnel_under_replicated_partitions', 'Partitions this broker leads whose ISR is smaller than their replica set.', 'underReplicated');
  partitionGauge('runnel_under_min_isr_partitions', 'Partitions this broker leads whose ISR is smaller than their min.insync.replicas (acks=all produce is refused).', 'underMinIsr');
  partitionGauge('runnel_offline_partitions', 'Partitions with no leader in this broker\'s metadata (cluster-wide: alert on max, not sum).', 'offline');
  partitionGauge('runnel_offline_replicas', 'Hosted partition logs that cannot serve (failed to open, or went offline on a disk error).', 'offlineReplicas', true);
  new Gauge({ name: 'runnel_open_connections', help: 'Client connections open now (inter-broker ones included).', registers, collect() { this.set(sources.openConnections()); } });
  new Gauge({ name: 'runnel_broker_fenced', help: '1 while this broker takes no writes (not registered, fenced by its controller, or its heartbeat lease ran out), else 0.', registers, collect() { this.set(sources.whyFenced() === null ? 0 : 1); } });
}

/** The plaintext cache of encrypted topics (storage/encryption/plaintext-cache.ts): its size, and how many bytes read it answered and did not. */
export function registerPlaintextCacheMetrics(metrics: BrokerMetrics, cache: PlaintextCache): void {
  const registers = [metrics.registry];
  new Gauge({ name: 'runnel_encryption_cache_bytes', help: 'Plaintext of encrypted topics\' newest batches held in memory (at most encryption.cache.bytes).', registers, collect() { this.set(cache.stats().sizeBytes); } });
  // Counters fed from the cache's own totals at scrape time: the hot path only adds to plain numbers.
  const counted = (name: string, help: string, labelNames: string[], read: (stats: PlaintextCacheStats) => Record<string, number>): void => {
    const seen = new Map<string, number>();
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        for (const [label, total] of Object.entries(read(cache.stats()))) {
          const grown = total - (seen.get(label) ?? 0);
          seen.set(label, total);
          if (grown > 0) (label === '' ? this.inc(grown) : this.inc({ [labelNames[0] as string]: label }, grown));
        }
      },
    });
  };
  counted('runnel_encryption_cache_read_bytes_total', 'Record bytes read from encrypted topics: result="hit" from the plaintext cache, "miss" decrypted from disk.', ['result'], (s) => ({ hit: s.hitBytes, miss: s.missBytes }));
  counted('runnel_encryption_cache_evicted_bytes_total', 'Bytes the plaintext cache let go to make room for newer appends.', [], (s) => ({ '': s.evictedBytes }));
}
