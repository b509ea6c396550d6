/**
 * DescribeConfigs: a topic's settings with their effective values and where
 * each comes from (`topic` override, `broker` default set with `log.<name>`,
 * or the built-in `default`); or the broker's own settings (resource name:
 * the node id, or empty), which are read-only while it runs. `configNames`
 * null lists every setting; names that are not settings are left out.
 */
import { ProtocolError } from '../../protocol/errors.js';
import type { DescribeConfigsResponse, DescribedConfig } from '../../protocol/messages.js';
import { BROKER_SETTING_DEFS } from '../config.js';
import { UnknownTopicOrPartitionError } from '../errors.js';
import { describeTopicSettings } from '../topic-settings.js';
import type { ServingContext } from './broker-context.js';
import { NO_ERROR, toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';
import { accessOf } from '../acl/access.js';

export function describeConfigsHandler(broker: ServingContext): ApiHandler<'DescribeConfigs'> {
  const { replicas, config } = broker;

  const topicConfigs = (name: string): DescribedConfig[] => {
    const topic = replicas.image.topics.get(name);
    if (topic === undefined) throw new UnknownTopicOrPartitionError(name, null, `topic ${name} does not exist`);
    return describeTopicSettings(config, topic.configs).map((setting) => ({ ...setting, readOnly: false, sensitive: false }));
  };

  const brokerConfigs = (name: string): DescribedConfig[] => {
    if (name !== '' && name !== String(config.nodeId)) {
      throw new ProtocolError('INVALID_REQUEST', `broker ${name} is not this broker; ask with the node id ${config.nodeId} (or an empty name)`);
    }
    return BROKER_SETTING_DEFS.map((def) => {
      const setting = config.settings[def.name];
      return {
        name: def.name,
        value: def.sensitive === true ? null : (setting?.value ?? def.defaultValue),
        source: setting?.explicit === true ? 'broker' : 'default',
        readOnly: true,
        sensitive: def.sensitive === true,
      };
    });
  };

  const access = accessOf(broker);
  return {
    api: 'DescribeConfigs',
    versions: { min: 0, max: 0 },
    handle: (ctx, request) =>
      ctx.ordered(() => {
        const results: DescribeConfigsResponse['results'] = request.resources.map((resource) => {
          try {
            const refused = resource.type === 'topic' ? access.refusal(ctx, 'describe_configs', 'topic', resource.name) : access.refusal(ctx, 'describe_configs', 'cluster');
            if (refused !== null) throw refused;
            const all = resource.type === 'topic' ? topicConfigs(resource.name) : brokerConfigs(resource.name);
            const wanted = resource.configNames === null ? null : new Set(resource.configNames);
            const configs = wanted === null ? all : all.filter((entry) => wanted.has(entry.name));
            return { type: resource.type, name: resource.name, errorCode: NO_ERROR.code, errorMessage: null, configs };
          } catch (error) {
            const wire = toWireError(error, ctx.logger, { api: 'DescribeConfigs', resource: resource.name });
            return { type: resource.type, name: resource.name, errorCode: wire.code, errorMessage: wire.message, configs: [] };
          }
        });
        return { results };
      }),
  };
}
