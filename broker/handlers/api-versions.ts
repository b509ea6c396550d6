/**
 * ApiVersions: which APIs and versions this broker answers, from the handler
 * table itself, so the list can never disagree with what is served. A request
 * at a version the broker does not speak is answered by the connection with a
 * v0 body carrying UNSUPPORTED_VERSION and this same table (Kafka's rule), so
 * any client can learn what to speak.
 */
import type { ApiVersionsResponse } from '../../protocol/messages.js';
import { ApiKey, type ApiName, type VersionRange } from '../../protocol/api-keys.js';
import type { ApiHandler } from './handler.js';

export function apiVersionsTable(handlers: readonly { readonly api: ApiName; readonly versions: VersionRange }[]): ApiVersionsResponse['apiKeys'] {
  return handlers
    .map((handler) => ({ apiKey: ApiKey[handler.api], minVersion: handler.versions.min, maxVersion: handler.versions.max }))
    .sort((a, b) => a.apiKey - b.apiKey);
}

export function apiVersionsHandler(handlers: () => Parameters<typeof apiVersionsTable>[0]): ApiHandler<'ApiVersions'> {
  return {
    api: 'ApiVersions',
    versions: { min: 0, max: 0 },
    async handle() {
      return { errorCode: 0, apiKeys: apiVersionsTable(handlers()) };
    },
  };
}
