/**
 * MetadataChanges (key 1000, Runnel's own): how a broker follows the
 * controller's metadata log. A long poll: the controller answers at once
 * when entries exist after `afterVersion`, else as soon as one is committed,
 * or with no entries when `maxWaitMs` passes. The broker sends the next poll
 * from the last version it received, so changes reach it within a round
 * trip of their commit, and a broker that was away catches up from its
 * version in pages of `maxEntries`.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const metadataChangesV0 = {
  request: {
    type: 'record',
    name: 'MetadataChangesRequest',
    doc: 'Where the broker is in the metadata log, and how long it will wait.',
    fields: [
      { name: 'brokerId', type: 'int', doc: 'The broker\'s node id.' },
      { name: 'brokerEpoch', type: 'long', doc: 'The broker\'s epoch; -1 before it has registered (it still catches up).' },
      { name: 'afterVersion', type: 'long', doc: 'The last metadata version the broker has; entries after it are wanted (0: from the start).' },
      { name: 'maxWaitMs', type: 'int', doc: 'How long the controller may hold the request when there is nothing after afterVersion.' },
      { name: 'maxEntries', type: 'int', doc: 'At most this many entries in the response; the rest comes with the next poll.' },
    ],
  },
  response: {
    type: 'record',
    name: 'MetadataChangesResponse',
    doc: 'The entries after afterVersion, oldest first.',
    fields: [
      { name: 'errorCode', type: 'int', doc: 'NONE, NOT_CONTROLLER, ...' },
      { name: 'errorMessage', type: ['null', 'string'], doc: 'What went wrong, for a person; null with NONE.' },
      { name: 'clusterId', type: 'string', doc: 'The cluster id, so a broker of another cluster notices.' },
      { name: 'latestVersion', type: 'long', doc: 'The newest committed version when the response was built; more than the last entry means more to fetch.' },
      {
        name: 'entries',
        doc: 'Consecutive entries, in version order.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'MetadataChangesEntry',
            doc: 'One metadata log entry.',
            fields: [
              { name: 'schemaVersion', type: 'int', doc: 'The version of the change schema the bytes were written with.' },
              { name: 'bytes', type: 'bytes', doc: 'The entry, as the metadata log stores it (Avro of that change schema version).' },
            ],
          },
        },
      },
    ],
  },
} as const satisfies AvroApiVersion;
