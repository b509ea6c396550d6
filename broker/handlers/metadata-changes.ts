/**
 * MetadataChanges (key 1000, controller side): the metadata log entries after
 * a version, as a long poll (Controller.changes). A broker follows the
 * cluster with it: it learns of each commit as soon as it is made, and
 * catches up from any version after a restart or an outage. Each entry goes
 * out as the metadata log's own encoding, so brokers fold exactly what the
 * controller's store folded. A broker names itself and its current
 * registration epoch (STALE_BROKER_EPOCH otherwise: it registers again);
 * a tool sends -1 for both.
 */
import type { ControllerApis } from '../controller/controller.js';
import { encodeEntry } from '../metadata/changes.js';
import { NO_ERROR, toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';

/** The longest a poll is held, whatever it asks. */
const MAX_WAIT_MS = 30_000;

export function metadataChangesHandler(controller: ControllerApis): ApiHandler<'MetadataChanges'> {
  return {
    api: 'MetadataChanges',
    versions: { min: 0, max: 0 },
    handle: async (ctx, request) => {
      try {
        const after = Math.max(0, request.afterVersion);
        const { latestVersion, entries } = await controller.changes(after, {
          maxWaitMs: Math.min(Math.max(0, request.maxWaitMs), MAX_WAIT_MS),
          maxEntries: Math.max(1, Math.min(request.maxEntries, 10_000)),
          signal: ctx.signal,
          broker: { brokerId: request.brokerId, brokerEpoch: request.brokerEpoch },
        });
        return { errorCode: NO_ERROR.code, errorMessage: null, clusterId: controller.clusterId, latestVersion, entries: entries.map(encodeEntry) };
      } catch (error) {
        // The broker hung up while its poll waited: nobody reads this answer.
        if (ctx.signal.aborted) return { errorCode: NO_ERROR.code, errorMessage: null, clusterId: controller.clusterId, latestVersion: -1, entries: [] };
        const wire = toWireError(error, ctx.logger, { api: 'MetadataChanges', afterVersion: request.afterVersion });
        return { errorCode: wire.code, errorMessage: wire.message, clusterId: controller.clusterId, latestVersion: -1, entries: [] };
      }
    },
  };
}
