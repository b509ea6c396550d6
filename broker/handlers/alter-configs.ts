/**
 * AlterConfigs (incremental): for a topic, each entry sets one setting, or
 * with value null returns it to the broker default; the new set is validated
 * as a whole, committed to the metadata log, and applied to every partition
 * at once. `validateOnly` checks without changing anything. Broker settings
 * are read-only while the broker runs: they come from its config file,
 * environment and flags.
 */
import { ProtocolError } from '../../protocol/errors.js';
import type { AlterConfigsResponse } from '../../protocol/messages.js';
import type { AdminContext } from './broker-context.js';
import { NO_ERROR, toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';
import { accessOf } from '../acl/access.js';
import { timesNamed } from './settings-record.js';

export function alterConfigsHandler(broker: AdminContext): ApiHandler<'AlterConfigs'> {
  const access = accessOf(broker);
  return {
    api: 'AlterConfigs',
    versions: { min: 0, max: 0 },
    handle: (ctx, request) =>
      ctx.ordered(async () => {
        const results: AlterConfigsResponse['results'] = [];
        for (const resource of request.resources) {
          try {
            const refused = resource.type === 'topic' ? access.refusal(ctx, 'alter_configs', 'topic', resource.name) : access.refusal(ctx, 'alter_configs', 'cluster');
            if (refused !== null) throw refused;
            if (resource.type !== 'topic') {
              throw new ProtocolError('INVALID_REQUEST', 'broker settings are read-only while the broker runs; change its config file, environment or flags and restart it');
            }
            for (const [name, count] of timesNamed(resource.configs.map((entry) => entry.name))) {
              if (count > 1) throw new ProtocolError('INVALID_CONFIG', `setting ${name} is given more than once`);
            }
            await broker.controller.alterTopicConfig(resource.name, resource.configs, { validateOnly: request.validateOnly });
            results.push({ type: resource.type, name: resource.name, errorCode: NO_ERROR.code, errorMessage: null });
          } catch (error) {
            const wire = toWireError(error, ctx.logger, { api: 'AlterConfigs', resource: resource.name });
            results.push({ type: resource.type, name: resource.name, errorCode: wire.code, errorMessage: wire.message });
          }
        }
        return { results };
      }),
  };
}
