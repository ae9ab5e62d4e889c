// docs/benchmarks.md is made of `## ` sections; each bench command replaces its own and keeps the rest.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const BENCHMARKS_FILE = 'docs/benchmarks.md';
const PREAMBLE = '# Benchmarks\n\nEvery figure here was measured side by side in one run by the command named with it.\n\n';

/** `document` with the section titled `title` replaced by `section` (or appended). */
export function replaceSection(document: string, title: string, section: string): string {
  const body = document.trim() ? document : PREAMBLE;
  const heading = `## ${title}\n`;
  const start = body.indexOf(heading);
  const block = `${section.trimEnd()}\n`;
  if (start < 0) return `${body.trimEnd()}\n\n${block}`;
  const next = body.indexOf('\n## ', start + heading.length);
  return `${body.slice(0, start)}${block}${next < 0 ? '' : `\n${body.slice(next + 1)}`}`;
}

export function writeSection(title: string, section: string, file = BENCHMARKS_FILE): void {
  writeFileSync(file, replaceSection(existsSync(file) ? readFileSync(file, 'utf8') : '', title, section));
}
