/**
 * Sections of a Markdown page that are generated from the code, between
 * `<!-- BEGIN GENERATED: name ... -->` and `<!-- END GENERATED: name -->`,
 * so a test can fail when a page drifts from the code, and a developer can
 * rewrite them with RUNNEL_UPDATE_DOCS=1.
 *
 * Regenerating is never a pass: `checkGeneratedSections` judges the page as
 * it was when the run started, so a run that rewrites a stale section still
 * fails for it (the next run passes). A run, CI's above all, cannot turn
 * green by setting the variable.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Test } from 'tap';

const sectionPattern = (name: string) =>
  new RegExp(`(<!-- BEGIN GENERATED: ${name} [^>]*-->\\n)([\\s\\S]*?)(<!-- END GENERATED: ${name} -->)`);

/** The document's current text of a generated section, or null when its markers are missing. */
export function currentSection(doc: string, name: string): string | null {
  return sectionPattern(name).exec(doc)?.[2] ?? null;
}

/** The document with every generated section replaced by a fresh rendering. */
export function regenerateSections(doc: string, sections: Record<string, () => string>): string {
  let out = doc;
  for (const [name, render] of Object.entries(sections)) {
    out = out.replace(sectionPattern(name), (_m, begin: string, _old: string, end: string) => `${begin}${render()}${end}`);
  }
  return out;
}

/**
 * One assertion per section: the page at `docPath` holds exactly what the
 * code renders. With RUNNEL_UPDATE_DOCS=1, stale sections are also rewritten
 * (and still fail this run). `how` says how to regenerate, for the messages.
 */
export function checkGeneratedSections(t: Test, docPath: string, sections: Record<string, () => string>, how: string): void {
  const doc = readFileSync(docPath, 'utf8');
  const stale = Object.entries(sections).filter(([name, render]) => currentSection(doc, name) !== render()).map(([name]) => name);
  if (process.env['RUNNEL_UPDATE_DOCS'] === '1' && stale.length > 0) {
    writeFileSync(docPath, regenerateSections(doc, sections));
    t.comment(`rewrote ${stale.join(', ')} in ${basename(docPath)}: review the diff, then run again (this run still fails for them)`);
  }
  for (const [name, render] of Object.entries(sections)) {
    t.equal(currentSection(doc, name), render(), `generated section "${name}" of ${basename(docPath)} is current (${how} rewrites it)`);
  }
}
