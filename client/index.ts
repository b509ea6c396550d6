/**
 * The Runnel SDK, the package root: `import { Runnel } from 'runnel'`.
 * docs/CLIENT.md is the guide; types.ts has every public shape.
 */
export { Runnel } from './runnel.js';
export { RunnelError, ClientErrors, type ClientErrorName, type RunnelErrorName } from './errors.js';
export type { ErrorName } from '../protocol/errors.js';
export type { SaslOption, TlsOption } from './security/secure-transport.js';
export { ProducerDefaults } from './defaults.js';
export { partitionForKey, murmur2 } from './producer/partitioner.js';
export { parseDeliverAt } from './delivery-time.js';
export type { DeadLetterTopicUse } from './admin/dead-letters.js';
export type { ClientQuotaAlteration, ClientQuotaDescription, ClientQuotaEntity, ClientQuotaKind } from './admin/client-quotas.js';
export { DELIVER_AT_HEADER, DlqHeader, DLQ_HEADER_PREFIX, type DlqReason } from '../protocol/headers.js';
export type {
  Acks,
  AclBinding,
  AclBindingFilter,
  AclOperation,
  Admin,
  BrokerReachableEvent,
  BreakerOpenEvent,
  BreakerHalfOpenEvent,
  BreakerClosedEvent,
  BulkheadFullEvent,
  ThrottledEvent,
  BrokerStats,
  ResilienceOptions,
  OffsetResetEvent,
  ConsumerPartitionLag,
  PartitionsEvent,
  PartitionsLostEvent,
  RunOptions,
  SubscribeOptions,
  BrokerUnreachableEvent,
  ClientEventName,
  ClientEvents,
  ClientEventSource,
  CompressionName,
  Consumer,
  ConsumerOptions,
  CommittedOffset,
  DeliveryTimeOptions,
  DescribedConfig,
  DescribedPartition,
  GroupDescription,
  GroupListing,
  GroupMemberDescription,
  GroupOutcome,
  GroupPartitionLag,
  GroupTopicPartition,
  Logger,
  Message,
  MessageBatch,
  OffsetResetPlanEntry,
  OffsetResetResult,
  OffsetResetSpec,
  OngoingReassignment,
  PartitionMove,
  PartitionOutcome,
  PartitionDescription,
  PartitionLag,
  Queue,
  QueueConfig,
  QueueMessage,
  QueueOptions,
  QueueOrdering,
  QueueSendMessage,
  ReceiveOptions,
  Producer,
  ProducerMessage,
  ProducerHeaders,
  ProducerOptions,
  RecordMetadata,
  RunnelOptions,
  ShareGroupDescription,
  ShareGroupMemberDescription,
  SharePartitionDescription,
  StartOffset,
  TopicDescription,
} from './types.js';
