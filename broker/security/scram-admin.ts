/**
 * What the controller decides for an AlterUserScramCredentials request
 * (Kafka's KIP-554 rules), as a pure function of the metadata image: per
 * user, either every change asked for that user is valid and becomes a
 * metadata change, or none is and the user gets the first error. The
 * client sent the salted password; the controller derives StoredKey and
 * ServerKey from it and keeps only those.
 */
import type { AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse } from '../../protocol/messages.js';
import { Errors, type ErrorName } from '../../protocol/errors.js';
import { MIN_SCRAM_ITERATIONS, credentialFromSalted, hashOf, keyBytesOf, mechanismOfCode } from '../../client/security/scram.js';
import type { MetadataChange } from '../metadata/changes.js';
import type { MetadataImage } from '../metadata/image.js';

/** Kafka's ceiling: more would make every login of that user slow for nothing. */
export const MAX_SCRAM_ITERATIONS = 16_384;
const MIN_SALT_BYTES = 16;

type Result = AlterUserScramCredentialsResponse['results'][number];

export function scramAlterDecision(image: MetadataImage, request: AlterUserScramCredentialsRequest): { changes: MetadataChange[]; response: AlterUserScramCredentialsResponse } {
  const order: string[] = [];
  const errors = new Map<string, { name: ErrorName; message: string }>();
  const perUser = new Map<string, MetadataChange[]>();
  const seen = new Set<string>();
  const fail = (user: string, name: ErrorName, message: string): void => {
    if (!errors.has(user)) errors.set(user, { name, message });
  };
  const note = (user: string, mechanismCode: number): ReturnType<typeof mechanismOfCode> => {
    if (!perUser.has(user) && !errors.has(user)) order.push(user);
    if (!perUser.has(user)) perUser.set(user, []);
    const key = `${user}\u0000${mechanismCode}`;
    if (seen.has(key)) fail(user, 'DUPLICATE_RESOURCE', `user ${user} is named twice for the same mechanism in one request`);
    seen.add(key);
    if (user === '') fail(user, 'UNACCEPTABLE_CREDENTIAL', 'a user name may not be empty');
    const mechanism = mechanismOfCode(mechanismCode);
    if (mechanism === undefined) fail(user, 'UNSUPPORTED_SASL_MECHANISM', `mechanism ${mechanismCode} is unknown: 1 (SCRAM-SHA-256) or 2 (SCRAM-SHA-512)`);
    return mechanism;
  };
  for (const deletion of request.deletions) {
    const mechanism = note(deletion.name, deletion.mechanism);
    if (mechanism === undefined) continue;
    if (image.scramCredentials?.get(deletion.name)?.has(mechanism) !== true) fail(deletion.name, 'RESOURCE_NOT_FOUND', `user ${deletion.name} has no ${mechanism} credential to delete`);
    else perUser.get(deletion.name)!.push({ kind: 'scramCredentialDeleted', user: deletion.name, mechanism });
  }
  for (const upsertion of request.upsertions) {
    const mechanism = note(upsertion.name, upsertion.mechanism);
    if (mechanism === undefined) continue;
    if (upsertion.iterations < MIN_SCRAM_ITERATIONS || upsertion.iterations > MAX_SCRAM_ITERATIONS) fail(upsertion.name, 'UNACCEPTABLE_CREDENTIAL', `iterations must be between ${MIN_SCRAM_ITERATIONS} and ${MAX_SCRAM_ITERATIONS}, got ${upsertion.iterations}`);
    else if (upsertion.salt.length < MIN_SALT_BYTES) fail(upsertion.name, 'UNACCEPTABLE_CREDENTIAL', `the salt must be at least ${MIN_SALT_BYTES} random bytes, got ${upsertion.salt.length}`);
    else if (upsertion.saltedPassword.length !== keyBytesOf(mechanism)) fail(upsertion.name, 'UNACCEPTABLE_CREDENTIAL', `a ${mechanism} salted password is ${keyBytesOf(mechanism)} bytes, got ${upsertion.saltedPassword.length}`);
    else {
      const credential = credentialFromSalted(hashOf(mechanism), upsertion.saltedPassword, Buffer.from(upsertion.salt), upsertion.iterations);
      perUser.get(upsertion.name)!.push({ kind: 'scramCredentialUpserted', user: upsertion.name, mechanism, ...credential, salt: Buffer.from(credential.salt) });
    }
  }
  const changes: MetadataChange[] = [];
  const results: Result[] = order.map((user) => {
    const error = errors.get(user);
    if (error !== undefined) return { user, errorCode: Errors[error.name].code, errorMessage: error.message };
    changes.push(...perUser.get(user)!);
    return { user, errorCode: 0, errorMessage: null };
  });
  return { changes, response: { throttleTimeMs: 0, results } };
}
