import { formatSummary, percentile, summarize, table, verdict } from './stats';

describe('bench statistics', () => {
  it('summarizes runs as median, min and max', () => {
    expect(summarize([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, runs: 3 });
    expect(summarize([4, 1, 3, 2]).median).toBe(2.5);
    expect(() => summarize([])).toThrow(/no measurements/);
  });

  it('takes nearest-rank percentiles', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(hundred, 50), percentile(hundred, 95), percentile(hundred, 100)]).toEqual([50, 95, 100]);
    expect(percentile([7], 95)).toBe(7);
  });

  it('formats figures, verdicts and tables', () => {
    expect(formatSummary({ median: 2, min: 1, max: 3.25, runs: 3 })).toBe('2.0 (1.0-3.3)');
    expect(formatSummary({ median: 2, min: 2, max: 2, runs: 1 }, 0)).toBe('2');
    expect(verdict(0.79, 0.8)).toBe('0.79x >= 0.8x MISSED');
    expect(verdict(120, 150, false)).toBe('120.00x <= 150x met');
    expect(table(['a', 'b'], [['1', '2']])).toBe('| a | b |\n|---|---|\n| 1 | 2 |');
  });
});
