import { Readable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { MemoryObjectStore } from '#shared/memory-object-store';
import { silentLogger } from '#shared/logger';
import { MemoryProcessingLog } from '#shared/processing-log';
import { parseS3Event, type S3ObjectRef } from '#shared/s3-event';
import { BatchWriter } from './batch-writer';
import { importCsv, processImport } from './csv-import';
import event from './events/s3-put-csv.json';
import { MemoryReportSink } from './report';
import { parseRowSchema, type Item } from './row-schema';

const options = { schema: parseRowSchema('id:string,name:string,age:number,active:boolean'), keyColumn: 'id' };

function memoryTable() {
  const rows = new Map<string, Item>();
  const writer = new BatchWriter(
    async (items) => {
      for (const item of items) rows.set(String(item.id), item);
      return [];
    },
    { keyColumn: 'id' },
  );
  return { rows, writer };
}

const csv = (text: string) => Readable.from([Buffer.from(text)]);

describe('csv-import core: importCsv', () => {
  it('imports a CSV with a BOM, CRLF line ends and quoted fields, typing each column', async () => {
    const { rows, writer } = memoryTable();
    const report = new MemoryReportSink();
    const text = '\uFEFFid,name,age,active\r\n1,"Lovelace, Ada",36,true\r\n2,"Grace ""Amazing"" Hopper",85,no\r\n3,"multi\r\nline",,1\r\n';

    const summary = await importCsv(csv(text), options, writer, report);

    expect(summary).toEqual({ rowsRead: 3, rowsWritten: 3, rowsRejected: 0 });
    expect(rows.get('1')).toEqual({ id: '1', name: 'Lovelace, Ada', age: 36, active: true });
    expect(rows.get('2')).toEqual({ id: '2', name: 'Grace "Amazing" Hopper', age: 85, active: false });
    expect(rows.get('3')).toEqual({ id: '3', name: 'multi\r\nline', active: true });
    expect(await report.finish()).toBeUndefined();
  });

  it('reports every bad row with its line number and reason, neutralising formulas', async () => {
    const { rows, writer } = memoryTable();
    const report = new MemoryReportSink();
    const text = [
      'id,name,age,active',
      '1,Ada,36,true',
      ',Nobody,20,true',
      '2,Bob,old,true',
      '=HYPERLINK("http://x"),Eve,30,maybe',
      '3,Cy,40,false',
    ].join('\n');

    const summary = await importCsv(csv(text), options, writer, report);

    expect(summary).toEqual({ rowsRead: 5, rowsWritten: 2, rowsRejected: 3 });
    expect([...rows.keys()].sort()).toEqual(['1', '3']);
    await report.finish();
    expect(report.rows.map((r) => [r.line, r.reason])).toEqual([
      [3, 'missing value for key column "id"'],
      [4, '"age" is not a number: "old"'],
      [5, '"active" is not a boolean (true/false/yes/no/1/0): "maybe"'],
    ]);
    expect(report.text).toContain('\'=HYPERLINK(""http://x""),Eve,30,maybe');
    expect(report.text.split('\n')[0]).toBe('line,reason,row');
  });

  it('keeps stray quotes as text and reports a record left with an unclosed quote', async () => {
    const { rows, writer } = memoryTable();
    const report = new MemoryReportSink();
    const text = 'id,name\n1,Ada "the first"\n3,Cy\n4,"never closed\n';

    const summary = await importCsv(csv(text), options, writer, report);

    expect(summary.rowsWritten).toBe(2);
    expect(summary.rowsRejected).toBe(1);
    expect(rows.get('1')).toEqual({ id: '1', name: 'Ada "the first"' });
    expect([...rows.keys()].sort()).toEqual(['1', '3']);
    expect(report.rows).toEqual([{ line: 4, reason: expect.stringMatching(/unreadable CSV record: Quote Not Closed/), row: '4,"never closed\n' }]);
  });

  it('rejects the whole file when the header has no key column', async () => {
    const { writer } = memoryTable();
    await expect(importCsv(csv('name,age\nAda,36\n'), options, writer, new MemoryReportSink())).rejects.toThrow(
      'the header has no "id" column (found: name, age)',
    );
  });

  it('keeps memory flat: 1,000,000 rows grow the heap by less than 64 MB', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const ROWS = 1_000_000;
    function* lines() {
      yield 'id,name,age,active\n';
      for (let i = 0; i < ROWS; i += 1000) {
        let chunk = '';
        for (let j = i; j < i + 1000; j++) chunk += `${j},person number ${j} with a reasonably long name,${j % 90},${j % 2 === 0}\n`;
        yield chunk;
      }
    }
    let written = 0;
    let peak = 0;
    gc();
    const before = process.memoryUsage().heapUsed;
    const writer = new BatchWriter(
      async (items) => {
        written += items.length;
        if (written % 100_000 === 0) {
          gc();
          peak = Math.max(peak, process.memoryUsage().heapUsed - before);
        }
        return [];
      },
      { keyColumn: 'id' },
    );

    const summary = await importCsv(Readable.from(lines()), options, writer, new MemoryReportSink());

    expect(summary).toEqual({ rowsRead: ROWS, rowsWritten: ROWS, rowsRejected: 0 });
    console.log(`1M-row import: peak heap growth ${(peak / 1048576).toFixed(1)} MB`);
    expect(peak).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);
});

describe('csv-import core: processImport', () => {
  const config = { ...options, reportPrefix: 'reports/' };

  function setup() {
    const store = new MemoryObjectStore();
    const log = new MemoryProcessingLog();
    const table = memoryTable();
    const reports: MemoryReportSink[] = [];
    const deps = {
      store,
      log,
      logger: silentLogger,
      newWriter: () => table.writer,
      newReport: () => {
        const sink = new MemoryReportSink();
        reports.push(sink);
        return sink;
      },
    };
    return { store, log, table, reports, deps, ref: parseS3Event(event)[0] as S3ObjectRef };
  }

  it('records a summary with the counts and the report key', async () => {
    const { store, log, deps, ref } = setup();
    expect(ref.key).toBe('imports/team list 2026.csv');
    store.seed('uploads', ref.key, 'id,name\n1,Ada\n,nobody\n');

    const outcome = await processImport(ref, config, deps);

    expect(outcome).toEqual({ status: 'PROCESSED', rowsRead: 2, rowsWritten: 1, rowsRejected: 1, reportKey: 'memory-report' });
    expect([...log.items.values()][0]).toMatchObject({
      pk: 'uploads/imports/team list 2026.csv',
      sk: 'csv-import#0055AED6DCD90281F1:9b2cf535f27731c974343645a3985328',
      status: 'PROCESSED',
      details: { rowsRead: 2, rowsWritten: 1, rowsRejected: 1 },
    });
  });

  it('records FAILED for a file without the key column, and does not retry', async () => {
    const { store, log, deps, ref } = setup();
    store.seed('uploads', ref.key, 'name\nAda\n');
    expect(await processImport(ref, config, deps)).toEqual({ status: 'FAILED', reason: 'the header has no "id" column (found: name)' });
    expect([...log.items.values()][0]).toMatchObject({ status: 'FAILED', reason: 'the header has no "id" column (found: name)' });
  });

  it('records an empty file as PROCESSED with no rows', async () => {
    const { store, deps, ref } = setup();
    store.seed('uploads', ref.key, '');
    expect(await processImport(ref, config, deps)).toMatchObject({ status: 'PROCESSED', rowsRead: 0, rowsWritten: 0 });
  });

  it('does nothing for a redelivered event', async () => {
    const { store, log, deps, ref } = setup();
    store.seed('uploads', ref.key, 'id\n1\n');
    await processImport(ref, config, deps);
    expect(await processImport(ref, config, deps)).toEqual({ status: 'DUPLICATE' });
    expect(log.items.size).toBe(1);
  });

  it('ignores its own reports', async () => {
    const { deps, ref } = setup();
    expect((await processImport({ ...ref, key: 'reports/imports/a.csv' }, config, deps)).status).toBe('IGNORED');
  });

  it('records a key that is not .csv as FAILED with the reason, without reading it', async () => {
    const { deps, log, ref } = setup();
    expect(await processImport({ ...ref, key: 'imports/notes.txt' }, config, deps)).toEqual({ status: 'FAILED', reason: 'not a CSV file: only keys ending in .csv are imported' });
    expect([...log.items.values()][0]).toMatchObject({ key: 'imports/notes.txt', status: 'FAILED' });
    expect((await processImport({ ...ref, key: 'imports/UPPER.CSV' }, config, deps)).status).toBe('FAILED'); // object not seeded: read, found missing
  });
});
