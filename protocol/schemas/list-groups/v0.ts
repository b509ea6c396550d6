/**
 * ListGroups (key 16): the groups a broker coordinates. Each broker answers
 * for its own groups only: to list a cluster's, ask every broker.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const listGroupsV0 = {
  request: {
    type: 'record',
    name: 'ListGroupsRequest',
    doc: 'Filters; empty lists match every group.',
    fields: [
      { name: 'statesFilter', type: { type: 'array', items: 'string' }, doc: 'Only groups in these states ("Empty", "Assigning", "Reconciling", "Stable"); empty: all.' },
      { name: 'typesFilter', type: { type: 'array', items: 'string' }, doc: 'Only groups of these types ("consumer"); empty: all.' },
    ],
  },
  response: {
    type: 'record',
    name: 'ListGroupsResponse',
    doc: 'The groups this broker coordinates.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      { name: 'errorCode', type: 'int', doc: 'NONE, or COORDINATOR_LOAD_IN_PROGRESS while some of its groups are still being loaded.' },
      {
        name: 'groups',
        doc: 'The groups.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'ListedGroup',
            doc: 'One group.',
            fields: [
              { name: 'groupId', type: 'string', doc: 'The group id.' },
              { name: 'groupState', type: 'string', doc: 'Its state, as ConsumerGroupDescribe gives it.' },
              { name: 'groupType', type: 'string', doc: '"consumer".' },
            ],
          },
        },
      },
    ],
  },
} as const satisfies AvroApiVersion;
