/**
 * Encryption at rest under replication, in process (replication-rig.ts):
 * followers fetch plaintext batches from their leader and seal them on
 * their own disks with nonces of their own; a follower restarted and a
 * leadership moved keep the log readable, and no replica's segment files
 * hold a record value.
 */
import t from 'tap';
import path from 'node:path';
import { Errors } from '../../protocol/errors.js';
import { decodeBatch } from '../../protocol/batch/reader.js';
import { parseKeyring } from '../../broker/storage/encryption/key-provider.js';
import type { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { ReplicationRig } from '../support/replication-rig.js';

const TOPIC = 'vault';
const keys = parseKeyring(`k1=${Buffer.alloc(32, 7).toString('base64')}`, 'rig keyring');

async function segmentBytes(fs: SimulatedFileSystem, dir: string): Promise<Buffer> {
  const names = (await fs.readdir(dir)).filter((name) => name.endsWith('.log')).sort();
  return Buffer.concat(await Promise.all(names.map(async (name) => Buffer.from(await fs.readFile(path.join(dir, name))))));
}

t.test('three replicas of an encrypted topic: each seals on its own disk, all read back the same records', async (t) => {
  const rig = await ReplicationRig.create([1, 2, 3], { keys });
  t.teardown(() => rig.close());
  await rig.createTopic(TOPIC, [[1, 2, 3]], { 'encryption.enabled': 'true', 'segment.bytes': '2048' });
  for (let i = 0; i < 12; i++) {
    t.equal((await rig.world.settle(rig.produce(1, TOPIC, [`SECRET-${i}-${'x'.repeat(200)}`], { acks: -1 }))).errorCode, Errors.NONE.code);
  }
  t.ok(await rig.until(() => [1, 2, 3].every((id) => rig.partition(id, TOPIC).highWatermark === 12)), 'every replica has the twelve records committed');

  /** Every record value's first two words, read a segment at a time (bounded). */
  const read = async (id: number): Promise<string[]> => {
    const log = rig.log(id, TOPIC);
    const values: string[] = [];
    for (let offset = 0, rounds = 0; offset < log.logEndOffset && rounds < 100; rounds++) {
      const { records } = await rig.world.settle(log.read(offset, 1 << 20));
      for (const batch of records) {
        for (const r of decodeBatch(batch, 0).records) {
          values.push(Buffer.from(r.value ?? []).toString().split('-').slice(0, 2).join('-'));
          offset = r.offset + 1;
        }
      }
    }
    return values;
  };
  const expected = Array.from({ length: 12 }, (_, i) => `SECRET-${i}`);
  const disks: Buffer[] = [];
  for (const id of [1, 2, 3]) {
    t.same(await read(id), expected, `replica ${id} reads every record`);
    const bytes = await segmentBytes(rig.nodes.get(id)!.fs, rig.log(id, TOPIC).dir);
    t.ok(bytes.byteLength > 12 * 200 && !bytes.includes('SECRET-'), `replica ${id}: ${bytes.byteLength} bytes on disk, no record value among them`);
    disks.push(bytes);
  }
  t.not(disks[1]!.toString('hex'), disks[2]!.toString('hex'), 'two followers wrote the same batches under different nonces (each broker seals its own copy)');

  // A follower restarted catches up through the same path; then it leads.
  await rig.stop(3);
  for (let i = 12; i < 16; i++) t.equal((await rig.world.settle(rig.produce(1, TOPIC, [`SECRET-${i}-${'x'.repeat(200)}`], { acks: 1 }))).errorCode, Errors.NONE.code);
  await rig.restart(3);
  t.ok(await rig.until(() => rig.log(3, TOPIC).logEndOffset === 16), 'the restarted follower caught up');
  t.same(await read(3), Array.from({ length: 16 }, (_, i) => `SECRET-${i}`), 'and reads everything, old segments and new');
  t.notOk((await segmentBytes(rig.nodes.get(3)!.fs, rig.log(3, TOPIC).dir)).includes('SECRET-'));
});
