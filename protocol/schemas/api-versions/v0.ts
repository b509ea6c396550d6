/**
 * ApiVersions (key 18): which versions of which APIs the broker speaks.
 *
 * Version history:
 * - v0: the first version.
 *
 * A client sends it first on every connection and then uses, per API,
 * min(its newest version, the broker's maxVersion), provided that is at
 * least both sides' minVersion (see `negotiateVersion`). A broker answers an
 * ApiVersions request of a version it does not support with a v0 response
 * carrying UNSUPPORTED_VERSION and its table, so any client can still learn
 * what to speak.
 */
import type { AvroApiVersion } from '../../avro/schema.js';

export const apiVersionsV0 = {
  request: {
    type: 'record',
    name: 'ApiVersionsRequest',
    doc: 'Who is asking, for the broker\'s log.',
    fields: [
      { name: 'clientSoftwareName', type: 'string', doc: 'The client library, e.g. "runnel-js".' },
      { name: 'clientSoftwareVersion', type: 'string', doc: 'Its version, e.g. "0.1.0".' },
    ],
  },
  response: {
    type: 'record',
    name: 'ApiVersionsResponse',
    doc: 'The version range of every API the broker implements.',
    fields: [
      { name: 'errorCode', type: 'int', doc: 'NONE, or UNSUPPORTED_VERSION when the request\'s own version was not supported.' },
      {
        name: 'apiKeys',
        doc: 'One entry per API.',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'ApiVersionRange',
            doc: 'The versions of one API.',
            fields: [
              { name: 'apiKey', type: 'int', doc: 'The API key (see the API table).' },
              { name: 'minVersion', type: 'int', doc: 'Oldest version the broker accepts.' },
              { name: 'maxVersion', type: 'int', doc: 'Newest version the broker accepts.' },
            ],
          },
        },
      },
    ],
  },
} as const satisfies AvroApiVersion;
