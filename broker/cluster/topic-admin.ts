/**
 * What the admin handlers (CreateTopics, DeleteTopics, AlterConfigs,
 * CreatePartitions, and auto-creation from Metadata and Produce) ask of the
 * cluster. The embedded broker and the controller process answer with their
 * own Controller; a broker of a cluster forwards each to its controller
 * (forwarding-admin.ts), as Kafka's KIP-590, so clients can keep sending
 * admin requests to any broker.
 */
import type {
  CreateAclsRequest,
  CreateAclsResponse,
  DeleteAclsRequest,
  DeleteAclsResponse,
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse,
  AlterClientQuotasRequest,
  AlterClientQuotasResponse,
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  ElectLeadersRequest,
  ElectLeadersResponse,
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
} from '../../protocol/messages.js';
import type { CreateTopicRequest } from '../controller/controller.js';

export interface TopicAdmin {
  /** The cluster's id ('' before a broker of a cluster first hears it). */
  readonly clusterId: string;
  createTopic(request: CreateTopicRequest, opts?: { validateOnly?: boolean }): Promise<{ partitions: number; replicationFactor: number }>;
  deleteTopic(name: string): Promise<void>;
  alterTopicConfig(name: string, changes: readonly { name: string; value: string | null }[], opts?: { validateOnly?: boolean }): Promise<void>;
  createPartitions(name: string, count: number, opts?: { validateOnly?: boolean }): Promise<void>;
  /** Creates one of the broker's internal topics (`__consumer_offsets`): never a client's request. */
  createInternalTopic(request: CreateTopicRequest): Promise<void>;
  /** Creates `name` with the defaults when auto-creation is on; true once it exists. */
  autoCreate(name: string): Promise<boolean>;
  /** Replica moves and elections: whole requests, decided by the controller with per-partition results. */
  alterPartitionReassignments(request: AlterPartitionReassignmentsRequest): Promise<AlterPartitionReassignmentsResponse>;
  listPartitionReassignments(request: ListPartitionReassignmentsRequest): Promise<ListPartitionReassignmentsResponse>;
  electLeaders(request: ElectLeadersRequest): Promise<ElectLeadersResponse>;
  /** SCRAM users: decided by the controller per user (security/scram-admin.ts) and applied through the metadata log. */
  alterUserScramCredentials(request: AlterUserScramCredentialsRequest): Promise<AlterUserScramCredentialsResponse>;
  /** ACLs: decided by the controller per binding or filter (acl/acl-admin.ts) and applied through the metadata log. */
  createAcls(request: CreateAclsRequest): Promise<CreateAclsResponse>;
  deleteAcls(request: DeleteAclsRequest): Promise<DeleteAclsResponse>;
  /** Client quotas: decided by the controller per entity (quota/quota-admin.ts) and applied through the metadata log. */
  alterClientQuotas(request: AlterClientQuotasRequest): Promise<AlterClientQuotasResponse>;
}
