/**
 * Crash test with real processes on the real file system: a child appends
 * with fsync=always and reports every batch acknowledged durable; the test
 * SIGKILLs it at a random (seeded) moment, reopens the log (recovery), and
 * checks that every acknowledged batch is there byte for byte, that the log
 * holds exactly batches 0..n-1 of the deterministic sequence (no torn or
 * foreign bytes), and that the tail is clean. Every one of the 30 rounds
 * runs (about 1.2 s each on a quiet machine); each is bounded in time, so a
 * stuck child fails the test instead of shortening it.
 *
 * The fixture is forked as plain node, as the build compiled it
 * (tests/support/built-fixture.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { readBatchHeader, stampBatch } from '../../protocol/batch/header.js';
import { systemClock } from '../../broker/world/clock.js';
import { realFileSystem } from '../../broker/world/file-system.js';
import { seededRng } from '../../broker/world/rng.js';
import { parseLogConfig } from '../../broker/storage/log-config.js';
import { PartitionLog } from '../../broker/storage/partition-log.js';
import { appenderBatch, type AppenderMessage } from '../fixtures/storage-appender.js';
import { builtFixture } from '../support/built-fixture.js';

const ROUNDS = 30;
/** A round that takes this long is stuck: fail rather than wait for tap's file timeout. */
const ROUND_BOUND_MS = 30_000;
const SEGMENT_BYTES = 256 * 1024;

t.test('SIGKILL at random moments never loses an acknowledged batch', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'runnel-crash-'));
  const logDir = path.join(dir, 'crash-0');
  const fixture = builtFixture('tests/fixtures/storage-appender.ts');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rng = seededRng(2024);
  const started = Date.now();
  const config = parseLogConfig({ 'segment.bytes': String(SEGMENT_BYTES) });
  let children: ChildProcess[] = [];
  t.teardown(() => {
    for (const child of children) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  });

  let batchesInLog = 0;
  let rounds = 0;
  let acknowledgedTotal = 0;
  let unacknowledgedSurvivors = 0;
  for (; rounds < ROUNDS; rounds++) {
    const roundStarted = Date.now();
    const child = fixture.fork({ RUNNEL_APPENDER_DIR: logDir, RUNNEL_APPENDER_START: String(batchesInLog), RUNNEL_APPENDER_SEGMENT_BYTES: String(SEGMENT_BYTES) });
    children.push(child);
    let highestAcked = -1;
    const acked = new Map<number, { baseOffset: number; lastOffset: number }>();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (message: AppenderMessage) => {
        if (message.type === 'ready') resolve();
        if (message.type === 'durable') {
          acked.set(message.index as number, { baseOffset: message.baseOffset as number, lastOffset: message.lastOffset as number });
          highestAcked = Math.max(highestAcked, message.index as number);
        }
      });
      child.once('exit', (code) => reject(new Error(`appender exited with ${code} before it was ready`)));
    });
    let stuck: NodeJS.Timeout | undefined;
    await Promise.race([ready, new Promise<never>((_resolve, reject) => {
      stuck = setTimeout(() => reject(new Error(`round ${rounds}: the appender was not ready within ${ROUND_BOUND_MS} ms`)), ROUND_BOUND_MS);
    })]).finally(() => clearTimeout(stuck));
    // kill at a random moment: 0-250 ms into the append storm
    await new Promise((resolve) => setTimeout(resolve, rng.int(250)));
    process.kill(child.pid as number, 'SIGKILL');
    await exited;
    children = children.filter((c) => c !== child);

    const log = await PartitionLog.open({ dir: logDir, config, fs: realFileSystem, clock: systemClock });
    // walk the whole log: it must be exactly batches 0..n-1 of the sequence, stamped with their offsets
    let index = 0;
    let offset = log.logStartOffset;
    let mismatch = '';
    while (offset < log.logEndOffset && mismatch === '') {
      const { records } = await log.read(offset, 4 * 1024 * 1024);
      for (const stored of records) {
        const header = readBatchHeader(stored);
        const expected = appenderBatch(index);
        stampBatch(expected, 0, header.baseOffset, 0);
        if (header.baseOffset !== offset || Buffer.compare(Buffer.from(stored), Buffer.from(expected)) !== 0) {
          mismatch = `batch ${index} at offset ${offset} differs from what was appended`;
          break;
        }
        const ack = acked.get(index);
        if (ack !== undefined && (ack.baseOffset !== header.baseOffset || ack.lastOffset !== header.baseOffset + header.lastOffsetDelta)) {
          mismatch = `batch ${index} was acknowledged at ${ack.baseOffset} but is at ${header.baseOffset}`;
          break;
        }
        offset = header.baseOffset + header.lastOffsetDelta + 1;
        index++;
      }
    }
    if (mismatch !== '') t.fail(`round ${rounds}: ${mismatch}`);
    if (offset !== log.logEndOffset) t.fail(`round ${rounds}: the log end ${log.logEndOffset} is not the end of the last batch ${offset}`);
    if (index <= highestAcked) t.fail(`round ${rounds}: batch ${highestAcked} was acknowledged durable but the log ends after batch ${index - 1}`);
    acknowledgedTotal += acked.size;
    unacknowledgedSurvivors += index - 1 - highestAcked > 0 && highestAcked >= 0 ? index - 1 - highestAcked : 0;
    batchesInLog = index;
    // a clean tail takes appends, and survives a clean close
    const probe = log.append(appenderBatch(batchesInLog), { leaderEpoch: 0 });
    if (probe.baseOffset !== offset) t.fail(`round ${rounds}: the next append went to ${probe.baseOffset}, not ${offset}`);
    batchesInLog++;
    // crash half the rounds' checks as well: the next child then opens an unclean log itself
    if (rng.int(2) === 0) await log.close();
    else await log.flush();
    if (Date.now() - roundStarted > ROUND_BOUND_MS) t.fail(`round ${rounds} took ${Date.now() - roundStarted} ms`);
  }
  t.equal(rounds, ROUNDS, `${rounds} kill rounds in ${Date.now() - started} ms`);
  t.ok(acknowledgedTotal > rounds, `${acknowledgedTotal} batches were acknowledged durable, all found byte for byte (${unacknowledgedSurvivors} written but unacknowledged batches also survived intact)`);
  t.ok(batchesInLog > acknowledgedTotal / 2, `the log holds ${batchesInLog} batches`);
});
