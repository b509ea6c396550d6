/**
 * How SCRAM credential changes turn into the image's users (image.ts's
 * `applyChange`): an upsertion replaces the user's credential for that
 * mechanism whole; a deletion removes it, and the user with its last one.
 * The controller checks requests before it commits them, so a change that
 * breaks these rules is a broken invariant, not a client's mistake.
 */
import type { ScramCredential, ScramMechanism } from '../../client/security/scram.js';
import { MIN_SCRAM_ITERATIONS } from '../../client/security/scram.js';
import { assert } from '../world/assert.js';
import type { MetadataChange } from './changes.js';

type Users = ReadonlyMap<string, ReadonlyMap<ScramMechanism, ScramCredential>>;

export function scramCredentialsChanged(users: Users, change: Extract<MetadataChange, { kind: 'scramCredentialUpserted' | 'scramCredentialDeleted' }>): Users {
  assert(change.user !== '', 'a SCRAM user has a name', { kind: change.kind });
  const next = new Map(users);
  const mechanisms = new Map(users.get(change.user) ?? []);
  if (change.kind === 'scramCredentialUpserted') {
    assert(change.iterations >= MIN_SCRAM_ITERATIONS, 'a SCRAM credential has enough iterations', { user: change.user, iterations: change.iterations });
    mechanisms.set(change.mechanism, { salt: change.salt, iterations: change.iterations, storedKey: change.storedKey, serverKey: change.serverKey });
  } else {
    assert(mechanisms.has(change.mechanism), 'a deleted SCRAM credential exists', { user: change.user, mechanism: change.mechanism });
    mechanisms.delete(change.mechanism);
  }
  if (mechanisms.size === 0) next.delete(change.user);
  else next.set(change.user, mechanisms);
  return next;
}
