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

  it('gives a source key too long for S3 a hashed report key', () => {
    expect(reportKey('reports/', `imports/people/${'a'.repeat(1000)}.csv`)).toMatch(/^reports\/long-keys\/[0-9a-f]{64}\.errors\.csv$/);
  });

  it("writes the file's header then line and reason, quoting where needed", async () => {
    const sink = new MemoryReportSink();
    sink.header(['id', 'name']);
    await sink.add({ line: 3, reason: 'missing value for key column "id"', cells: ['=1+1', 'Bob'] });
    expect(await sink.finish()).toBe('memory-report');
    expect(sink.text).toBe(`id,name,line,reason\n'=1+1,Bob,3,"missing value for key column ""id"""\n`);
  });

  it('does not repeat the line and reason columns of a report uploaded again', async () => {
    const sink = new MemoryReportSink();
    sink.header(['id', 'name', 'line', 'reason']);
    await sink.add({ line: 2, reason: 'still bad', cells: ['', 'Bob', '3', 'old reason'] });
    await sink.finish();
    expect(sink.text.split('\n').slice(0, 2)).toEqual(['id,name,line,reason', ',Bob,2,still bad']);
  });
});
