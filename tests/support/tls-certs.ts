/**
 * A throwaway certificate authority for TLS tests, made at run time with
 * the openssl CLI (node:crypto makes keys but not X.509 certificates), in a
 * temporary directory removed when the test process exits. Nothing here is
 * ever checked in. EC P-256 keys: fast to make and to handshake.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDataDir } from './broker-process.js';

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  /** The broker's certificate (SAN 127.0.0.1 and localhost) and key. */
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly ca: string;
  /** A client certificate with subject CN=`cn`, signed by the CA (or by a stranger CA: `trusted` false). */
  client(cn: string, opts?: { trusted?: boolean }): { certFile: string; keyFile: string; cert: string; key: string };
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`], dir);
}

function signed(dir: string, ca: string, name: string, subject: string, extensions: string): void {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
}

export function makeTestPki(): TestPki {
  const dir = freshDataDir('runnel-pki-');
  makeCa(dir, 'ca');
  signed(dir, 'ca', 'server', '/CN=runnel-broker', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  let stranger = false;
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server.key'),
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    client(cn, opts = {}) {
      const trusted = opts.trusted ?? true;
      if (!trusted && !stranger) {
        makeCa(dir, 'stranger');
        stranger = true;
      }
      const name = `client-${cn}-${trusted ? 't' : 'u'}`;
      signed(dir, trusted ? 'ca' : 'stranger', name, `/CN=${cn}/O=Runnel tests`, 'extendedKeyUsage=clientAuth\n');
      const certFile = join(dir, `${name}.pem`);
      const keyFile = join(dir, `${name}.key`);
      return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
    },
  };
}
