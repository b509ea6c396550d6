/**
 * One step of a follower's search for where its log parts from the
 * leader's (KIP-101 / KIP-279), pure so the fetcher and the storage tests'
 * model fetcher share it. The follower asked the leader about its epoch
 * and got `answer` (the leader's largest epoch at or below it, and where
 * that ends); `mine` is the follower's own end of the answered epoch.
 * - The leader knows no such epoch (`answer.endOffset` < 0): cut to
 *   `fallback` (what the caller knows is shared) and stop.
 * - The follower has the answered epoch: cut to the lower of the two ends
 *   and stop.
 * - It does not: cut to where its own older epoch ends and ask about that
 *   one next (`next`; -1 when it has none older: stop).
 */
export interface EpochEnd {
  epoch: number;
  endOffset: number;
}

export function divergenceStep(target: number, answer: EpochEnd, mine: EpochEnd, fallback: number): { target: number; next: number } {
  if (answer.endOffset < 0) return { target: Math.min(target, fallback), next: -1 };
  if (mine.epoch === answer.epoch) return { target: Math.min(target, answer.endOffset, mine.endOffset), next: -1 };
  return { target: Math.min(target, mine.endOffset < 0 ? 0 : mine.endOffset), next: mine.epoch };
}
