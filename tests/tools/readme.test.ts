/**
 * The README's TypeScript snippet, run as a newcomer runs it: taken out of
 * README.md as written, put in a fresh ES-module project that has `runnel`
 * installed from this clone (a link into node_modules, as `npm install
 * /path/to/runnel` makes), type-checked with the options a fresh `tsc --init`
 * writes, and run with node against a real broker. Only the bootstrap address
 * is changed, to the test broker's. It runs twice, because the second run
 * meets the topic the first one made (as it meets the CLI tour's), and each
 * run must end by itself within a bound: a snippet that leaves a client open
 * never exits and fails here.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { repoRoot } from '../support/repo-root.js';

const README_ADDRESS = "'127.0.0.1:9092'";
const RUN_TIMEOUT_MS = 30_000;

/** The first ```ts block under the "From TypeScript" heading. */
function readmeSnippet(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### From TypeScript'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (readme.indexOf('### From TypeScript') < 0 || match === null) throw new Error('README.md has no ```ts block under "### From TypeScript"');
  return match[1]!;
}

/** What `tsc --init` (TypeScript 5.9) writes, with `"types": ["node"]` as README.md says to set it (and @types/node installed). */
const FRESH_TSC_INIT: ts.CompilerOptions = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ESNext,
  types: ['node'],
  typeRoots: [join(repoRoot, 'node_modules', '@types')],
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  strict: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  noUncheckedSideEffectImports: true,
  moduleDetection: ts.ModuleDetectionKind.Force,
  skipLibCheck: true,
  noEmit: true,
};

function typeErrors(file: string): string[] {
  const program = ts.createProgram([file], FRESH_TSC_INIT);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

/** This environment without what tap adds (its TypeScript loader in NODE_OPTIONS, TAP_*): a plain `node`. */
function plainEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS' && !name.startsWith('TAP')));
}

function runNode(cwd: string, file: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd, env: plainEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

let broker: BrokerProcess;
let app: string;

t.before(async () => {
  broker = await startBrokerProcess();
  app = mkdtempSync(join(tmpdir(), 'runnel-readme-app-'));
});
t.teardown(async () => {
  await broker?.stop();
  if (app !== undefined) rmSync(app, { recursive: true, force: true });
});

t.test('the README snippet type-checks and runs in a fresh ES-module project, twice, ending by itself', async (t) => {
  const snippet = readmeSnippet();
  t.equal(snippet.split(README_ADDRESS).length - 1, 1, 'the snippet names the broker address once (the one thing the test changes)');
  const source = snippet.replace(README_ADDRESS, `'${broker.bootstrap}'`);

  // `npm init -y && npm pkg set type=module && npm install /path/to/runnel`, without the network.
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module' }, null, 2));
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(repoRoot, join(app, 'node_modules', 'runnel'), 'dir');
  writeFileSync(join(app, 'app.ts'), source);

  t.same(typeErrors(join(app, 'app.ts')), [], 'no type errors under a fresh tsc --init');
  // What `npx tsx app.ts` does: strip the types, run the module.
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  writeFileSync(join(app, 'app.js'), js);

  for (const round of ['first run (makes the topic)', 'second run (the topic exists)']) {
    const run = await runNode(app, 'app.js');
    t.notOk(run.timedOut, `${round}: ended by itself within ${RUN_TIMEOUT_MS} ms`);
    t.equal(run.code, 0, `${round}: exit 0; stderr: ${run.stderr}`);
    const sent = /partition: (\d+),\s+offset: (\d+)/.exec(run.stdout);
    t.ok(sent, `${round}: printed where the message went: ${run.stdout}`);
    t.match(run.stdout, new RegExp(`received ${sent?.[1]} ${sent?.[2]} k1 hello x\\n`), `${round}: read back that very message, key, value and header`);
  }
});
