/**
 * The public shapes of queues (`runnel.queue(...)`, docs/CLIENT.md
 * "Queues"): a share group reading one topic, each record handed to one
 * member at a time under a lock (the visibility timeout) and settled one by
 * one. Re-exported by ../types.ts.
 */
import type { Message, ProducerHeaders, RecordMetadata } from '../types.js';

/** "none": records of any key in parallel; "key": at most one unsettled record per key at a time, in offset order. */
export type QueueOrdering = 'none' | 'key';

export interface QueueOptions {
  /** The topic the queue reads (and `send` writes). */
  topic: string;
  /** The share group (the queue's name): every member with this id shares the records. */
  group: string;
  /**
   * The group's configuration. The first member to join creates the group
   * with it; a later member that gives a setting checks it against the
   * group's, and a mismatch is an error (INVALID_CONFIG naming the setting).
   * Left out: the broker's default when creating, anything when checking.
   */
  visibilityTimeoutMs?: number;
  maxDeliveryAttempts?: number;
  /** Where records rejected (by a member, or after the last attempt) are copied; "" explicitly none. */
  deadLetterTopic?: string;
  ordering?: QueueOrdering;
  /** Records a fetch of the `for await` loop asks for (default 100). */
  batchSize?: number;
  /** How long `receive` and the loop's fetches wait for a record (default 5000). */
  waitMs?: number;
  /**
   * How long acknowledgements wait to be sent together (default 5): they
   * ride on the next fetch, or go in one ShareAcknowledge this long after
   * the first of them, whichever is sooner.
   */
  ackLingerMs?: number;
  /** The `for await` loop renews the lock of the message in hand while it runs (default true). */
  autoExtend?: boolean;
  /** How long this member may go without a heartbeat getting through before it treats its locks as lost and rejoins (default 45000). */
  sessionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** A share group's configuration as its coordinator applies it. */
export interface QueueConfig {
  visibilityTimeoutMs: number;
  maxDeliveryAttempts: number;
  /** "": none. */
  deadLetterTopic: string;
  ordering: QueueOrdering;
}

/** A record to enqueue. `deliverAt` / `deliverAfterMs`: not handed out before then (the runnel.deliver.at header). */
export interface QueueSendMessage {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: ProducerHeaders;
  /** A Date, or ms since the epoch. */
  deliverAt?: Date | number;
  /** From now. */
  deliverAfterMs?: number;
}

export interface ReceiveOptions {
  /** The most records to take (default 100). */
  max?: number;
  /** How long to wait for at least one (default: the queue's waitMs); 0 answers at once. */
  waitMs?: number;
}

/**
 * A record handed to this member. Until it is settled (ack, release,
 * reject) or its lock expires, no other member gets it. Each settlement's
 * promise resolves once the coordinator has it durably; it rejects with
 * INVALID_RECORD_STATE when the lock had expired (the record may have been
 * redelivered to another member).
 */
export interface QueueMessage extends Message {
  /** How many times it has been handed out, this time included (1 the first time). */
  deliveryCount: number;
  /** When its lock expires (ms since the epoch, this client's clock, measured from when the fetch was sent). */
  readonly lockExpiresAtMs: number;
  /** Settled by this member (an ack, release or reject was given). */
  readonly settled: boolean;
  /** Done: never delivered again. */
  ack(): Promise<void>;
  /** Deliver again (to any member), after `delayMs` (default 0); `reason` is kept as the last error of a record that ends dead-lettered. */
  release(opts?: { delayMs?: number; reason?: string }): Promise<void>;
  /** Never deliver again; copied to the dead-letter topic when the group has one, with `reason`. */
  reject(reason?: string): Promise<void>;
  /** Keeps the lock for `ms` from now (default: the group's visibility timeout). */
  extend(ms?: number): Promise<void>;
}

export interface Queue extends AsyncIterable<QueueMessage> {
  readonly topic: string;
  readonly group: string;
  /** Writes a record to the topic (through the client's producer, acks all). */
  send(message: string | Buffer | null | QueueSendMessage): Promise<RecordMetadata>;
  /** Up to `max` records, waiting up to `waitMs` for the first; [] when none came. */
  receive(opts?: ReceiveOptions): Promise<QueueMessage[]>;
  /** The group's configuration, once this member has joined (null before). */
  readonly config: QueueConfig | null;
  /**
   * Sends pending acknowledgements, releases every record this member
   * holds and leaves the group. With `release: false` it neither releases
   * nor leaves: what it holds stays locked until the locks expire (as if
   * the member had crashed; the coordinator drops the member when its
   * session times out), for a tool that only looks at records.
   */
  close(opts?: { release?: boolean }): Promise<void>;
}
