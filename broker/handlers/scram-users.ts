/**
 * DescribeUserScramCredentials (50) and AlterUserScramCredentials (51).
 * Describe reads this node's metadata (every broker has the credentials:
 * they replicate with the rest of the metadata log), listing mechanisms and
 * iteration counts, never salts or keys. Alter goes to the controller (in
 * this process, or forwarded), which decides per user.
 */
import { Errors } from '../../protocol/errors.js';
import type { DescribeUserScramCredentialsResponse } from '../../protocol/messages.js';
import { SCRAM_MECHANISM_CODES, type ScramMechanism } from '../../client/security/scram.js';
import type { AdminContext, ServingContext } from './broker-context.js';
import { toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';

type Described = DescribeUserScramCredentialsResponse['results'][number];

export function describeUserScramCredentialsHandler(node: ServingContext): ApiHandler<'DescribeUserScramCredentials'> {
  return {
    api: 'DescribeUserScramCredentials',
    versions: { min: 0, max: 0 },
    handle: async (_ctx, request) => {
      const users: ReadonlyMap<string, ReadonlyMap<ScramMechanism, { iterations: number }>> = node.replicas.image.scramCredentials ?? new Map();
      const describe = (user: string): Described => {
        const mechanisms = users.get(user);
        if (mechanisms === undefined) return { user, errorCode: Errors.RESOURCE_NOT_FOUND.code, errorMessage: `user ${user} has no SCRAM credential`, credentialInfos: [] };
        const credentialInfos = [...mechanisms].map(([mechanism, credential]) => ({ mechanism: SCRAM_MECHANISM_CODES[mechanism], iterations: credential.iterations })).sort((a, b) => a.mechanism - b.mechanism);
        return { user, errorCode: 0, errorMessage: null, credentialInfos };
      };
      const names = request.users ?? [...users.keys()].sort();
      const counts = new Map<string, number>();
      for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
      const results = [...new Set(names)].map((user) => ((counts.get(user) ?? 0) > 1 ? { user, errorCode: Errors.DUPLICATE_RESOURCE.code, errorMessage: `user ${user} is named twice`, credentialInfos: [] } : describe(user)));
      return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, results };
    },
  };
}

export function alterUserScramCredentialsHandler(node: AdminContext): ApiHandler<'AlterUserScramCredentials'> {
  return {
    api: 'AlterUserScramCredentials',
    versions: { min: 0, max: 0 },
    handle: async (ctx, request) => {
      try {
        return await node.controller.alterUserScramCredentials(request);
      } catch (error) {
        const wire = toWireError(error, ctx.logger, { api: 'AlterUserScramCredentials' });
        const users = [...new Set([...request.deletions, ...request.upsertions].map((c) => c.name))];
        return { throttleTimeMs: 0, results: users.map((user) => ({ user, errorCode: wire.code, errorMessage: wire.message })) };
      }
    },
  };
}
