/**
 * The project's C addon (native/: AES-256-GCM for encryption at rest, and
 * the CRC-32C instruction for batch checksums), built by `npm install`
 * with node-gyp. Loaded once per thread, from the nearest folder above
 * this module that has it (from dist/ or from the sources alike). Loading
 * is module resolution, not I/O: callers fall back to JavaScript-reachable
 * implementations when it did not build.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ADDON = path.join('native', 'build', 'Release', 'aes_gcm.node');

let loaded: object | string | undefined;

/** The addon's exports, or a string saying why it did not load. */
export function nativeAddon(): object | string {
  if (loaded !== undefined) return loaded;
  const load = createRequire(import.meta.url);
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 8; up++) {
    const file = path.join(dir, ADDON);
    try {
      return (loaded = load(file) as object);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') return (loaded = `${file} did not load: ${(err as Error).message}`);
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return (loaded = `${ADDON} was not built (npm install builds it with node-gyp: it needs python3, make and a C compiler)`);
}
