/**
 * `runnel queue describe`'s line about dead letters not yet copied (the
 * difference of the group's rejected and dead-lettered totals), shown only
 * for a group with a dead-letter topic.
 */
import t from 'tap';
import { pendingDeadLettersLine } from '../../tools/commands/queue.js';
import { queueReport } from '../../tools/queue/describe-report.js';

const description = (deadLetterTopic: string, rejected: number, deadLettered: number) =>
  queueReport(
    {
      group: 'q',
      state: 'Stable',
      groupEpoch: 1,
      coordinator: 1,
      config: { visibilityTimeoutMs: 30_000, maxDeliveryAttempts: 5, deadLetterTopic, ordering: 'none' },
      members: [],
      partitions: [0, 1].map((partition) => ({ topic: 'jobs', partition, startOffset: 0, endOffset: 0, highWatermark: 0, inFlight: 0, acquired: 0, available: 0, delayed: 0, accepted: 0, rejected, deadLettered, oldestUnsettledTimestampMs: null })),
    },
    0,
  );

t.test('the dead letters still to copy, summed over the partitions', async (t) => {
  t.match(pendingDeadLettersLine(description('jobs-dlq', 3, 1)), /^4 rejected records not yet copied to jobs-dlq: .*deadLetterRetry/);
  t.match(pendingDeadLettersLine(description('jobs-dlq', 1, 0)), /^2 rejected records/);
  t.equal(pendingDeadLettersLine(description('jobs-dlq', 3, 3)), null, 'all copied');
  t.equal(pendingDeadLettersLine(description('', 3, 0)), null, 'no dead-letter topic: rejections are settled at once');
});
