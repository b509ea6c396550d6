/**
 * CreateTopics: each topic is validated and created on its own (one bad
 * topic does not fail the others), with Kafka's rules: a name of 1-249
 * characters of [a-zA-Z0-9._-], 1 to `max.partitions.per.topic` partitions
 * (-1: `num.partitions`), replication factor 1 on a single node (-1: 1), and
 * settings that parse. Names starting with `__` are the broker's internal
 * topics and are refused, except `__consumer_offsets` and `__usage`, which a broker
 * forwards here to have it created as internal (coordinator/runtime.ts,
 * metering/usage-writer.ts), with its cleanup policy forced. `validateOnly` checks without creating. A name
 * given twice in one request is refused for both, as Kafka does.
 */
import { ProtocolError } from '../../protocol/errors.js';
import { OFFSETS_TOPIC } from '../coordinator/offsets-topic.js';
import { USAGE_CLEANUP_POLICY, USAGE_TOPIC } from '../metering/usage-writer.js';
import type { CreateTopicsResponse } from '../../protocol/messages.js';
import type { AdminContext } from './broker-context.js';
import { NO_ERROR, toWireError } from './errors.js';
import type { ApiHandler } from './handler.js';
import { accessOf, createRefusal } from '../acl/access.js';
import { settingsRecord, timesNamed } from './settings-record.js';

/** The internal topics a broker forwards here to be created, and the cleanup policy each must have. */
const INTERNAL_CLEANUP_POLICY: ReadonlyMap<string, string> = new Map([[OFFSETS_TOPIC, 'compact'], [USAGE_TOPIC, USAGE_CLEANUP_POLICY]]);

export function createTopicsHandler(broker: AdminContext): ApiHandler<'CreateTopics'> {
  const access = accessOf(broker);
  return {
    api: 'CreateTopics',
    versions: { min: 0, max: 0 },
    handle: (ctx, request) =>
      ctx.ordered(async () => {
        const counts = timesNamed(request.topics.map((topic) => topic.name));
        const results: CreateTopicsResponse['topics'] = [];
        for (const topic of request.topics) {
          try {
            if (counts.get(topic.name)! > 1) throw new ProtocolError('INVALID_REQUEST', `topic ${topic.name} is named more than once in the request`);
            const refused = createRefusal(access, ctx, topic.name);
            if (refused !== null) throw refused;
            const forcedPolicy = INTERNAL_CLEANUP_POLICY.get(topic.name);
            if (forcedPolicy !== undefined) {
              // The group coordinator's topic, or usage metering's: created as internal, with its own settings, whoever asks (a broker forwarding its creation).
              const internal = { name: topic.name, partitions: topic.partitions, replicationFactor: topic.replicationFactor, configs: { ...settingsRecord(topic.configs), 'cleanup.policy': forcedPolicy } };
              if (!request.validateOnly) await broker.controller.createInternalTopic(internal);
              results.push({ name: topic.name, errorCode: NO_ERROR.code, errorMessage: null, partitions: topic.partitions, replicationFactor: topic.replicationFactor });
              continue;
            }
            const created = await broker.controller.createTopic(
              { name: topic.name, partitions: topic.partitions, replicationFactor: topic.replicationFactor, configs: settingsRecord(topic.configs) },
              { validateOnly: request.validateOnly },
            );
            results.push({ name: topic.name, errorCode: NO_ERROR.code, errorMessage: null, ...created });
          } catch (error) {
            const wire = toWireError(error, ctx.logger, { api: 'CreateTopics', topic: topic.name });
            results.push({ name: topic.name, errorCode: wire.code, errorMessage: wire.message, partitions: topic.partitions, replicationFactor: topic.replicationFactor });
          }
        }
        return { topics: results };
      }),
  };
}

