/**
 * What is wrong with a ConsumerGroupHeartbeat on its face, before any group
 * state is looked at (KIP-848's request validation): the refusal's error
 * name and message, or null.
 */
import type { ErrorName } from '../../protocol/errors.js';
import type { ConsumerGroupHeartbeatRequest } from '../../protocol/messages.js';
import { compileSubscriptionRegex } from './target-assignment.js';

export function heartbeatProblem(request: ConsumerGroupHeartbeatRequest, assignors: readonly string[]): { errorName: ErrorName; message: string } | null {
  const invalid = (message: string) => ({ errorName: 'INVALID_REQUEST' as const, message });
  if (request.groupId === '') return invalid('the group id is empty');
  if (request.memberId === '') return invalid('the member id is empty: a consumer picks one (a UUID) and keeps it');
  if (request.memberEpoch < -2) return invalid(`member epoch ${request.memberEpoch} is not 0 (join), -1 (leave), -2 (static leave) or a current epoch`);
  if (request.memberEpoch === -2 && request.instanceId === null) return invalid('epoch -2 (leaving for a restart) is for static members: the request has no instance id');
  if (request.memberEpoch === 0 && request.subscribedTopicNames === null && request.subscribedTopicRegex === null) {
    return invalid('a member joining (epoch 0) must give its subscription (subscribedTopicNames or subscribedTopicRegex)');
  }
  if (request.serverAssignor !== null && !assignors.includes(request.serverAssignor)) {
    return { errorName: 'UNSUPPORTED_ASSIGNOR', message: `assignor "${request.serverAssignor}" is not one of this broker's (group.consumer.assignors: ${assignors.join(', ')})` };
  }
  if (request.subscribedTopicRegex !== null && request.subscribedTopicRegex !== '') {
    try {
      compileSubscriptionRegex(request.subscribedTopicRegex);
    } catch (error) {
      return { errorName: 'INVALID_REGULAR_EXPRESSION', message: `subscription pattern /${request.subscribedTopicRegex}/ is not a valid regular expression: ${(error as Error).message}` };
    }
  }
  return null;
}
