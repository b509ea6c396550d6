/**
 * Whether a broker coordinates share groups (advertises ShareFetch in
 * ApiVersions). The real-broker queue tests were written while the broker's
 * share-group coordinator was built on another branch: until both are on
 * one branch they skip, saying why, instead of failing for want of it.
 */
import { ApiKey } from '../../../protocol/api-keys.js';
import { RawClient } from '../../support/raw-client.js';

export async function servesShareGroups(host: string, port: number): Promise<boolean> {
  const client = await RawClient.connect(host, port);
  try {
    const res = await client.request('ApiVersions', { clientSoftwareName: 'runnel-tests', clientSoftwareVersion: '0' });
    return res.apiKeys.some((k) => k.apiKey === ApiKey.ShareFetch);
  } finally {
    client.close();
  }
}

export const NO_SHARE_GROUPS = 'this build\'s broker has no share-group coordinator (ShareFetch not advertised)';
