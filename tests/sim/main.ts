/**
 * `npm run simulate -- [--seeds N] [--from S] [--seed S] [--trace] [--until-failure] [--faults kill,pause,...] [--groups] [--share]`:
 * runs seeds of the whole-cluster simulation (scenario.ts) and prints, at the
 * end, the seeds run, seeds per second and the simulated hours covered. A
 * failing seed prints itself with the command that replays it; `--trace`
 * prints every traced event of the run (and its hash) as it happens;
 * `--until-failure` stops at the first failing seed (how many seeds a
 * planted bug takes to be caught); `--groups` adds a consumer group to
 * every seed (group-members.ts), `--share` a share group (share-members.ts).
 */
import { SimulationFailure } from './failure.js';
import { runSeeds } from './soak.js';
import type { FaultKind } from './faults.js';

function argValue(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
}

const args = process.argv.slice(2);
const one = argValue(args, '--seed');
const count = Number(argValue(args, '--seeds') ?? (one === undefined ? 100 : 1));
const from = Number(one ?? argValue(args, '--from') ?? 1);
const trace = args.includes('--trace');
const untilFailure = args.includes('--until-failure');
const groups = args.includes('--groups');
const share = args.includes('--share');
const kinds = argValue(args, '--faults')?.split(',') as FaultKind[] | undefined;
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(from)) {
  process.stderr.write('usage: npm run simulate -- [--seeds N] [--from S] [--seed S] [--trace] [--until-failure] [--faults kill,power,pause,isolate,cut,fsync,full,bitflip,clock] [--groups] [--share]\n');
  process.exit(2);
}

const summary = await runSeeds({ from, count, stopAtFirstFailure: untilFailure, groups, share, print: trace ? (line) => process.stdout.write(`${line}\n`) : null, ...(kinds === undefined ? {} : { kinds }), onSeed: (r) => { if (trace || count === 1) process.stdout.write(`seed ${r.seed}: hash ${r.hash}, ${r.steps} steps, ${r.simulatedMs} simulated ms, ${r.acked} acked${groups ? `, ${r.commits} offset commits` : ''}${share ? `, ${r.handouts} handouts, ${r.accepted} accepted, ${r.deadLetters} dead letters` : ''}\n`); } });
for (const failure of summary.failures) process.stdout.write(`FAIL ${failure instanceof SimulationFailure ? failure.message : String(failure)}\n`);
process.stdout.write(`${summary.line}\n`);
process.exit(summary.failures.length === 0 ? 0 : 1);
