/**
 * Storage engine, in process: the simulated file system, topic configs,
 * indexes, appends and reads, rolls, truncation, the epoch cache, durability,
 * recovery from crashes and damaged files, and retention. Deterministic:
 * ManualClock, seededRng and SimulatedFileSystem (real files only where the
 * real adapter itself is under test).
 */
import t from 'tap';
import { SimulatedFileSystem, isErrno } from '../../broker/world/file-system.js';
import { seededRng } from '../../broker/world/rng.js';
import { ConfigError, TOPIC_CONFIG_DEFS, formatLogConfig, parseLogConfig } from '../../broker/storage/log-config.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

t.test('SimulatedFileSystem keeps synced bytes and fsynced entries only', async (t) => {
  const fs = new SimulatedFileSystem();
  await fs.mkdirp('/d');
  await fs.fsyncDir('/');
  const h = fs.open('/d/a', 'w+');
  h.write(bytes('hello '), 0);
  await h.datasync();
  h.write(bytes('world'), 6);
  t.equal(text(await fs.readFile('/d/a')), 'hello world');
  // the file's entry is not durable yet: a crash loses the whole file
  fs.crash();
  t.equal(await fs.stat('/d/a'), null, 'unsynced directory entry vanished');
  t.throws(() => h.write(bytes('x'), 0), { code: 'EBADF' }, 'handles die with the process');

  const h2 = fs.open('/d/a', 'w+');
  h2.write(bytes('hello '), 0);
  await h2.datasync();
  await fs.fsyncDir('/d');
  h2.write(bytes('world'), 6);
  fs.crash();
  t.equal(text(await fs.readFile('/d/a')), 'hello ', 'only the synced prefix survives');

  const h3 = fs.open('/d/a', 'r+');
  h3.write(bytes('world'), 6);
  h3.truncate(3);
  await h3.datasync();
  fs.crash();
  t.equal(text(await fs.readFile('/d/a')), 'hel', 'a synced truncate survives');

  // rename is durable only after the directory fsync
  await fs.writeFileAtomic('/d/b', bytes('v1'));
  await fs.rename('/d/b', '/d/c');
  fs.crash();
  t.same(await fs.readdir('/d'), ['a', 'b']);
  await fs.unlink('/d/b');
  await fs.fsyncDir('/d');
  fs.crash();
  t.same(await fs.readdir('/d'), ['a']);

  // a torn tail: with an rng the crash keeps a random prefix of the unsynced append
  const h4 = fs.open('/d/a', 'r+');
  h4.write(new Uint8Array(1000).fill(7), 3);
  fs.crash({ rng: seededRng(1) });
  const size = (await fs.stat('/d/a'))?.sizeBytes ?? -1;
  t.ok(size >= 3 && size <= 1003, `torn size ${size} within [3, 1003]`);
  t.ok((await fs.readFile('/d/a')).subarray(3).every((b) => b === 7), 'the kept prefix is the written bytes');

  // injected faults
  const h5 = fs.open('/d/a', 'r+');
  fs.injectFault('datasync', '/d/a');
  await t.rejects(h5.datasync(), { code: 'EIO' });
  await h5.datasync();
  t.ok(isErrno(await fs.readFile('/nope').catch((e: unknown) => e) as unknown, 'ENOENT'), 'missing files raise ENOENT');
});

t.test('topic configs parse with Kafka names and reject bad values', async (t) => {
  const defaults = parseLogConfig({});
  t.equal(defaults.segmentBytes, 1024 ** 3);
  t.equal(defaults.indexIntervalBytes, 4096);
  t.equal(defaults.retentionBytes, -1);
  t.equal(defaults.flushMessages, Number.MAX_SAFE_INTEGER);
  t.same(defaults.cleanupPolicy, { delete: true, compact: false });
  const custom = parseLogConfig({ 'segment.bytes': '2048', 'cleanup.policy': 'compact,delete', fsync: 'always', 'flush.ms': '9223372036854775807' }, { 'segment.bytes': '4096', 'retention.ms': '-1' });
  t.equal(custom.segmentBytes, 2048, 'overrides win over the base layer');
  t.equal(custom.retentionMs, -1, 'the base layer wins over defaults');
  t.equal(custom.fsync, 'always');
  t.equal(custom.flushMs, Number.MAX_SAFE_INTEGER, 'Long.MAX_VALUE means never');
  t.same(custom.cleanupPolicy, { delete: true, compact: true });
  t.equal(formatLogConfig(custom)['cleanup.policy'], 'compact,delete');
  t.equal(formatLogConfig(custom)['flush.ms'], '9223372036854775807');
  t.same(parseLogConfig(formatLogConfig(custom)), custom, 'format and parse round-trip');
  t.throws(() => parseLogConfig({ 'segment.byte': '1' }), new ConfigError('segment.byte', 'unknown topic config'));
  t.throws(() => parseLogConfig({ 'segment.bytes': '12x' }), { name: 'ConfigError', key: 'segment.bytes' });
  t.throws(() => parseLogConfig({ 'segment.bytes': '10' }), { key: 'segment.bytes', message: /outside/ });
  t.throws(() => parseLogConfig({ fsync: 'sometimes' }), { key: 'fsync' });
  t.throws(() => parseLogConfig({ 'cleanup.policy': 'delete,shred' }), { key: 'cleanup.policy' });
  for (const def of TOPIC_CONFIG_DEFS) {
    t.ok(def.doc.length > 20, `${def.name} is documented`);
    t.doesNotThrow(() => def.parse(def.defaultValue), `${def.name} default parses`);
  }
});
