/**
 * How a broker reaches its controller (docs/ARCHITECTURE.md): registration,
 * heartbeats, ISR changes by leaders, the metadata long poll, and admin
 * requests forwarded to the controller. Two implementations: in-process
 * (embedded) and over the network.
 */
import type { AlterPartitionRequest, AlterPartitionResponse, RequestBodies, ResponseBodies } from '../../protocol/messages.js';
import type { MetadataEntry } from '../metadata/changes.js';

export interface ControllerChannel {
  /** Registers this broker (again after a restart: new epoch). */
  register(r: { brokerId: number; incarnationId: string; host: string; port: number; rack: string | null }): Promise<{ brokerEpoch: number }>;
  heartbeat(h: { brokerId: number; brokerEpoch: number; metadataVersion: number }): Promise<{ fenced: boolean }>;
  /** ISR changes by a leader; per-partition results (errors as typed errors or error names). */
  alterPartition(req: AlterPartitionRequest): Promise<AlterPartitionResponse>;
  /** Long poll for metadata entries after `afterVersion` (decoded MetadataEntry objects). */
  changes(afterVersion: number, opts: { maxWaitMs: number; signal: AbortSignal }): Promise<{ latestVersion: number; entries: MetadataEntry[] }>;
  /** Admin requests forwarded to the controller (CreateTopics, DeleteTopics, AlterConfigs, CreatePartitions). */
  forward<K extends 'CreateTopics' | 'DeleteTopics' | 'AlterConfigs' | 'CreatePartitions'>(api: K, request: RequestBodies[K]): Promise<ResponseBodies[K]>;
  close(): Promise<void>;
}
