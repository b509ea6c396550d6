/**
 * The handler table: API key -> handler, built once at start-up. Adding an
 * API is a handler file and one line here; the connection looks handlers up
 * by key and checks the version against the handler's own range, and
 * ApiVersions reports the same table.
 *
 * Every handler's range must lie within the versions protocol/ can encode
 * and decode; `buildHandlerTable` refuses to start otherwise.
 */
import { ApiKey } from '../../protocol/api-keys.js';
import { SUPPORTED_VERSIONS } from '../../protocol/codec.js';
import { assert } from '../world/assert.js';
import { alterConfigsHandler } from './alter-configs.js';
import { apiVersionsHandler } from './api-versions.js';
import type { BrokerContext } from './broker-context.js';
import { createPartitionsHandler } from './create-partitions.js';
import { createTopicsHandler } from './create-topics.js';
import { deleteTopicsHandler } from './delete-topics.js';
import { describeConfigsHandler } from './describe-configs.js';
import { fetchHandler } from './fetch.js';
import { registered, type InvariantSink, type RegisteredHandler } from './handler.js';
import { listOffsetsHandler } from './list-offsets.js';
import { metadataHandler } from './metadata.js';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.js';
import { produceHandler } from './produce.js';

export type HandlerTable = ReadonlyMap<number, RegisteredHandler>;

/** `faults`: where a handler's broken invariant goes (it stops the broker: docs/ARCHITECTURE.md). */
export function buildHandlerTable(broker: BrokerContext, faults: InvariantSink): HandlerTable {
  // Each handler's types are checked against its API here, in `registered`, and erased for the table.
  const handlers: RegisteredHandler[] = [
    registered(produceHandler(broker), faults),
    registered(fetchHandler(broker), faults),
    registered(listOffsetsHandler(broker), faults),
    registered(metadataHandler(broker), faults),
    registered(createTopicsHandler(broker), faults),
    registered(deleteTopicsHandler(broker), faults),
    registered(describeConfigsHandler(broker), faults),
    registered(alterConfigsHandler(broker), faults),
    registered(createPartitionsHandler(broker), faults),
    registered(offsetForLeaderEpochHandler(broker), faults),
  ];
  handlers.push(registered(apiVersionsHandler(() => handlers), faults));
  const table = new Map<number, RegisteredHandler>();
  for (const handler of handlers) {
    const codec = SUPPORTED_VERSIONS[handler.api];
    assert(handler.versions.min >= codec.min && handler.versions.max <= codec.max, 'a handler answers only versions protocol/ can decode', { api: handler.api, handler: handler.versions, codec });
    assert(!table.has(ApiKey[handler.api]), 'one handler per API key', { api: handler.api });
    table.set(ApiKey[handler.api], handler);
  }
  return table;
}
