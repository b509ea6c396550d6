/**
 * What a reader of `__usage` needs (`runnel usage`, billing jobs): the
 * topic, the record codec, the minute and the roll-up. The one module the
 * command line imports from broker/metering/ (tests/layering.test.ts): the
 * format, none of the broker's writing machinery.
 */
export { MINUTE_MS } from './usage-meter.js';
export { decodeUsageCounts, decodeUsageKey, USAGE_TOPIC, UsageRecordError, type UsageCounts, type UsageRecord } from './usage-record.js';
export { rollUpUsage, type UsageGrouping, type UsageRow } from './usage-rollup.js';
