/**
 * SCRAM users through the admin client (AlterUserScramCredentials and
 * DescribeUserScramCredentials). The password is salted and hashed here,
 * with a fresh random salt, so it never leaves the client: the broker gets
 * the salted password and keeps only StoredKey and ServerKey.
 */
import { errorNameOf } from '../../protocol/errors.js';
import { RunnelError } from '../errors.js';
import type { Cluster } from '../metadata.js';
import { secureRandomBytes } from '../security/random.js';
import { DEFAULT_SCRAM_ITERATIONS, SCRAM_MECHANISM_CODES, hashOf, isScramMechanism, mechanismOfCode, saltedPassword, type ScramMechanism } from '../security/scram.js';

export interface ScramUser {
  name: string;
  credentials: { mechanism: ScramMechanism; iterations: number }[];
}

export function scramMechanism(name: string | undefined): ScramMechanism {
  const upper = (name ?? 'SCRAM-SHA-512').toUpperCase();
  if (!isScramMechanism(upper)) throw new RunnelError('INVALID_ARGUMENT', `mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512, got ${JSON.stringify(name)}`);
  return upper;
}

function throwOnErrors(results: { user: string; errorCode: number; errorMessage: string | null }[], what: string): void {
  const failed = results.find((r) => errorNameOf(r.errorCode) !== 'NONE');
  if (failed !== undefined) throw RunnelError.fromCode(failed.errorCode, `${what} ${failed.user}`, failed.errorMessage);
}

/** Creates or replaces `name`'s credential for each mechanism given. */
export async function upsertScramUser(cluster: Cluster, name: string, password: string, mechanisms: readonly ScramMechanism[], iterations = DEFAULT_SCRAM_ITERATIONS): Promise<void> {
  const upsertions = mechanisms.map((mechanism) => {
    const salt = secureRandomBytes(32);
    return { name, mechanism: SCRAM_MECHANISM_CODES[mechanism], iterations, salt, saltedPassword: saltedPassword(hashOf(mechanism), password, salt, iterations) };
  });
  const res = await cluster.anyConnection().request('AlterUserScramCredentials', { deletions: [], upsertions });
  throwOnErrors(res.results, 'Setting the SCRAM credential of user');
}

/** Deletes `name`'s credentials for the mechanisms given (every one it has when none is given). */
export async function deleteScramUser(cluster: Cluster, name: string, mechanisms?: readonly ScramMechanism[]): Promise<void> {
  const which = mechanisms ?? (await describeScramUsers(cluster, [name]))[0]?.credentials.map((c) => c.mechanism) ?? [];
  const res = await cluster.anyConnection().request('AlterUserScramCredentials', { deletions: which.map((m) => ({ name, mechanism: SCRAM_MECHANISM_CODES[m] })), upsertions: [] });
  throwOnErrors(res.results, 'Deleting the SCRAM credential of user');
}

/** The users (every one when `names` is absent) and their mechanisms; a named user without a credential is an error. */
export async function describeScramUsers(cluster: Cluster, names?: readonly string[]): Promise<ScramUser[]> {
  const res = await cluster.anyConnection().request('DescribeUserScramCredentials', { users: names === undefined ? null : [...names] });
  if (errorNameOf(res.errorCode) !== 'NONE') throw RunnelError.fromCode(res.errorCode, 'Describing SCRAM users', res.errorMessage);
  throwOnErrors(res.results, 'Describing user');
  return res.results.map((r) => ({ name: r.user, credentials: r.credentialInfos.flatMap((c) => { const mechanism = mechanismOfCode(c.mechanism); return mechanism === undefined ? [] : [{ mechanism, iterations: c.iterations }]; }) }));
}
