/** A broken invariant or a missed liveness deadline in a simulated run: names the seed, the step and the invariant. */
export class SimulationFailure extends Error {
  override name = 'SimulationFailure';
  constructor(
    readonly seed: number,
    readonly step: number,
    readonly atMs: number,
    readonly invariant: string,
    readonly detail: string,
  ) {
    super(`seed ${seed} step ${step} (t=${atMs} ms): invariant ${invariant} broken: ${detail} (replay: npm run simulate -- --seed ${seed} --trace)`);
  }
}
