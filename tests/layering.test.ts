/**
 * The arrows of DESIGN.md, checked by machine: protocol/ is pure (no sockets,
 * no files, nothing of ours outside itself), client/ never reaches into the
 * broker, tools/ only through the commands that run broker code, and broker
 * logic reaches time, randomness, disk and network only through broker/world/.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { root, sourceFiles } from './support/source-files.js';

function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specs: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) specs.push((m[1] ?? m[2] ?? m[3])!);
  return specs;
}

/** The top-level folder of ours that a relative import lands in, or null for a package. */
function folderOf(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return relative(root, resolve(root, dirname(file), spec)).split(/[\\/]/)[0] ?? null;
}

const NODE_IO = /^(node:)?(net|fs|fs\/promises|dgram|tls|http|https|child_process|worker_threads)$/;

t.test('protocol/ imports neither node I/O nor any other folder of ours', async (t) => {
  const files = sourceFiles('protocol');
  t.ok(files.length > 0, 'protocol has sources');
  for (const file of files) {
    for (const spec of importsOf(file)) {
      t.notMatch(spec, NODE_IO, `${file} imports ${spec}`);
      const folder = folderOf(file, spec);
      if (folder !== null) t.equal(folder, 'protocol', `${file} imports ${spec}`);
    }
  }
});

t.test('client/ never imports broker/', async (t) => {
  for (const file of sourceFiles('client')) {
    for (const spec of importsOf(file)) t.not(folderOf(file, spec), 'broker', `${file} imports ${spec}`);
  }
});

/** The client's real world: the one place that reads the wall clock, arms Node timers, draws Math.random and opens sockets. */
const CLIENT_REAL_WORLD: ReadonlySet<string> = new Set([join('client', 'clock.ts'), join('client', 'world.ts'), join('client', 'transport-node.ts')]);

t.test('client/ reads time, timers, randomness and the network only through its injected world', async (t) => {
  const files = sourceFiles('client').filter((file) => !CLIENT_REAL_WORLD.has(file));
  t.ok(files.some((file) => file === join('client', 'connection.ts')) && files.some((file) => file.includes('producer')), 'the connection, producer and consumer are checked');
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    t.notMatch(text, /\bDate\.now\(|\bMath\.random\b|\bsetTimeout\(|\bsetInterval\(|\bprocess\.hrtime\b|\bsystemClock\b/, `${file} reads time or randomness directly`);
    for (const spec of importsOf(file)) t.notMatch(spec, NODE_IO, `${file} imports ${spec}; go through the ClientWorld`);
  }
});

/**
 * tools/ is a client of the broker (tools -> client -> protocol), except for
 * the commands that run broker code in their own process, each through one
 * entry module: `start` runs the broker, `recover` runs the storage surgery
 * on a stopped broker's partition, `dump-log` opens encrypted batches with
 * the broker's own envelope code, `users create --data` writes the first
 * administrator into a stopped broker's metadata, `usage` decodes and rolls
 * up `__usage` records with the broker's own format.
 */
const TOOLS_INTO_BROKER: Readonly<Record<string, string>> = {
  [join('tools', 'commands', 'start.ts')]: join('broker', 'main.ts'),
  [join('tools', 'commands', 'node-role.ts')]: join('broker', 'main.ts'),
  [join('tools', 'commands', 'recover.ts')]: join('broker', 'recover.ts'),
  [join('tools', 'commands', 'dump-log.ts')]: join('broker', 'storage', 'encryption', 'offline-reader.ts'),
  [join('tools', 'commands', 'users.ts')]: join('broker', 'security', 'bootstrap-user.ts'),
  [join('tools', 'commands', 'usage.ts')]: join('broker', 'metering', 'usage-format.ts'),
};

t.test('tools/ reaches broker/ only from start, recover, dump-log, users and usage, each through its one entry module', async (t) => {
  for (const file of sourceFiles('tools')) {
    for (const spec of importsOf(file)) {
      if (folderOf(file, spec) !== 'broker') continue;
      const target = relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, '.ts');
      t.equal(target, TOOLS_INTO_BROKER[file], `${file} imports ${spec}`);
    }
  }
});

t.test('broker logic touches the clock, disk and network only through broker/world/', async (t) => {
  const direct = /\bDate\.now\(|\bMath\.random\(|\bsetTimeout\(|\bsetInterval\(/;
  for (const file of sourceFiles('broker')) {
    if (file.startsWith(join('broker', 'world'))) continue;
    const text = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    t.notMatch(text, direct, `${file} reads time or randomness directly`);
    for (const spec of importsOf(file)) {
      if (/^(node:)?(net|fs|fs\/promises)$/.test(spec)) {
        t.fail(`${file} imports ${spec}; go through broker/world/`);
      }
    }
  }
});

t.test('only the HTTP adapter in broker/world/ serves HTTP (the metrics listener)', async (t) => {
  const adapter = join('broker', 'world', 'http-server.ts');
  t.ok(importsOf(adapter).some((spec) => /^(node:)?http$/.test(spec)), 'the adapter is where node:http is');
  for (const file of sourceFiles('broker')) {
    if (file === adapter) continue;
    for (const spec of importsOf(file)) t.notMatch(spec, /^(node:)?https?$/, `${file} imports ${spec}; go through broker/world/http-server.ts`);
  }
});
