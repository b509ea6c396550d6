/**
 * The version table of every control-plane API: for each, its Avro schema
 * files, oldest first (index = version). A new version of an API is a new
 * `v<N>.ts` file appended to its list here; codec.ts, SUPPORTED_VERSIONS, the
 * round-trip tests and docs/PROTOCOL.md pick it up from this table.
 *
 * A published version file never changes, which is why each one spells out
 * its whole schema instead of sharing fragments with its neighbours: an edit
 * to a shared fragment would silently change the bytes of old versions.
 */
import type { AvroApiVersion } from '../avro/schema.js';
import type { ApiName } from '../api-keys.js';
import { alterConfigsV0 } from './alter-configs/v0.js';
import { allocateProducerIdsV0 } from './allocate-producer-ids/v0.js';
import { alterPartitionV0 } from './alter-partition/v0.js';
import { alterPartitionReassignmentsV0 } from './alter-partition-reassignments/v0.js';
import { apiVersionsV0 } from './api-versions/v0.js';
import { brokerHeartbeatV0 } from './broker-heartbeat/v0.js';
import { brokerHeartbeatV1 } from './broker-heartbeat/v1.js';
import { brokerRegistrationV0 } from './broker-registration/v0.js';
import { brokerRegistrationV1 } from './broker-registration/v1.js';
import { createPartitionsV0 } from './create-partitions/v0.js';
import { createTopicsV0 } from './create-topics/v0.js';
import { deleteTopicsV0 } from './delete-topics/v0.js';
import { describeConfigsV0 } from './describe-configs/v0.js';
import { electLeadersV0 } from './elect-leaders/v0.js';
import { listOffsetsV0 } from './list-offsets/v0.js';
import { listOffsetsV1 } from './list-offsets/v1.js';
import { listPartitionReassignmentsV0 } from './list-partition-reassignments/v0.js';
import { metadataChangesV0 } from './metadata-changes/v0.js';
import { metadataV0 } from './metadata/v0.js';
import { metadataV1 } from './metadata/v1.js';
import { offsetForLeaderEpochV0 } from './offset-for-leader-epoch/v0.js';
import { findCoordinatorV0 } from './find-coordinator/v0.js';
import { consumerGroupHeartbeatV0 } from './consumer-group-heartbeat/v0.js';
import { consumerGroupDescribeV0 } from './consumer-group-describe/v0.js';
import { offsetCommitV0 } from './offset-commit/v0.js';
import { offsetFetchV0 } from './offset-fetch/v0.js';
import { listGroupsV0 } from './list-groups/v0.js';
import { deleteGroupsV0 } from './delete-groups/v0.js';
import { initProducerIdV0 } from './init-producer-id/v0.js';
import { shareGroupHeartbeatV0 } from './share-group-heartbeat/v0.js';
import { shareGroupDescribeV0 } from './share-group-describe/v0.js';
import { shareFetchV0 } from './share-fetch/v0.js';
import { shareAcknowledgeV0 } from './share-acknowledge/v0.js';
import { deleteRecordsV0 } from './delete-records/v0.js';
import { saslHandshakeV0 } from './sasl-handshake/v0.js';
import { saslAuthenticateV0 } from './sasl-authenticate/v0.js';
import { describeUserScramCredentialsV0 } from './describe-user-scram-credentials/v0.js';
import { alterUserScramCredentialsV0 } from './alter-user-scram-credentials/v0.js';
import { describeAclsV0 } from './describe-acls/v0.js';
import { createAclsV0 } from './create-acls/v0.js';
import { deleteAclsV0 } from './delete-acls/v0.js';
import { describeClientQuotasV0 } from './describe-client-quotas/v0.js';
import { alterClientQuotasV0 } from './alter-client-quotas/v0.js';

export type AvroApiName = Exclude<ApiName, 'Produce' | 'Fetch'>;

export const avroSchemaVersions: Record<AvroApiName, readonly AvroApiVersion[]> = {
  ApiVersions: [apiVersionsV0],
  Metadata: [metadataV0, metadataV1],
  CreateTopics: [createTopicsV0],
  DeleteTopics: [deleteTopicsV0],
  DescribeConfigs: [describeConfigsV0],
  AlterConfigs: [alterConfigsV0],
  ListOffsets: [listOffsetsV0, listOffsetsV1],
  CreatePartitions: [createPartitionsV0],
  OffsetForLeaderEpoch: [offsetForLeaderEpochV0],
  BrokerRegistration: [brokerRegistrationV0, brokerRegistrationV1],
  BrokerHeartbeat: [brokerHeartbeatV0, brokerHeartbeatV1],
  AlterPartition: [alterPartitionV0],
  MetadataChanges: [metadataChangesV0],
  ElectLeaders: [electLeadersV0],
  AlterPartitionReassignments: [alterPartitionReassignmentsV0],
  ListPartitionReassignments: [listPartitionReassignmentsV0],
  FindCoordinator: [findCoordinatorV0],
  ConsumerGroupHeartbeat: [consumerGroupHeartbeatV0],
  ConsumerGroupDescribe: [consumerGroupDescribeV0],
  OffsetCommit: [offsetCommitV0],
  OffsetFetch: [offsetFetchV0],
  ListGroups: [listGroupsV0],
  DeleteGroups: [deleteGroupsV0],
  InitProducerId: [initProducerIdV0],
  AllocateProducerIds: [allocateProducerIdsV0],
  ShareGroupHeartbeat: [shareGroupHeartbeatV0],
  ShareGroupDescribe: [shareGroupDescribeV0],
  ShareFetch: [shareFetchV0],
  ShareAcknowledge: [shareAcknowledgeV0],
  DeleteRecords: [deleteRecordsV0],
  SaslHandshake: [saslHandshakeV0],
  SaslAuthenticate: [saslAuthenticateV0],
  DescribeUserScramCredentials: [describeUserScramCredentialsV0],
  AlterUserScramCredentials: [alterUserScramCredentialsV0],
  DescribeAcls: [describeAclsV0],
  CreateAcls: [createAclsV0],
  DeleteAcls: [deleteAclsV0],
  DescribeClientQuotas: [describeClientQuotasV0],
  AlterClientQuotas: [alterClientQuotasV0],
};
