/**
 * The README's configuration reference is generated from the settings
 * tables the broker validates against, so the page a newcomer reads cannot
 * drift from what the broker accepts. `npm run build && RUNNEL_UPDATE_DOCS=1
 * npx tap dist/tests/docs.test.js` rewrites it (and that run still fails; the
 * next passes).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { BROKER_SETTING_DEFS, TOPIC_DEFAULT_PREFIX } from '../broker/config.js';
import { envVarFor } from '../broker/config-sources.js';
import { TOPIC_CONFIG_DEFS } from '../broker/storage/log-config.js';
import { checkGeneratedSections } from './support/doc-sections.js';
import { inRepo } from './support/repo-root.js';

const readmePath = inRepo('README.md');
const cell = (text: string) => text.replace(/\|/g, '\\|');

function renderBrokerSettings(): string {
  const own = BROKER_SETTING_DEFS.filter((def) => !def.name.startsWith(TOPIC_DEFAULT_PREFIX) || def.name === 'log.retention.check.interval.ms');
  return [
    '| setting | environment | default | meaning |',
    '| --- | --- | --- | --- |',
    ...own.map((def) => `| \`${def.name}\` | \`${envVarFor(def.name)}\` | \`${cell(def.defaultValue) || '""'}\` | ${cell(def.doc)} |`),
    '',
  ].join('\n');
}

function renderTopicSettings(): string {
  return [
    '| topic setting | broker default | default | meaning |',
    '| --- | --- | --- | --- |',
    ...TOPIC_CONFIG_DEFS.map((def) => `| \`${def.name}\` | \`${TOPIC_DEFAULT_PREFIX}${def.name}\` | \`${cell(def.defaultValue)}\` | ${cell(def.doc)} |`),
    '',
  ].join('\n');
}

const sections = { 'broker-settings': renderBrokerSettings, 'topic-settings': renderTopicSettings };

t.test('README.md documents every broker and topic setting as the code has them', async (t) => {
  checkGeneratedSections(t, readmePath, sections, 'npm run build && RUNNEL_UPDATE_DOCS=1 npx tap dist/tests/docs.test.js');
});

t.test('README.md gives a newcomer the two commands', async (t) => {
  const readme = readFileSync(readmePath, 'utf8');
  t.match(readme, /npm ci && npm start/);
  t.match(readme, /npm ci && npm test/);
});
