/**
 * The leader epoch a client states per partition (`currentLeaderEpoch`, in
 * Fetch and ListOffsets from v1), which `ReplicaManager.partitionOrError`
 * checks against the partition's own. Versions without the field, like a
 * client that sends -1, ask for no check.
 */
export const EPOCH_NOT_CHECKED = -1;

export function currentLeaderEpochOf(entry: object): number {
  return 'currentLeaderEpoch' in entry && typeof entry.currentLeaderEpoch === 'number' ? entry.currentLeaderEpoch : EPOCH_NOT_CHECKED;
}
