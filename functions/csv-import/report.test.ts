import { MemoryReportSink, neutraliseCell, reportKey } from './report';

describe('rejected-rows report', () => {
  it('neutralises cells a spreadsheet would run as formulas', () => {
    expect(neutraliseCell('=HYPERLINK("http://evil")')).toBe('\'=HYPERLINK("http://evil")');
    expect(neutraliseCell('+1')).toBe("'+1");
    expect(neutraliseCell('-1')).toBe("'-1");
    expect(neutraliseCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(neutraliseCell('\tcmd')).toBe("'\tcmd");
    expect(neutraliseCell('plain, text')).toBe('plain, text');
  });

  it('is written next to the source under the report prefix, outside imports/', () => {
    expect(reportKey('reports/', 'imports/people.csv')).toBe('reports/imports/people.csv.errors.csv');
  });

  it('writes a CSV with a header, quoting where needed', async () => {
    const sink = new MemoryReportSink();
    await sink.add({ line: 3, reason: 'missing value for key column "id"', row: '=1+1,Bob' });
    expect(await sink.finish()).toBe('memory-report');
    expect(sink.text).toBe('line,reason,row\n3,"missing value for key column ""id""","\'=1+1,Bob"\n');
  });
});
