/**
 * The one error code a request is counted under (runnel_requests_total's
 * `error` label): the response's top-level `errorCode` when it is not NONE,
 * else the first non-NONE `errorCode` among its topics' and partitions'
 * results, else NONE. Kafka's ErrorsPerSec counts every partition's code
 * instead; one count per request keeps `sum(runnel_requests_total)` equal to
 * the number of requests, and a produce that failed on one partition of
 * fifty still shows as failed.
 *
 * The walk goes into arrays of plain objects and objects only, three levels
 * down (response -> topics -> partitions), never into record bytes, so a
 * Fetch answer of many batches costs one check per partition.
 */
const MAX_DEPTH = 3;

export function responseErrorCode(body: unknown): number {
  return firstError(body, 0);
}

function firstError(value: unknown, depth: number): number {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return 0;
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item !== 'object' || item === null || ArrayBuffer.isView(item)) return 0;
      const code = firstError(item, depth);
      if (code !== 0) return code;
    }
    return 0;
  }
  const record = value as Record<string, unknown>;
  const own = record.errorCode;
  if (typeof own === 'number' && own !== 0) return own;
  if (depth >= MAX_DEPTH) return 0;
  for (const key in record) {
    const child = record[key];
    if (Array.isArray(child) && child.length > 0) {
      const code = firstError(child, depth + 1);
      if (code !== 0) return code;
    }
  }
  return 0;
}
