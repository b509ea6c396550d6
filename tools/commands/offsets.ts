/**
 * `runnel offsets TOPIC`: the earliest and latest offset of every partition,
 * and how many records lie between them, with per-topic totals (what people
 * sum by hand from kafka-run-class GetOffsetShell output).
 */
import { Command } from 'commander';
import { withRunnel } from '../client-session.js';
import { withBootstrap, withJson, type ClientOptions } from '../options.js';
import { formatTable, printJson, printLine } from '../output.js';

/** The `--json` shape, documented in docs/CLI.md. */
export interface OffsetsReport {
  topic: string;
  partitions: { partition: number; earliest: number; latest: number; records: number }[];
  totalRecords: number;
}

export function offsetsCommand(): Command {
  return withJson(
    withBootstrap(
      new Command('offsets')
        .description('earliest and latest offset of each partition of a topic')
        .argument('<topic>', 'topic name'),
    ),
  ).action(async (topic: string, opts: ClientOptions & { json?: boolean }) => {
    const listed = await withRunnel(opts, (runnel) => runnel.admin().listOffsets(topic));
    const partitions = [...listed]
      .sort((a, b) => a.partition - b.partition)
      .map((p) => ({ partition: p.partition, earliest: p.earliest, latest: p.latest, records: p.latest - p.earliest }));
    const report: OffsetsReport = { topic, partitions, totalRecords: partitions.reduce((sum, p) => sum + p.records, 0) };
    if (opts.json) return printJson(report);
    const rows = partitions.map((p) => [topic, p.partition, p.earliest, p.latest, p.records]);
    rows.push(['(total)', '', '', '', report.totalRecords]);
    await printLine(formatTable(['TOPIC', 'PARTITION', 'EARLIEST', 'LATEST', 'RECORDS'], rows));
  });
}
