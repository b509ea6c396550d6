/**
 * A private network for fault tests: one Linux network namespace per node,
 * joined by a router namespace (the "hub"), plus a link from the test
 * process's own (root) namespace so producers in the test reach every node.
 *
 *        root ns (the test, 10.77.P.2) ── hub ns (10.77.P.1, routes) ── node ns b1 (10.77.P.11)
 *                                                                   ├── node ns b2 (10.77.P.12) ...
 *
 * Every link is a veth pair with /32 addresses and host routes (no bridge,
 * no subnet on a node: all traffic between parties is forwarded by the hub).
 *
 * Cutting a node off (`isolate`) adds `ip rule ... blackhole` policy rules
 * in the hub, which drop forwarded packets to and from the node silently.
 * Why that and not the alternatives:
 * - `ip link set veth down` makes the node's neighbour (ARP) lookups fail, and
 *   the kernel then reports EHOSTUNREACH to the node's sockets after ~3 s: a
 *   refusal the application sees, not the silence of a partition.
 * - a blackhole *route* on the node itself fails local sends at once with
 *   EINVAL; only for forwarded packets is a blackhole silent, hence the hub.
 * - iptables DROP inside each namespace gives the same silence, but is not
 *   installed here and would be one more package for CI.
 * With the hub's rules the links stay up and ARP keeps working, so a connect
 * attempt across the cut times out, an established connection stalls (TCP
 * retransmits into the void) and resumes when healed: what iptables DROP does.
 *
 * Names carry the owner's pid and start time (`rnl-<pid>-<starttime>-<n>-<role>`),
 * so `cleanStaleLabs()` can remove what a crashed earlier run left behind
 * without touching a lab of a test running right now. The root-namespace
 * veth is named after its subnet (`rnl77x<P>`): creating it claims the subnet
 * atomically, and it disappears with the hub namespace. Only these names and
 * the 10.77.P.0/24 subnets are ever created or changed; the host's own
 * interfaces and routes are left alone (a subnet the host already routes is
 * skipped).
 */
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';

const PREFIX = 'rnl';
const ROOT_VETH = `${PREFIX}77x`;
const IP_TIMEOUT_MS = 10_000;
/** Hub rule priorities used for cuts: below the kernel's main table rule (32766). */
const FIRST_RULE_PRIORITY = 1000;

export interface LabNode {
  readonly name: string;
  /** The network namespace the node's processes run in. */
  readonly namespace: string;
  /** The node's address, reachable from every party of the lab. */
  readonly address: string;
}

/** `client` is the test process's own (root) namespace. */
export type Party = string;
export const CLIENT: Party = 'client';

export interface IsolateOptions {
  /** Parties to cut the node off from; default every other party, the client included. */
  from?: readonly Party[];
}

export interface NetLab {
  readonly nodes: readonly LabNode[];
  node(name: string): LabNode;
  /** The root namespace's address in the lab (where producers in the test connect from). */
  readonly clientAddress: string;
  /** Runs `file args` inside the node's namespace (`ip netns exec`, which execs: the child's pid is the process's own). */
  spawn(node: string, file: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Drops every packet between the node and the given parties, silently, both ways. */
  isolate(node: string, opts?: IsolateOptions): Promise<void>;
  /** Removes the node's cuts (every node's when no name is given). */
  heal(node?: string): Promise<void>;
  /** Nodes (and parties) currently cut, for reports and assertions. */
  cuts(): { node: string; from: Party[] }[];
  /** Kills what runs in the lab's namespaces and deletes them (idempotent). */
  destroy(): Promise<void>;
}

export interface NetLabOptions {
  nodes: readonly string[];
}

function run(args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('ip', args, { timeout: IP_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`ip ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function runSync(args: readonly string[]): string {
  return execFileSync('ip', args, { timeout: IP_TIMEOUT_MS, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot): with the pid, it names one process for good. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after it are plain.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const OWNER = `${PREFIX}-${process.pid}-${processStartTime(process.pid) ?? '0'}`;
const NAMESPACE_PATTERN = /^rnl-(\d+)-(\d+)-\d+-[a-z0-9]+$/;
let labCount = 0;
/** Labs not destroyed yet, with their namespaces (nodes, then hub). */
const liveLabs = new Map<NetLab, readonly string[]>();

/** Removes every lab this process still has: at exit, and when a signal ends it (a test timed out, Ctrl-C). */
function removeLiveLabs(): void {
  for (const namespaces of liveLabs.values()) {
    for (const namespace of namespaces) {
      try {
        removeNamespace(namespace);
      } catch {
        // nothing more can be done while exiting; the next run's cleanStaleLabs() retries
      }
    }
  }
  liveLabs.clear();
}
process.on('exit', removeLiveLabs);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    removeLiveLabs();
    // Then send the signal again, now without us: the default action ends the process, or the
    // listeners left decide (tap's signal-exit, which stands back while another listener exists, so
    // it must see the signal once more when we are gone).
    process.kill(process.pid, signal);
  });
}

async function namespacesNow(): Promise<string[]> {
  const out = await run(['netns', 'list']);
  return out.split('\n').map((line) => line.split(' ')[0]!).filter((name) => name !== '');
}

/**
 * Kills what runs in the namespace (by pid: each a process the lab started;
 * a namespace lives on while a process is in it), then deletes it. Synchronous,
 * so the exit handler can use it too; a namespace already gone is fine.
 */
function removeNamespace(namespace: string): void {
  let pids: string[];
  try {
    pids = runSync(['netns', 'pids', namespace]).split('\n').filter((s) => /^\d+$/.test(s));
  } catch {
    return; // no such namespace
  }
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  try {
    runSync(['netns', 'delete', namespace]);
  } catch (error) {
    if (!/No such file/.test(String((error as { stderr?: unknown }).stderr ?? error))) throw error;
  }
}

/**
 * Deletes the namespaces (and so the links) of labs whose owning process is
 * gone: what a crashed or killed earlier test run left. Returns their names.
 */
export async function cleanStaleLabs(): Promise<string[]> {
  const stale = (await namespacesNow()).filter((name) => {
    const match = NAMESPACE_PATTERN.exec(name);
    return match !== null && processStartTime(Number(match[1])) !== match[2];
  });
  for (const namespace of stale) removeNamespace(namespace);
  return stale;
}

/** Why namespaces cannot be used here, or undefined when they can (checked by making and deleting one). */
export async function netnsUnavailableReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return `network namespaces need root; this test runs as uid ${String(process.getuid?.())}`;
  try {
    await run(['-V']);
  } catch (error) {
    return `the ip command (iproute2) is not usable: ${(error as Error).message}`;
  }
  const probe = `${OWNER}-${labCount++}-probe`;
  try {
    await run(['netns', 'add', probe]);
    await run(['-n', probe, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1']);
  } catch (error) {
    return `cannot create a network namespace with a veth pair: ${(error as Error).message}`;
  } finally {
    removeNamespace(probe);
  }
  return undefined;
}

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** True if any address or route the host already has covers 10.77.P.0/24 (other than our own links). */
async function subnetInUse(octet: number): Promise<boolean> {
  const [routes, addresses] = await Promise.all([run(['-4', '-o', 'route', 'show', 'table', 'all']), run(['-4', '-o', 'addr', 'show'])]);
  const low = ipv4ToNumber(`10.77.${octet}.0`);
  const high = low + 255;
  const prefixes = [...routes.split('\n'), ...addresses.split('\n')]
    .filter((line) => !line.includes(ROOT_VETH))
    .flatMap((line) => [...line.matchAll(/(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/g)].map((m) => ({ base: m[1]!, bits: Number(m[2] ?? 32) })));
  return prefixes.some(({ base, bits }) => {
    if (bits === 0) return false; // a default route covers everything and means nothing here
    const size = 2 ** (32 - bits);
    const start = Math.floor(ipv4ToNumber(base) / size) * size;
    return start <= high && start + size - 1 >= low;
  });
}

/** Creates the lab: hub, one namespace per node, the client link. Cleans stale labs first. */
export async function createNetLab(opts: NetLabOptions): Promise<NetLab> {
  if (opts.nodes.length === 0 || opts.nodes.length > 200) throw new Error(`a lab has 1..200 nodes, not ${opts.nodes.length}`);
  for (const name of opts.nodes) {
    if (!/^[a-z0-9]{1,8}$/.test(name) || name === CLIENT || name === 'hub') throw new Error(`node name ${JSON.stringify(name)}: 1-8 of a-z0-9, not "client" or "hub"`);
  }
  if (new Set(opts.nodes).size !== opts.nodes.length) throw new Error(`node names repeat: ${opts.nodes.join(', ')}`);
  await cleanStaleLabs();

  const base = `${OWNER}-${labCount++}`;
  const hub = `${base}-hub`;
  const made: string[] = [];
  const nodes: LabNode[] = [];
  let octet = 0;
  try {
    await run(['netns', 'add', hub]);
    made.push(hub);
    await run(['-n', hub, 'link', 'set', 'lo', 'up']);
    // Forwarding on in the hub only (a per-namespace setting): the host's stays as it is.
    await run(['netns', 'exec', hub, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);

    // Claim a subnet: the root veth's name is the subnet, so two labs cannot both create it.
    for (let candidate = 1; candidate <= 254 && octet === 0; candidate++) {
      if (await subnetInUse(candidate)) continue;
      try {
        await run(['link', 'add', `${ROOT_VETH}${candidate}`, 'type', 'veth', 'peer', 'name', 'client', 'netns', hub]);
        octet = candidate;
      } catch (error) {
        if (!/File exists/.test((error as Error).message)) throw error;
      }
    }
    if (octet === 0) throw new Error('no free 10.77.P.0/24 subnet for a lab (all 254 taken or routed by the host)');
    const net = `10.77.${octet}`;
    const rootVeth = `${ROOT_VETH}${octet}`;
    await linkEnds(hub, 'client', `${net}.2`, undefined, rootVeth, net);

    for (const [index, name] of opts.nodes.entries()) {
      const namespace = `${base}-${name}`;
      await run(['netns', 'add', namespace]);
      made.push(namespace);
      await run(['-n', namespace, 'link', 'set', 'lo', 'up']);
      await run(['-n', hub, 'link', 'add', `to-${name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace]);
      const address = `${net}.${11 + index}`;
      await linkEnds(hub, `to-${name}`, address, namespace, 'eth0', net);
      nodes.push({ name, namespace, address });
    }
  } catch (error) {
    for (const namespace of made) removeNamespace(namespace);
    throw error;
  }
  return makeLab(hub, nodes, `10.77.${octet}.2`);
}

/**
 * Addresses and routes of one link: the hub end has 10.77.P.1/32 and a host
 * route to the party; the party's end has its /32, a host route to the hub
 * and the lab's /24 via the hub. `partyNamespace` undefined = the root namespace.
 */
async function linkEnds(hub: string, hubEnd: string, address: string, partyNamespace: string | undefined, partyEnd: string, net: string): Promise<void> {
  const inParty = (args: string[]): string[] => (partyNamespace === undefined ? args : ['-n', partyNamespace, ...args]);
  await run(['-n', hub, 'addr', 'add', `${net}.1/32`, 'dev', hubEnd]);
  await run(['-n', hub, 'link', 'set', hubEnd, 'up']);
  await run(['-n', hub, 'route', 'add', `${address}/32`, 'dev', hubEnd]);
  await run(inParty(['addr', 'add', `${address}/32`, 'dev', partyEnd]));
  await run(inParty(['link', 'set', partyEnd, 'up']));
  await run(inParty(['route', 'add', `${net}.1/32`, 'dev', partyEnd]));
  await run(inParty(['route', 'add', `${net}.0/24`, 'via', `${net}.1`, 'dev', partyEnd, 'src', address]));
}

function makeLab(hub: string, nodes: readonly LabNode[], clientAddress: string): NetLab {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const addressOf = (party: Party): string => (party === CLIENT ? clientAddress : node(party).address);
  const node = (name: string): LabNode => {
    const found = byName.get(name);
    if (found === undefined) throw new Error(`no node ${JSON.stringify(name)} in this lab (nodes: ${[...byName.keys()].join(', ')})`);
    return found;
  };
  /** node -> (party -> rule priorities installed for that pair) */
  const cut = new Map<string, Map<Party, number[]>>();
  let nextPriority = FIRST_RULE_PRIORITY;
  let destroyed = false;

  const lab: NetLab = {
    nodes,
    node,
    clientAddress,
    spawn(name, file, args, options = {}) {
      if (destroyed) throw new Error('the lab is destroyed');
      return spawn('ip', ['netns', 'exec', node(name).namespace, file, ...args], options);
    },
    async isolate(name, opts = {}) {
      const self = node(name);
      const parties = opts.from ?? [CLIENT, ...nodes.map((n) => n.name)].filter((p) => p !== name);
      const rules = cut.get(name) ?? new Map<Party, number[]>();
      cut.set(name, rules);
      for (const party of parties) {
        if (party === name) throw new Error(`cannot cut ${name} off from itself`);
        if (rules.has(party)) continue;
        const other = addressOf(party);
        // The main table's rule is at 32766: cut rules must stay in front of it.
        if (nextPriority > 32_000) throw new Error('this lab has used up its rule priorities (about 15 000 cuts): make a new lab');
        const priorities = [nextPriority++, nextPriority++];
        await run(['-n', hub, 'rule', 'add', 'priority', String(priorities[0]), 'from', self.address, 'to', other, 'blackhole']);
        await run(['-n', hub, 'rule', 'add', 'priority', String(priorities[1]), 'from', other, 'to', self.address, 'blackhole']);
        rules.set(party, priorities);
      }
    },
    async heal(name) {
      for (const target of name === undefined ? [...cut.keys()] : [node(name).name]) {
        for (const priorities of cut.get(target)?.values() ?? []) {
          for (const priority of priorities) await run(['-n', hub, 'rule', 'del', 'priority', String(priority)]);
        }
        cut.delete(target);
      }
    },
    cuts() {
      return [...cut.entries()].filter(([, rules]) => rules.size > 0).map(([n, rules]) => ({ node: n, from: [...rules.keys()] }));
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      liveLabs.delete(lab);
      for (const n of nodes) removeNamespace(n.namespace);
      removeNamespace(hub);
    },
  };
  liveLabs.set(lab, [...nodes.map((n) => n.namespace), hub]);
  return lab;
}
