// Builds native/aes_gcm.node (encryption at rest's AES-256-GCM, aes_gcm.c) with node-gyp: npm runs this
// on install. A machine without python3, make and a C compiler still installs: the broker then uses
// node:crypto, 2-3x slower, and says so when it starts with encryption keys.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// npm hands its own node-gyp to install scripts; outside npm, the one on PATH.
const gyp = process.env.npm_config_node_gyp;
const [command, args] = gyp !== undefined && existsSync(gyp) ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const run = spawnSync(command, args, { cwd: here, stdio: 'inherit' });
if (run.status !== 0) {
  const why = run.error !== undefined ? run.error.message : `node-gyp exited with ${run.status ?? run.signal}`;
  console.warn(`runnel: the native AES-GCM addon did not build (${why}); encryption at rest will use node:crypto, 2-3x slower`);
}
