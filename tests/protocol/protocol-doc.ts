/**
 * Renders the parts of docs/PROTOCOL.md that must never drift from the code:
 * the API table, every field of every control-plane API version (from the
 * Avro schemas' `doc` strings), the Produce and Fetch layouts (the code
 * blocks in the header comments of protocol/codecs/*.ts), and the error
 * table. wire.test.ts checks the document against this, and rewrites it when
 * run with RUNNEL_UPDATE_DOCS=1 (that run still fails; the next one passes):
 *   npm run build && RUNNEL_UPDATE_DOCS=1 npx tap dist/tests/protocol/wire.test.js
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiKey, type ApiName } from '../../protocol/api-keys.js';
import type { AvroRecord, AvroSchema } from '../../protocol/avro/schema.js';
import { SUPPORTED_VERSIONS } from '../../protocol/codec.js';
import { Errors, type ErrorSpec } from '../../protocol/errors.js';
import { avroSchemaVersions, type AvroApiName } from '../../protocol/schemas/index.js';
import { repoRoot } from '../support/repo-root.js';

export const protocolDocPath = join(repoRoot, 'docs', 'PROTOCOL.md');

const HAND_CODED: Record<'Produce' | 'Fetch', string> = { Produce: 'protocol/codecs/produce.ts', Fetch: 'protocol/codecs/fetch.ts' };

function apiNamesByKey(): ApiName[] {
  return (Object.keys(ApiKey) as ApiName[]).sort((a, b) => ApiKey[a] - ApiKey[b]);
}

function typeName(schema: AvroSchema): string {
  if (typeof schema === 'string') return schema;
  if (Array.isArray(schema)) {
    const branches = schema as readonly AvroSchema[];
    const nonNull = branches.filter((b) => b !== 'null').map(typeName);
    return branches.includes('null') ? `nullable ${nonNull.join(' or ')}` : nonNull.join(' or ');
  }
  const complex = schema as Exclude<AvroSchema, string | readonly AvroSchema[]>;
  switch (complex.type) {
    case 'record':
      return `record ${complex.name}`;
    case 'enum':
      return `enum ${complex.symbols.map((s) => `"${s}"`).join(' | ')}`;
    case 'array':
      return `array of ${typeName(complex.items)}`;
  }
}

/** The records nested in a field's type (through arrays and unions), to list their fields below it. */
function nestedRecord(schema: AvroSchema): AvroRecord | null {
  if (typeof schema === 'string') return null;
  if (Array.isArray(schema)) {
    for (const branch of schema as readonly AvroSchema[]) {
      const found = nestedRecord(branch);
      if (found !== null) return found;
    }
    return null;
  }
  const complex = schema as Exclude<AvroSchema, string | readonly AvroSchema[]>;
  if (complex.type === 'record') return complex;
  if (complex.type === 'array') return nestedRecord(complex.items);
  return null;
}

function fieldRows(record: AvroRecord, prefix: string): string[] {
  const rows: string[] = [];
  for (const field of record.fields) {
    const path = `${prefix}${field.name}`;
    const dflt = field.default === undefined ? '' : ` (default ${JSON.stringify(field.default)})`;
    rows.push(`| \`${path}\` | ${typeName(field.type)} | ${field.doc}${dflt} |`);
    const nested = nestedRecord(field.type);
    if (nested !== null) rows.push(...fieldRows(nested, `${path}${isArray(field.type) ? '[]' : ''}.`));
  }
  return rows;
}

function isArray(schema: AvroSchema): boolean {
  if (Array.isArray(schema)) return (schema as readonly AvroSchema[]).some(isArray);
  return typeof schema === 'object' && (schema as { type: string }).type === 'array';
}

function avroRecordTable(title: string, record: AvroRecord): string {
  return [`${title}: ${record.doc}`, '', '| field | Avro type | meaning |', '| --- | --- | --- |', ...fieldRows(record, ''), ''].join('\n');
}

/** The ``` blocks of the first doc comment of a source file, with the comment's ` * ` prefixes removed. */
export function codeBlocksOfHeader(relativePath: string): string[] {
  const source = readFileSync(join(repoRoot, relativePath), 'utf8');
  const header = /\/\*\*([\s\S]*?)\*\//.exec(source)?.[1] ?? '';
  const text = header.split('\n').map((line) => line.replace(/^\s*\* ?/, '')).join('\n');
  return [...text.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

function handCodedSection(api: 'Produce' | 'Fetch'): string {
  const blocks = codeBlocksOfHeader(HAND_CODED[api]);
  const out: string[] = [];
  for (let version = 0; version <= SUPPORTED_VERSIONS[api].max; version++) {
    const [request, response] = [blocks[version * 2], blocks[version * 2 + 1]];
    if (request === undefined || response === undefined) throw new Error(`${HAND_CODED[api]} must document the request and response of v${version}`);
    out.push(`#### ${api} v${version}`, '', 'Request body (hand-coded, big-endian):', '', '```', request.trimEnd(), '```', '');
    out.push('Response body:', '', '```', response.trimEnd(), '```', '');
  }
  return out.join('\n');
}

function avroSection(api: AvroApiName): string {
  const out: string[] = [];
  avroSchemaVersions[api].forEach((version, n) => {
    out.push(`#### ${api} v${n}`, '', avroRecordTable('Request body (Avro)', version.request), avroRecordTable('Response body (Avro)', version.response));
  });
  return out.join('\n');
}

export function renderApis(): string {
  const out = ['| API | key | versions | body encoding |', '| --- | --- | --- | --- |'];
  for (const api of apiNamesByKey()) {
    const range = SUPPORTED_VERSIONS[api];
    out.push(`| ${api} | ${ApiKey[api]} | ${range.min} to ${range.max} | ${api in HAND_CODED ? 'hand-coded' : 'Avro'} |`);
  }
  out.push('');
  for (const api of apiNamesByKey()) {
    out.push(`### ${api} (key ${ApiKey[api]})`, '');
    out.push(api === 'Produce' || api === 'Fetch' ? handCodedSection(api) : avroSection(api as AvroApiName));
  }
  return out.join('\n');
}

export function renderErrors(): string {
  const rows = (Object.entries(Errors) as [string, ErrorSpec][]).sort((a, b) => a[1].code - b[1].code);
  return [
    '| code | name | retriable | message |',
    '| --- | --- | --- | --- |',
    ...rows.map(([name, spec]) => `| ${spec.code} | ${name} | ${spec.retriable ? 'yes' : 'no'} | ${[spec.message, spec.advice ?? ''].join(' ').trim().replace(/\|/g, '\\|')} |`),
    '',
  ].join('\n');
}

export const GENERATED_SECTIONS: Record<string, () => string> = { apis: renderApis, errors: renderErrors };

