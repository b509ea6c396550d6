/**
 * Produce throughput over TLS against PLAINTEXT, in the same run: two broker
 * processes, one with a PLAINTEXT listener and one with an SSL listener
 * (a throwaway CA and certificate made with the openssl CLI in a temporary
 * directory), the same producer load to each, alternating, median of the
 * runs. A figure, never a verdict (goal: TLS at 70% or more of PLAINTEXT).
 *
 *   npm run build && node dist/bench/tls.js [--records N] [--runs N]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runnel } from '../client/index.js';
import { isMainModule } from '../tools/main-module.js';
import { benchArgs, fixed, freshTopic, median, spread, startBroker } from './bench-support.js';

function makeCertificate(dir: string): { cert: string; key: string; ca: string } {
  const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=bench-ca']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'b.key', '-out', 'b.csr', '-subj', '/CN=bench']);
  writeFileSync(join(dir, 'b.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run(['x509', '-req', '-in', 'b.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'b.pem', '-days', '1', '-extfile', 'b.ext']);
  return { cert: join(dir, 'b.pem'), key: join(dir, 'b.key'), ca: readFileSync(join(dir, 'ca.pem'), 'utf8') };
}

async function produceRate(runnel: Runnel, records: number, value: Buffer): Promise<number> {
  const topic = await freshTopic(runnel, 1);
  const producer = runnel.producer({ acks: 1, lingerMs: 5 });
  const started = process.hrtime.bigint();
  const chunk = 1000;
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < records; i += chunk) sends.push(producer.send({ topic, messages: Array.from({ length: Math.min(chunk, records - i) }, () => ({ value })) }));
  await Promise.all(sends);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await producer.close();
  return records / seconds;
}

export async function main(argv: readonly string[]): Promise<void> {
  const args = benchArgs('node dist/bench/tls.js [--records N] [--runs N]', []);
  void argv;
  const records = args.num('records', 'BENCH_RECORDS', 200_000);
  const runs = args.num('runs', 'BENCH_RUNS', 3);
  const dir = mkdtempSync(join(tmpdir(), 'runnel-bench-tls-'));
  try {
    const pem = makeCertificate(dir);
    const plain = await startBroker();
    const tls = await startBroker(['--set', 'listeners=SSL://127.0.0.1:0', '--set', `tls.cert.file=${pem.cert}`, '--set', `tls.key.file=${pem.key}`]);
    const plainClient = new Runnel({ bootstrap: [plain.bootstrap] });
    const tlsClient = new Runnel({ bootstrap: [tls.bootstrap], tls: { ca: pem.ca } });
    const value = Buffer.alloc(1024, 7);
    const rates = { plain: [] as number[], tls: [] as number[] };
    for (let run = 0; run < runs; run++) {
      rates.plain.push(await produceRate(plainClient, records, value));
      rates.tls.push(await produceRate(tlsClient, records, value));
    }
    await Promise.all([plainClient.close(), tlsClient.close()]);
    await Promise.all([plain.stop(), tls.stop()]);
    const [p, t] = [median(rates.plain), median(rates.tls)];
    const mb = (r: number): string => fixed((r * 1024) / 1e6);
    console.log(`produce 1 KiB records, acks=1, 1 partition, ${records} records x ${runs} runs (medians)`);
    console.log(`  PLAINTEXT ${fixed(p / 1000)}k records/s (${mb(p)} MB/s) ${spread(rates.plain)}`);
    console.log(`  SSL       ${fixed(t / 1000)}k records/s (${mb(t)} MB/s) ${spread(rates.tls)}`);
    console.log(`  SSL / PLAINTEXT: ${fixed((100 * t) / p)}% (goal >= 70%)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainModule(import.meta.url)) await main(process.argv.slice(2));
