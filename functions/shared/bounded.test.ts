import { capText } from './bounded';

describe('capText', () => {
  it('keeps short text as it is and cuts long text with an ellipsis', () => {
    expect(capText('short')).toBe('short');
    const long = capText('x'.repeat(50_000));
    expect(long).toHaveLength(1024);
    expect(long.endsWith('…')).toBe(true);
  });

  it('never cuts a surrogate pair in half', () => {
    const text = `${'a'.repeat(1022)}😀😀`;
    const cut = capText(text);
    expect(cut.length).toBeLessThanOrEqual(1024);
    expect(() => encodeURIComponent(cut)).not.toThrow();
  });
});
