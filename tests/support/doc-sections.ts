/**
 * Sections of a Markdown page that are generated from the code, between
 * `<!-- BEGIN GENERATED: name ... -->` and `<!-- END GENERATED: name -->`,
 * so a test can fail when a page drifts from the code and
 * `RUNNEL_UPDATE_DOCS=1` can rewrite it.
 */
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
