/**
 * Every bug the simulation found, kept with its seed: each seed failed
 * before its fix and passes after (the invariant it broke is named). A
 * change to the scenario changes what a seed runs, so each entry names
 * seeds that fail without the fix in the scenario as it is now (checked by
 * reverting the fix), and the seeds that first found it.
 *
 * - Seeds 132 (`committed-never-changes`) and 199 (`acked-is-committed`);
 *   found as seeds 300 and 328 (`hw-never-goes-back`) of the first scenario:
 *   a broker lost power and restarted before the controller had fenced its
 *   old incarnation (the session's end and the new registration raced in the
 *   controller's queue, and a registration found the old one unfenced); the
 *   controller registered it without moving its leaderships, so it led on in
 *   the old epoch with a log that had lost its unsynced tail, and its
 *   followers truncated committed records to match. Fixed in
 *   broker/controller/controller.ts `registerBroker`.
 */
import t from 'tap';
import { runSeed } from './scenario.js';

for (const seed of [132, 199]) {
  t.test(`seed ${seed}: a broker restarted before its fencing does not lead on in its old epoch`, async (t) => {
    const result = await runSeed(seed);
    t.ok(result.acked > 0, `${result.acked} records acknowledged, all consumed at their offsets after the faults`);
  });
}
