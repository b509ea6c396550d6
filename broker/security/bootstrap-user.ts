/**
 * The first administrator, before any broker runs (`runnel users create
 * admin --data DIR --password-stdin`): the credential is committed straight
 * into the metadata log under DIR, the same record AlterUserScramCredentials
 * makes, so the broker (or the controller) started on DIR knows the user
 * from its first moment and every other broker learns it with the rest of
 * the metadata. The data directory's lock keeps this from writing under a
 * running broker. An empty directory gets its cluster created first, as a
 * broker's first start would.
 */
import path from 'node:path';
import { saltedPassword, hashOf, DEFAULT_SCRAM_ITERATIONS, SCRAM_MECHANISM_CODES, type ScramMechanism } from '../../client/security/scram.js';
import { secureRandomBytes } from '../../client/security/random.js';
import { Errors, errorNameOf } from '../../protocol/errors.js';
import { newClusterId } from '../controller-node.js';
import { acquireDataDirLock, DataDirLockedError } from '../data-dir-lock.js';
import { systemClock } from '../world/clock.js';
import { realFileSystem } from '../world/file-system.js';
import { systemRng } from '../world/rng.js';
import { LocalMetadataStore } from '../metadata/local-store.js';
import type { Clock } from '../world/clock.js';
import type { FileSystem } from '../world/file-system.js';
import type { Rng } from '../world/rng.js';
import { scramAlterDecision } from './scram-admin.js';

/** `runnel users create --data`'s entry (the one broker module tools/commands/users.ts loads): the real disk; a running broker's lock is said plainly. */
export async function bootstrapScramUserOnDisk(opts: { dataDir: string; name: string; password: string; mechanisms: readonly ScramMechanism[]; iterations?: number }): Promise<{ clusterId: string; created: boolean }> {
  try {
    return await bootstrapScramUser({ ...opts, fs: realFileSystem, clock: systemClock, rng: systemRng });
  } catch (error) {
    if (error instanceof DataDirLockedError) throw new Error(`${opts.dataDir} is in use by a running broker: stop it, or create the user over the network (without --data)`, { cause: error });
    throw error;
  }
}

export async function bootstrapScramUser(opts: { dataDir: string; name: string; password: string; mechanisms: readonly ScramMechanism[]; iterations?: number; fs: FileSystem; clock: Clock; rng: Rng }): Promise<{ clusterId: string; created: boolean }> {
  const dataDir = path.resolve(opts.dataDir);
  await opts.fs.mkdirp(dataDir);
  const lock = await acquireDataDirLock(opts.fs, dataDir);
  try {
    const store = await LocalMetadataStore.open({ dataDir, fs: opts.fs, clock: opts.clock, localNodeId: 0 });
    try {
      const created = store.image.clusterId === '';
      if (created) await store.commit([{ kind: 'clusterCreated', clusterId: newClusterId(opts.rng) }], { expectedVersion: 0 });
      const iterations = opts.iterations ?? DEFAULT_SCRAM_ITERATIONS;
      const upsertions = opts.mechanisms.map((mechanism) => {
        const salt = secureRandomBytes(32);
        return { name: opts.name, mechanism: SCRAM_MECHANISM_CODES[mechanism], iterations, salt, saltedPassword: saltedPassword(hashOf(mechanism), opts.password, salt, iterations) };
      });
      const decision = scramAlterDecision(store.image, { deletions: [], upsertions });
      const failed = decision.response.results.find((r) => r.errorCode !== 0);
      if (failed !== undefined) throw new Error(`${Errors[errorNameOf(failed.errorCode)].message} (${failed.errorMessage ?? ''})`);
      await store.commit(decision.changes, { expectedVersion: store.image.version });
      return { clusterId: store.image.clusterId, created };
    } finally {
      await store.close();
    }
  } finally {
    await lock.release();
  }
}
