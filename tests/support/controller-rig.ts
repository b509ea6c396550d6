/**
 * A Controller on a ManualClock over the `local` store on a simulated disk,
 * with brokers that register and heartbeat by hand (no broker processes):
 * for tests of the controller's decisions (sessions, elections).
 */
import type { Test } from 'tap';
import { brokerConfig } from '../../broker/config.js';
import { Controller } from '../../broker/controller/controller.js';
import { silentLogger } from '../../broker/log.js';
import { LocalMetadataStore } from '../../broker/metadata/local-store.js';
import { ManualClock } from '../../broker/world/clock.js';
import { SimulatedFileSystem } from '../../broker/world/file-system.js';
import { seededRng } from '../../broker/world/rng.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** `settings`: the controller's broker settings (e.g. `log.*` topic defaults). */
export async function controllerRig(t: Test, settings: Record<string, string | number> = {}) {
  const clock = new ManualClock();
  const config = brokerConfig({ 'data.dir': '/meta', 'node.id': 0, ...settings });
  const store = await LocalMetadataStore.open({ dataDir: '/meta', fs: new SimulatedFileSystem(), clock, localNodeId: 0 });
  await store.commit([{ kind: 'clusterCreated', clusterId: 'cluster-a' }]);
  const controller = new Controller({ store, config, rng: seededRng(3), logger: silentLogger(), local: null, clock });
  t.teardown(async () => {
    await controller.close();
    await store.close();
  });
  const epochs = new Map<number, number>();
  const register = async (id: number, incarnationId = `inc-${id}`) => {
    const { brokerEpoch } = await controller.registerBroker({ brokerId: id, clusterId: '', incarnationId, host: '127.0.0.1', port: 9100 + id, rack: null });
    epochs.set(id, brokerEpoch);
    return brokerEpoch;
  };
  const heartbeat = (id: number) => controller.heartbeat({ brokerId: id, brokerEpoch: epochs.get(id)!, metadataVersion: store.image.version });
  /** Moves time `ms` in 500 ms steps; `alive` heartbeat at each step. */
  const run = async (ms: number, alive: number[]) => {
    for (let elapsed = 0; elapsed < ms; elapsed += 500) {
      for (const id of alive) await heartbeat(id);
      clock.advance(500);
      for (let i = 0; i < 5; i++) await tick();
    }
  };
  return { clock, store, controller, epochs, register, heartbeat, run };
}
