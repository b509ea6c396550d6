/**
 * The consumer-group benchmark (issue 9): figures only, never a verdict (it
 * prints the issue's goals beside them). One single-node broker process,
 * started with the group heartbeat interval and session timeout it prints;
 * the SDK's consumers run in this process, each a for-await loop as an app
 * would write it (over messages; `--iterate batches` over batches). In one
 * process because the gaps of interest are hundreds of milliseconds to
 * seconds, and on a 2-core machine more processes would not run any more at
 * once; its worst event-loop stall in each window is printed beside the
 * gaps, so a gap the bench caused itself shows. Each figure is the median of `--runs` runs, with min..max:
 *
 *   - join: 3 members of a group consume a 6-partition topic that a producer
 *     writes at a steady `--rate` throughout; once the group is stable and
 *     records flow, a 4th member joins, each run at another point of the
 *     members' heartbeat cycle. Per member that kept partitions, the
 *     largest gap between consecutive records in the `--window-seconds`
 *     before the join (the normal fetch interval) and from the join until the
 *     group is stable again plus the window; the newcomer's latency from
 *     `subscribe` to its first record, with its steps (the old owners
 *     releasing, the newcomer being assigned); the time until every member
 *     holds its share (the SDK's events) and until the coordinator says
 *     Stable (describeGroups).
 *   - static: 3 static members (groupInstanceId); one closes and a new
 *     consumer with the same instance id starts, as a restart would: the
 *     others' largest gap, the restarted member's close-to-first-record time,
 *     and whether any partition moved (events and describeGroups). It stays
 *     away `--restart-delay-ms`, by default a heartbeat interval and a bit:
 *     a restart at once would keep its partitions even as a dynamic member
 *     (the others would not have heartbeated meanwhile), so it would not
 *     show what static membership adds.
 *   - throughput: a preloaded 6-partition topic (`--records` of 100 B) read
 *     completely by 3 consumers handed 2 partitions each without a group
 *     (assign), and by a group of 3, alternating run by run. Like Kafka's
 *     consumer perf tool, the group's join is timed apart from its fetching:
 *     its members hold (pause) their partitions until the group is stable,
 *     and records/s counts from then; the join-inclusive rate is printed too,
 *     and CPU microseconds per record (this process and the broker's).
 *     A pass reads well over a million records a second here, so the default
 *     2M records make a pass last a second or more: with 600k (0.3 s) the
 *     connections and start lookups of the assigned side and a neighbour's
 *     burst on this shared machine swung single runs by 2x.
 *
 * Every run counts each record consumed (offset by offset): a run that
 * missed one is a failed run, printed as such and left out of the figures.
 *
 *   npm run build && node dist/bench/groups.js [--runs N] [--rate R] [--window-seconds S] [--records N]
 *       [--heartbeat-ms N] [--restart-delay-ms N] [--iterate messages|batches] [--only join,static,throughput]
 *       [--quick] [--json]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { brokerSettingDef } from '../broker/config.js';
import { Runnel } from '../client/index.js';
import { isMainModule } from '../tools/main-module.js';
import { runProducePerf } from '../tools/perf/produce-perf.js';
import { benchArgs, fixed, freshTopic, perRecordCpu, startBroker } from './bench-support.js';
import { BenchMember } from './bench-member.js';
import { closeAll, describeFigure, repeat, waitFor, type Figure as BaseFigure, type Log, type RunCheck } from './bench-runs.js';
import { describeCheck, OffsetTally, type TallyCheck } from './offset-tally.js';
import { startPacedProducer } from './paced-producer.js';

const PARTITIONS = 6;
const MEMBERS = 3;
const RECORD_BYTES = 100;
/** Bounds on every wait: a group that does not form or drain in this long fails the run. */
const STABLE_TIMEOUT_MS = 60_000;
/** Consumers that receive nothing new for this long will not reach the end: the run fails. */
const DRAIN_IDLE_MS = 5_000;
/** After the group forms, before the baseline window: the members' first fetches (from offset 0) catch up. */
const SETTLE_MS = 1_000;
const COORDINATOR_POLL_MS = 100;
const SCENARIOS = ['join', 'static', 'throughput'] as const;
type Scenario = (typeof SCENARIOS)[number];

const HEARTBEAT_SETTING = 'group.consumer.heartbeat.interval.ms';
const SESSION_SETTING = 'group.consumer.session.timeout.ms';

const USAGE = `Usage: node dist/bench/groups.js [options]   (build first: npm run build)

Starts a single-node broker and measures consumer groups (medians of --runs runs, min..max):
the pause of members when a 4th joins a group of 3 under load and the newcomer's latency,
a static member's restart, and consume throughput through a group vs assigned partitions.

Options:
  --runs N              runs per scenario; default 3 (env BENCH_RUNS)
  --rate R              records/s the producer writes during join and static; default 5000
  --window-seconds S    the gap windows (before the change, and after the group is stable again); default 3
  --records N           100 B records preloaded for the throughput runs; default 2000000 (env BENCH_RECORDS)
  --heartbeat-ms N      the broker's ${HEARTBEAT_SETTING}; default its own default
  --restart-delay-ms N  how long the static member is away before it restarts; default the
                        heartbeat interval + 500 (every other member heartbeats while it is away)
  --iterate WHAT        messages (default: for await (const m of consumer)) or batches (consumer.batches())
  --only LIST           some of ${SCENARIOS.join(',')}
  --quick               smoke run: small counts, one run, 1 s windows
  --json                progress to stderr, one JSON summary on the last line of stdout
  -h, --help            this text`;

interface Settings {
  runs: number;
  rate: number;
  windowMs: number;
  records: number;
  heartbeatMs: number;
  sessionTimeoutMs: number;
  /** How long the static member is away between close and its new consumer. */
  restartDelayMs: number;
  /** Consumers iterate batches rather than messages. */
  batches: boolean;
  only: Scenario[];
  json: boolean;
}

type Figure = BaseFigure<Scenario>;

/** Every partition owned by exactly one member, and each member holding its share (the SDK's view, from events). */
function sharesHeld(members: readonly BenchMember[]): boolean {
  const owners = new Array<number>(PARTITIONS).fill(0);
  for (const m of members) for (const p of m.owned) owners[p]! += 1;
  if (owners.some((n) => n !== 1)) return false;
  const low = Math.floor(PARTITIONS / members.length);
  return members.every((m) => m.owned.size >= low && m.owned.size <= Math.ceil(PARTITIONS / members.length));
}

function lastChangeMs(members: readonly BenchMember[]): number {
  return Math.max(...members.flatMap((m) => m.changes.map((c) => c.atMs)));
}

/** When describeGroups first shows the group Stable with `members` members owning every partition once (polled; null on timeout). */
async function coordinatorStable(runnel: Runnel, groupId: string, members: number, sinceMs: number): Promise<number | null> {
  const deadline = sinceMs + STABLE_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const [d] = await runnel.admin().describeGroups([groupId]);
    const owned = d?.members.flatMap((m) => m.assignment.map((tp) => tp.partition)) ?? [];
    const settled = d?.members.every((m) => JSON.stringify(m.assignment) === JSON.stringify(m.targetAssignment)) ?? false;
    if (d?.state === 'Stable' && d.members.length === members && settled && owned.length === PARTITIONS && new Set(owned).size === PARTITIONS) return performance.now();
    await sleep(COORDINATOR_POLL_MS);
  }
  return null;
}

/** Each static member's partitions as the coordinator has them. */
async function assignmentByInstance(runnel: Runnel, groupId: string): Promise<Map<string, string>> {
  const [d] = await runnel.admin().describeGroups([groupId]);
  return new Map((d?.members ?? []).map((m) => [m.instanceId ?? m.memberId, m.assignment.map((tp) => tp.partition).join(',')]));
}

async function partitionEnds(runnel: Runnel, topic: string): Promise<number[]> {
  const offsets = await runnel.admin().listOffsets(topic);
  return offsets.sort((a, b) => a.partition - b.partition).map((o) => o.latest);
}

/** Waits (bounded) until the consumers have everything below the partitions' ends, then counts. */
async function drainAndCheck(runnel: Runnel, topic: string, tally: OffsetTally): Promise<TallyCheck> {
  const ends = await partitionEnds(runnel, topic);
  await tally.whenDistinct(ends.reduce((a, b) => a + b, 0), DRAIN_IDLE_MS);
  return tally.check(ends);
}

function ok(check: TallyCheck): boolean {
  return check.missing === 0 && check.distinct === check.expected;
}

/** A run counts when its consumers had every record (duplicates are printed, not failed: a consumer may read a record again). */
const RECORDS_CONSUMED: RunCheck = { passed: ok, failure: 'records missing' };

/** This process's worst event-loop stall while `work` runs: a gap no larger than it may be the bench's own doing. */
async function withLoopDelay<T>(work: () => Promise<T>): Promise<{ result: T; loopDelayMaxMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  try {
    const result = await work();
    return { result, loopDelayMaxMs: histogram.max / 1e6 };
  } finally {
    histogram.disable();
  }
}

const runNumbers = (runs: number): number[] => Array.from({ length: runs }, (_, i) => i + 1);

const ms = (value: number | null): string => (value === null ? 'none' : `${fixed(value, 0)} ms`);

interface JoinRun {
  check: TallyCheck;
  keptGapBeforeMs: number;
  keptGapDuringMs: number;
  newcomerFirstRecordMs: number;
  releasedMs: number;
  newcomerAssignedMs: number;
  sharesHeldMs: number;
  coordinatorStableMs: number | null;
  loopDelayMaxMs: number;
  /** The extra wait before the join (its point in the heartbeat cycle). */
  phaseMs: number;
  detail: string;
}

/** What a run under load shares: a fresh topic the steady producer writes, its group, its tally, and the members to close. */
interface Loaded {
  topic: string;
  groupId: string;
  tally: OffsetTally;
  /** The members `body` started and has not closed: closed at the end, however the run ends. */
  live: BenchMember[];
}

/**
 * Runs `body` on a fresh topic under the steady producer; then stops the
 * producer, lets the consumers reach every partition's end, and counts.
 */
async function underLoad<T>(runnel: Runnel, s: Settings, name: string, body: (l: Loaded) => Promise<T>): Promise<T & { check: TallyCheck }> {
  const topic = await freshTopic(runnel, PARTITIONS);
  const loaded: Loaded = { topic, groupId: `gbench-${name}-${Date.now()}`, tally: new OffsetTally(), live: [] };
  const producer = startPacedProducer(runnel, topic, PARTITIONS, s.rate, RECORD_BYTES);
  let producing = true;
  try {
    const result = await body(loaded);
    producing = false;
    await producer.stop();
    return { ...result, check: await drainAndCheck(runnel, topic, loaded.tally) };
  } finally {
    if (producing) await producer.stop().catch(() => undefined);
    await closeAll(loaded.live);
    await runnel.admin().deleteTopic(topic);
  }
}

function joinRun(runnel: Runnel, s: Settings, run: number): Promise<JoinRun> {
  return underLoad(runnel, s, `join-${run}`, async ({ topic, groupId, tally, live: members }) => {
    for (let i = 0; i < MEMBERS; i++) members.push(BenchMember.subscribe(runnel, { name: `m${i + 1}`, topic, groupId, tally, recordTimes: true, batches: s.batches }));
    await waitFor(() => sharesHeld(members), STABLE_TIMEOUT_MS, `a group of ${MEMBERS} on ${PARTITIONS} partitions`);
    // The old owners learn what to give up at their next heartbeat, whose phase the formation fixed: each run joins
    // at another point of that cycle (run r waits (r-1)/runs of an interval more), so the runs span it.
    const phaseMs = (s.heartbeatMs * (run - 1)) / s.runs;
    await sleep(SETTLE_MS + s.windowMs + phaseMs);
    const ownedAtJoin = members.map((m) => new Set(m.owned));
    const joinAt = performance.now();
    const { result, loopDelayMaxMs } = await withLoopDelay(async () => {
      const newcomer = BenchMember.subscribe(runnel, { name: `m${MEMBERS + 1}`, topic, groupId, tally, recordTimes: true, batches: s.batches });
      members.push(newcomer);
      const coordinator = coordinatorStable(runnel, groupId, MEMBERS + 1, joinAt);
      await waitFor(() => sharesHeld(members) && newcomer.firstRecordAtMs !== null, STABLE_TIMEOUT_MS, 'the 4th member holding its share and receiving records');
      const stableAt = lastChangeMs(members);
      const coordinatorAt = await coordinator;
      const endAt = performance.now() + s.windowMs;
      await sleep(s.windowMs);
      return { newcomer, stableAt, coordinatorAt, endAt };
    });
    const { newcomer, stableAt, coordinatorAt, endAt } = result;
    const old = members.slice(0, MEMBERS);
    const kept = old.filter((m, i) => [...ownedAtJoin[i]!].some((p) => m.owned.has(p)));
    const before = kept.map((m) => m.maxGapMs(joinAt - s.windowMs, joinAt) ?? Infinity);
    const duringGaps = kept.map((m) => m.largestGap(joinAt, endAt));
    const during = duringGaps.map((g) => g?.ms ?? Infinity);
    const released = old.flatMap((m) => m.changesBetween(joinAt, endAt)).filter((c) => c.kind === 'revoked').map((c) => c.atMs);
    const assigned = newcomer.changes.filter((c) => c.kind === 'assigned').map((c) => c.atMs);
    return {
      keptGapBeforeMs: Math.max(...before),
      keptGapDuringMs: Math.max(...during),
      newcomerFirstRecordMs: newcomer.firstRecordAtMs! - joinAt,
      releasedMs: released.length === 0 ? 0 : Math.max(...released) - joinAt,
      newcomerAssignedMs: Math.max(...assigned) - joinAt,
      sharesHeldMs: stableAt - joinAt,
      coordinatorStableMs: coordinatorAt === null ? null : coordinatorAt - joinAt,
      loopDelayMaxMs,
      phaseMs,
      // Where in the rebalance the largest gap began tells a pause of the member from a stall of everything.
      detail: kept.map((m, i) => `${m.name} ${before[i]!.toFixed(0)}->${during[i]!.toFixed(0)} ms (at +${fixed((duringGaps[i]?.atMs ?? joinAt) - joinAt, 0)})`).join(', '),
    };
  });
}

interface StaticRun {
  check: TallyCheck;
  othersGapBeforeMs: number;
  othersGapDuringMs: number;
  closeMs: number;
  restartedGapMs: number;
  /** From the new consumer's subscribe to its first record. */
  rejoinMs: number;
  moved: string[];
  loopDelayMaxMs: number;
}

function staticRun(runnel: Runnel, s: Settings, run: number): Promise<StaticRun> {
  return underLoad(runnel, s, `static-${run}`, async ({ topic, groupId, tally, live }) => {
    const member = (i: number, name: string): BenchMember => BenchMember.subscribe(runnel, { name, topic, groupId, instanceId: `static-${i}`, tally, recordTimes: true, batches: s.batches });
    const members = Array.from({ length: MEMBERS }, (_, i) => member(i, `s${i + 1}`));
    live.push(...members);
    await waitFor(() => sharesHeld(members), STABLE_TIMEOUT_MS, `a group of ${MEMBERS} static members`);
    await sleep(SETTLE_MS + s.windowMs);
    const coordinatorBefore = await assignmentByInstance(runnel, groupId);
    const leaving = members[MEMBERS - 1]!;
    const ownedBefore = [...leaving.owned].sort().join(',');
    const others = members.slice(0, MEMBERS - 1);
    const restartAt = performance.now();
    const { result, loopDelayMaxMs } = await withLoopDelay(async () => {
      await leaving.close();
      live.splice(live.indexOf(leaving), 1);
      const closedAt = performance.now();
      // Away for longer than a heartbeat interval, as a process restart is: a dynamic member's partitions would move meanwhile.
      await sleep(s.restartDelayMs);
      const restarted = member(MEMBERS - 1, `s${MEMBERS}'`);
      live.push(restarted);
      await waitFor(() => restarted.firstRecordAtMs !== null && sharesHeld([...others, restarted]), STABLE_TIMEOUT_MS, 'the restarted static member receiving records');
      const endAt = performance.now() + s.windowMs;
      await sleep(s.windowMs);
      return { restarted, closedAt, endAt };
    });
    const { restarted, closedAt, endAt } = result;
    const moved: string[] = [];
    for (const m of others) if (m.changesBetween(restartAt, endAt).length > 0) moved.push(`${m.name} changed ownership`);
    const ownedAfter = [...restarted.owned].sort().join(',');
    if (ownedAfter !== ownedBefore) moved.push(`restarted member owns ${ownedAfter}, had ${ownedBefore}`);
    const coordinatorAfter = await assignmentByInstance(runnel, groupId);
    for (const [instance, partitions] of coordinatorBefore) {
      if (coordinatorAfter.get(instance) !== partitions) moved.push(`coordinator: ${instance} ${partitions} -> ${coordinatorAfter.get(instance) ?? 'gone'}`);
    }
    return {
      othersGapBeforeMs: Math.max(...others.map((m) => m.maxGapMs(restartAt - s.windowMs, restartAt) ?? Infinity)),
      othersGapDuringMs: Math.max(...others.map((m) => m.maxGapMs(restartAt, endAt) ?? Infinity)),
      closeMs: closedAt - restartAt,
      restartedGapMs: restarted.firstRecordAtMs! - restartAt,
      rejoinMs: restarted.firstRecordAtMs! - restarted.startedAtMs,
      moved,
      loopDelayMaxMs,
    };
  });
}

interface ThroughputRun {
  mode: 'assigned' | 'group';
  check: TallyCheck;
  recordsPerSec: number;
  /** Group runs: from subscribe, the join included. */
  withJoinRecordsPerSec: number | null;
  joinMs: number | null;
  /** Group runs: records consumed before the group was stable (held partitions: 0 expected). */
  beforeRelease: number;
  /** CPU microseconds per record while the records were read: this process's and the broker's (null without /proc). */
  cpu: { client: number; broker: number | null };
}

async function throughputRun(runnel: Runnel, read: { topic: string; total: number; brokerPid: number | undefined; batches: boolean }, mode: ThroughputRun['mode'], run: number): Promise<ThroughputRun> {
  const { topic, total, batches } = read;
  const tally = new OffsetTally();
  const startedAt = performance.now();
  const perMember = PARTITIONS / MEMBERS;
  const groupId = `gbench-tput-${run}-${Date.now()}`;
  const members = Array.from({ length: MEMBERS }, (_, i) => mode === 'assigned'
    ? BenchMember.assign(runnel, topic, Array.from({ length: perMember }, (_, k) => i * perMember + k), { name: `a${i + 1}`, tally, recordTimes: false, batches })
    : BenchMember.subscribe(runnel, { name: `g${i + 1}`, topic, groupId, tally, recordTimes: false, holdPartitions: true, batches }));
  try {
    let releasedAt = startedAt;
    let beforeRelease = 0;
    if (mode === 'group') {
      await waitFor(() => sharesHeld(members), STABLE_TIMEOUT_MS, `a group of ${MEMBERS} on ${PARTITIONS} partitions`);
      beforeRelease = tally.distinct;
      releasedAt = performance.now();
      for (const m of members) m.release();
    }
    // CPU counts too: steadier than records/s when neighbours share the cores.
    const { result: complete, cpu } = await perRecordCpu(read.brokerPid, total, () => tally.whenDistinct(total, DRAIN_IDLE_MS));
    const doneAt = performance.now();
    const check = tally.check(await partitionEnds(runnel, topic));
    if (!complete) check.missing = Math.max(check.missing, total - tally.distinct);
    return {
      mode,
      check,
      recordsPerSec: (total * 1000) / (doneAt - releasedAt),
      withJoinRecordsPerSec: mode === 'group' ? (total * 1000) / (doneAt - startedAt) : null,
      joinMs: mode === 'group' ? releasedAt - startedAt : null,
      beforeRelease,
      cpu,
    };
  } finally {
    await closeAll(members);
  }
}

async function joinFigures(runnel: Runnel, s: Settings, log: Log): Promise<Figure[]> {
  log(`join: ${MEMBERS} members on ${PARTITIONS} partitions at ${s.rate} records/s, then a ${MEMBERS + 1}th joins; gaps per member that kept partitions (before -> during)`);
  const runs = await repeat(log, RECORDS_CONSUMED, 'join', runNumbers(s.runs), (run) => joinRun(runnel, s, run), (r) =>
    `join ${fixed(r.phaseMs, 0)} ms later in the cycle; ${r.detail}; newcomer: old owners released by +${fixed(r.releasedMs, 0)}, assigned +${fixed(r.newcomerAssignedMs, 0)}, first record +${fixed(r.newcomerFirstRecordMs, 0)} ms; shares held +${fixed(r.sharesHeldMs, 0)}, coordinator Stable ${r.coordinatorStableMs === null ? 'not seen' : `+${fixed(r.coordinatorStableMs, 0)}`} ms; loop delay max ${ms(r.loopDelayMaxMs)}`);
  const f = (name: string, pick: (r: JoinRun) => number | null, goal?: string): Figure => ({ scenario: 'join', name, unit: 'ms', values: runs.map(pick).filter((v): v is number => v !== null), ...(goal === undefined ? {} : { goal }) });
  return [
    f('kept members, largest gap before the join', (r) => r.keptGapBeforeMs, 'the normal fetch interval'),
    f('kept members, largest gap from join to stable + window', (r) => r.keptGapDuringMs, 'no gap above the normal fetch interval'),
    f('newcomer, subscribe to first record', (r) => r.newcomerFirstRecordMs, '< 1000 ms'),
    f('newcomer, subscribe to partitions assigned', (r) => r.newcomerAssignedMs),
    f('join to every member holding its share', (r) => r.sharesHeldMs),
    f('join to coordinator Stable (describeGroups)', (r) => r.coordinatorStableMs),
    f('bench event loop, worst delay in the window', (r) => r.loopDelayMaxMs),
  ];
}

async function staticFigures(runnel: Runnel, s: Settings, log: Log): Promise<Figure[]> {
  log(`static: ${MEMBERS} static members (groupInstanceId) at ${s.rate} records/s; one closes and, ${s.restartDelayMs} ms later, restarts with the same instance id`);
  const runs = await repeat(log, RECORDS_CONSUMED, 'static', runNumbers(s.runs), (run) => staticRun(runnel, s, run), (r) =>
    `others' gap ${fixed(r.othersGapBeforeMs, 0)}->${fixed(r.othersGapDuringMs, 0)} ms; restarted: close ${fixed(r.closeMs, 0)} ms, first record +${fixed(r.restartedGapMs, 0)} ms (${fixed(r.rejoinMs, 0)} after its subscribe); ${r.moved.length === 0 ? 'no partition moved' : `MOVED: ${r.moved.join('; ')}`}; loop delay max ${ms(r.loopDelayMaxMs)}`);
  const f = (name: string, pick: (r: StaticRun) => number, goal?: string): Figure => ({ scenario: 'static', name, unit: 'ms', values: runs.map(pick), ...(goal === undefined ? {} : { goal }) });
  return [
    f('other members, largest gap before the restart', (r) => r.othersGapBeforeMs, 'the normal fetch interval'),
    f('other members, largest gap from restart to stable + window', (r) => r.othersGapDuringMs, 'no gap above the normal fetch interval'),
    f('restarted member, close to first record (incl. the delay)', (r) => r.restartedGapMs),
    f('restarted member, subscribe to first record', (r) => r.rejoinMs),
    f('restarted member, close() alone', (r) => r.closeMs),
    { scenario: 'static', name: 'runs in which a partition moved', unit: 'runs', values: [runs.filter((r) => r.moved.length > 0).length], goal: '0' },
  ];
}

async function throughputFigures(runnel: Runnel, s: Settings, log: Log, quick: boolean, brokerPid: number | undefined): Promise<Figure[]> {
  const topic = await freshTopic(runnel, PARTITIONS);
  try {
    await runProducePerf(runnel, { topic, numRecords: s.records, recordSize: RECORD_BYTES, producer: { acks: 1 } });
    const ends = await partitionEnds(runnel, topic);
    const total = ends.reduce((a, b) => a + b, 0);
    const read = { topic, total, brokerPid, batches: s.batches };
    log(`throughput: ${total} records of ${RECORD_BYTES} B on ${PARTITIONS} partitions (${ends.join(', ')}), read by ${MEMBERS} consumers: assigned (${PARTITIONS / MEMBERS} partitions each, no group) vs a group, alternating`);
    // Warm-up (full runs): JIT, the page cache, the connections; not counted.
    if (!quick) await throughputRun(runnel, read, 'assigned', 0);
    const byMode = { assigned: [] as ThroughputRun[], group: [] as ThroughputRun[] };
    for (let run = 1; run <= s.runs; run++) {
      const order: ThroughputRun['mode'][] = run % 2 === 1 ? ['assigned', 'group'] : ['group', 'assigned'];
      const pair = async (): Promise<{ check: TallyCheck; out: ThroughputRun[] }> => {
        const out: ThroughputRun[] = [];
        for (const mode of order) out.push(await throughputRun(runnel, read, mode, run));
        // The pair fails as a whole: its ratio needs both.
        return { check: out.find((r) => !ok(r.check))?.check ?? out[0]!.check, out };
      };
      const good = await repeat(log, RECORDS_CONSUMED, 'throughput', [run], pair, ({ out }) => out.map((r) => `${r.mode} ${fixed(r.recordsPerSec, 0)} rec/s, cpu ${fixed(r.cpu.client, 2)} us/rec here${r.cpu.broker === null ? '' : ` + ${fixed(r.cpu.broker, 2)} broker`} (${describeCheck(r.check)}${r.joinMs === null ? '' : `; join ${fixed(r.joinMs, 0)} ms, ${fixed(r.withJoinRecordsPerSec!, 0)} rec/s with it, ${r.beforeRelease} read before the group was stable`})`).join('; '));
      for (const { out } of good) for (const r of out) byMode[r.mode].push(r);
    }
    const ratios = byMode.group.map((g, i) => (100 * g.recordsPerSec) / byMode.assigned[i]!.recordsPerSec);
    const f = (name: string, unit: string, values: number[], goal?: string): Figure => ({ scenario: 'throughput', name, unit, values, ...(goal === undefined ? {} : { goal }) });
    return [
      f('assigned partitions, no group', 'rec/s', byMode.assigned.map((r) => r.recordsPerSec)),
      f('group of 3, from stable', 'rec/s', byMode.group.map((r) => r.recordsPerSec)),
      f('group of 3, from subscribe (join included)', 'rec/s', byMode.group.map((r) => r.withJoinRecordsPerSec!)),
      f('group join, subscribe to stable', 'ms', byMode.group.map((r) => r.joinMs!)),
      f('group / assigned, run by run', '%', ratios, '>= 90 %'),
      f('assigned, CPU of this process', 'us/rec', byMode.assigned.map((r) => r.cpu.client)),
      f('group of 3, CPU of this process', 'us/rec', byMode.group.map((r) => r.cpu.client)),
      ...(brokerCpu(byMode.assigned) === null || brokerCpu(byMode.group) === null ? [] : [
        f('assigned, CPU of the broker', 'us/rec', brokerCpu(byMode.assigned)!),
        f('group of 3, CPU of the broker', 'us/rec', brokerCpu(byMode.group)!),
      ]),
    ];
  } finally {
    await runnel.admin().deleteTopic(topic);
  }
}

/** Every run's broker CPU per record, or null when a run had none (no /proc). */
function brokerCpu(runs: readonly ThroughputRun[]): number[] | null {
  const values = runs.map((r) => r.cpu.broker);
  return values.every((v): v is number => v !== null) ? values : null;
}

async function runBench(s: Settings, quick: boolean): Promise<void> {
  const log: Log = (line) => (s.json ? process.stderr : process.stdout).write(`${line}\n`);
  const startedMs = performance.now();
  const brokerArgs = ['--set', `${HEARTBEAT_SETTING}=${s.heartbeatMs}`, '--set', `${SESSION_SETTING}=${s.sessionTimeoutMs}`];
  log(`# runnel consumer-group bench: one broker (${brokerArgs.filter((a) => a !== '--set').join(' ')}), ${s.runs} run(s) each, median [min..max]`);
  log(`# consumers run in this process, one event loop, iterating ${s.batches ? 'batches' : 'messages'}; "loop delay" is its worst stall in a window: a gap not above it may be the bench's own`);
  const broker = await startBroker(brokerArgs);
  const runnel = new Runnel({ bootstrap: [broker.bootstrap], clientId: 'bench-groups' });
  const figures: Figure[] = [];
  try {
    if (s.only.includes('join')) figures.push(...(await joinFigures(runnel, s, log)));
    if (s.only.includes('static')) figures.push(...(await staticFigures(runnel, s, log)));
    if (s.only.includes('throughput')) figures.push(...(await throughputFigures(runnel, s, log, quick, broker.child.pid)));
    for (const f of figures) log(describeFigure(f));
    log(`# bench took ${fixed((performance.now() - startedMs) / 1000)} s`);
    if (s.json) console.log(JSON.stringify({ settings: s, figures }));
  } finally {
    await runnel.close();
    await broker.stop();
  }
}

function settingsFromArgs(): { settings: Settings; quick: boolean } {
  const args = benchArgs(USAGE, ['rate', 'window-seconds', 'heartbeat-ms', 'restart-delay-ms', 'iterate', 'only']);
  const iterate = args.string('iterate') ?? 'messages';
  if (iterate !== 'messages' && iterate !== 'batches') throw new Error(`--iterate: "${iterate}" is neither messages nor batches`);
  const { quick } = args;
  const only = (args.string('only') ?? SCENARIOS.join(',')).split(',').map((x) => x.trim());
  const unknown = only.filter((x) => !(SCENARIOS as readonly string[]).includes(x));
  if (unknown.length > 0) throw new Error(`--only: no scenario ${unknown.join(', ')}; there are ${SCENARIOS.join(', ')}`);
  const brokerDefault = (name: string): number => Number(brokerSettingDef(name)!.defaultValue);
  const heartbeatMs = Math.floor(args.num('heartbeat-ms', null, brokerDefault(HEARTBEAT_SETTING)));
  return {
    quick,
    settings: {
      runs: Math.floor(args.num('runs', 'BENCH_RUNS', quick ? 1 : 3)),
      rate: args.num('rate', null, quick ? 2_000 : 5_000),
      windowMs: 1000 * args.num('window-seconds', null, quick ? 1 : 3),
      records: Math.floor(args.num('records', 'BENCH_RECORDS', quick ? 30_000 : 2_000_000)),
      heartbeatMs,
      restartDelayMs: Math.floor(args.num('restart-delay-ms', null, heartbeatMs + 500)),
      batches: iterate === 'batches',
      sessionTimeoutMs: brokerDefault(SESSION_SETTING),
      only: only as Scenario[],
      json: args.json,
    },
  };
}

if (isMainModule(import.meta.url)) {
  const { settings, quick } = settingsFromArgs();
  await runBench(settings, quick);
}
