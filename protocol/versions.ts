/**
 * Version negotiation, the rule of kafkajs's `requests/index.js`: after
 * ApiVersions, a client speaks, per API, min(its newest version, the
 * broker's newest), provided that is not below either side's oldest. No
 * overlap means the two cannot talk that API: the client reports
 * UNSUPPORTED_VERSION rather than guessing.
 */
import type { VersionRange } from './api-keys.js';

/** The version to use, or null when the ranges do not overlap. */
export function negotiateVersion(ours: VersionRange, theirs: VersionRange): number | null {
  const version = Math.min(ours.max, theirs.max);
  return version >= Math.max(ours.min, theirs.min) ? version : null;
}
