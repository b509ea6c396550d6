/**
 * DeleteGroups (key 42): delete groups with no members, with their committed
 * offsets. Sent to each group's coordinator.
 *
 * Version history:
 * - v0: the first version.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const deleteGroupsV0 = {
  request: {
    type: 'record',
    name: 'DeleteGroupsRequest',
    doc: 'The groups to delete.',
    fields: [{ name: 'groupsNames', type: { type: 'array', items: 'string' }, doc: 'The group ids.' }],
  },
  response: {
    type: 'record',
    name: 'DeleteGroupsResponse',
    doc: 'One result per group.',
    fields: [
      { name: 'throttleTimeMs', type: 'int', doc: 'How long the client should wait before its next request (quotas); 0 when not throttled.' },
      {
        name: 'results',
        doc: 'In the order of the request.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'DeletedGroupResult',
            doc: 'One group.',
            fields: [
              { name: 'groupId', type: 'string', doc: 'The group id.' },
              { name: 'errorCode', type: 'int', doc: 'NONE, NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP (it still has members).' },
              { name: 'errorMessage', type: ['null', 'string'], doc: 'What was wrong, for a person; null on success.' },
            ],
          },
        },
      },
    ],
  },
} as const satisfies AvroApiVersion;
