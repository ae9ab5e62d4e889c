import { replaceSection } from './markdown';

describe('replaceSection', () => {
  const doc = '# Benchmarks\n\nintro\n\n## A\n\nold a\n\n## B\n\nb\n';

  it('replaces one section and keeps the others', () => {
    expect(replaceSection(doc, 'A', '## A\n\nnew a')).toBe('# Benchmarks\n\nintro\n\n## A\n\nnew a\n\n## B\n\nb\n');
    expect(replaceSection(doc, 'B', '## B\n\nnew b\n')).toBe('# Benchmarks\n\nintro\n\n## A\n\nold a\n\n## B\n\nnew b\n');
  });

  it('appends a new section, and starts a document when there is none', () => {
    expect(replaceSection(doc, 'C', '## C\n\nc')).toBe(`${doc}\n## C\n\nc\n`);
    expect(replaceSection('', 'A', '## A\n\na')).toMatch(/^# Benchmarks\n[\s\S]*\n## A\n\na\n$/);
  });
});
