/**
 * The SDK's defaults that other code needs to know (the `runnel` command
 * keeps them unless told otherwise, and fits its own timeouts around them),
 * in one place so they cannot drift apart.
 */
export const ProducerDefaults = {
  /** How long a batch may wait for more records. */
  lingerMs: 5,
  /** How long one request may go unanswered (the client's default too). */
  requestTimeoutMs: 30_000,
  /** Kafka's delivery.timeout.ms default: the longest a send() takes to settle. */
  deliveryTimeoutMs: 120_000,
  /** Kafka's metadata.max.age.ms default: cached topic metadata older than this is refreshed. */
  metadataMaxAgeMs: 300_000,
} as const;
