/**
 * API keys on the wire (Kafka's numbering for the APIs Kafka also has) and
 * the versions this build implements. A new version of an API is added here
 * and as a new schema file; nothing else needs a list of APIs.
 */
export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  ListGroups: 16,
  InitProducerId: 22,
  DeleteGroups: 42,
  ConsumerGroupHeartbeat: 68,
  ConsumerGroupDescribe: 69,
  ShareGroupHeartbeat: 76,
  ShareGroupDescribe: 77,
  ShareFetch: 78,
  ShareAcknowledge: 79,
  DeleteRecords: 21,
  DescribeConfigs: 32,
  AlterConfigs: 33,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  CreatePartitions: 37,
  OffsetForLeaderEpoch: 23,
  ElectLeaders: 43,
  AlterPartitionReassignments: 45,
  ListPartitionReassignments: 46,
  AlterPartition: 56,
  /** Controller API: a broker's next block of producer ids. */
  AllocateProducerIds: 67,
  BrokerRegistration: 62,
  BrokerHeartbeat: 63,
  /** Authentication on SASL listeners (broker/security/). */
  SaslHandshake: 17,
  SaslAuthenticate: 36,
  /** SCRAM users: read from any broker's metadata; changes forwarded to the controller. */
  DescribeUserScramCredentials: 50,
  AlterUserScramCredentials: 51,
  /** ACLs: read from any broker's metadata; creations and deletions forwarded to the controller. */
  DescribeAcls: 29,
  CreateAcls: 30,
  DeleteAcls: 31,
  /** Client quotas (broker/quota/): read from any broker's metadata; changes forwarded to the controller. */
  DescribeClientQuotas: 48,
  AlterClientQuotas: 49,
  /** Runnel's own (Kafka has no such API): brokers follow the metadata log with it. Above Kafka's range, so never a clash. */
  MetadataChanges: 1000,
} as const;

export type ApiName = keyof typeof ApiKey;
export type ApiKeyValue = (typeof ApiKey)[ApiName];

export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

const names = new Map<number, ApiName>(Object.entries(ApiKey).map(([name, key]) => [key, name as ApiName]));

export function apiNameOf(key: number): ApiName | undefined {
  return names.get(key);
}
