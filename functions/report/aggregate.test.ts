import type { ProcessingLogItem } from '#shared/processing-log';
import { aggregate, percentile } from './aggregate';

let n = 0;
/** A processing-log item with only what the aggregation reads. */
const item = (fn: string, status: 'PROCESSED' | 'FAILED', durationMs: number, extra: Partial<ProcessingLogItem> = {}): ProcessingLogItem => ({
  pk: `uploads/k${++n}`,
  sk: `${fn}#v`,
  function: fn,
  bucket: 'uploads',
  key: `k${n}`,
  objectVersion: 'v',
  status,
  createdAt: '2026-11-24T10:00:00.000Z',
  day: '2026-11-24',
  durationMs,
  ...extra,
});

describe('report figures', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 20 }, (_, i) => (i + 1) * 10); // 10..200
    expect(percentile(values, 50)).toBe(100);
    expect(percentile(values, 95)).toBe(190);
    expect(percentile([42], 50)).toBe(42);
    expect(percentile([42], 95)).toBe(42);
    expect(percentile([], 95)).toBe(0);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 95)).toBe(4);
  });

  it('counts, times and sums a known mix', () => {
    const items = [
      // thumbnail: 3 processed (100, 300, 200 ms), 2 failed (50, 1000 ms)
      item('thumbnail', 'PROCESSED', 100, { details: { bytesIn: 1000, bytesOut: 300 } }),
      item('thumbnail', 'PROCESSED', 300, { details: { bytesIn: 2000, bytesOut: 500 } }),
      item('thumbnail', 'PROCESSED', 200, { details: { bytesIn: 500, bytesOut: 100 } }),
      item('thumbnail', 'FAILED', 50, { reason: 'not an image', details: { bytesIn: 10 } }),
      item('thumbnail', 'FAILED', 1000, { reason: 'not an image' }),
      // csv-import: 2 files, 1 failed
      item('csv-import', 'PROCESSED', 700, { details: { rowsRead: 10, rowsWritten: 8, rowsSkipped: 1, rowsRejected: 1 } }),
      item('csv-import', 'PROCESSED', 900, { details: { rowsRead: 5, rowsWritten: 2, rowsSkipped: 0, rowsRejected: 3 } }),
      item('csv-import', 'FAILED', 20, { reason: 'not a CSV file: only keys ending in .csv are imported' }),
      // notify: one processed
      item('notify', 'PROCESSED', 30),
    ];
    const f = aggregate(items);
    expect(f).toMatchObject({ items: 9, processed: 6, failed: 3 });
    expect(f.functions).toEqual([
      { function: 'csv-import', processed: 2, failed: 1, p50Ms: 700, p95Ms: 900 },
      { function: 'notify', processed: 1, failed: 0, p50Ms: 30, p95Ms: 30 },
      // durations sorted: 50 100 200 300 1000 -> p50 = 3rd = 200, p95 = 5th = 1000
      { function: 'thumbnail', processed: 3, failed: 2, p50Ms: 200, p95Ms: 1000 },
    ]);
    // Bytes of processed images only: a rejected file produced nothing.
    expect(f.thumbnails).toEqual({ images: 3, bytesIn: 3500, bytesOut: 900 });
    expect(f.imports).toEqual({ files: 2, rowsRead: 15, rowsWritten: 10, rowsSkipped: 1, rowsRejected: 4 });
    expect(f.topFailures).toEqual([
      { function: 'thumbnail', reason: 'not an image', count: 2 },
      { function: 'csv-import', reason: 'not a CSV file: only keys ending in .csv are imported', count: 1 },
    ]);
  });

  it('keeps the top N reasons, most frequent first, ties in a stable order', () => {
    const items = [
      ...['b', 'a', 'c', 'a', 'c', 'c'].map((reason) => item('thumbnail', 'FAILED', 1, { reason })),
      item('audit', 'FAILED', 1),
    ];
    expect(aggregate(items, { topN: 3 }).topFailures).toEqual([
      { function: 'thumbnail', reason: 'c', count: 3 },
      { function: 'thumbnail', reason: 'a', count: 2 },
      { function: 'audit', reason: '(no reason given)', count: 1 },
    ]);
  });

  it('makes zeros of an empty period, with a row for each function named', () => {
    expect(aggregate([], { functions: ['thumbnail', 'csv-import'] })).toEqual({
      items: 0,
      processed: 0,
      failed: 0,
      functions: [
        { function: 'csv-import', processed: 0, failed: 0, p50Ms: 0, p95Ms: 0 },
        { function: 'thumbnail', processed: 0, failed: 0, p50Ms: 0, p95Ms: 0 },
      ],
      thumbnails: { images: 0, bytesIn: 0, bytesOut: 0 },
      imports: { files: 0, rowsRead: 0, rowsWritten: 0, rowsSkipped: 0, rowsRejected: 0 },
      topFailures: [],
    });
  });

  it('ignores details that are not numbers rather than producing NaN', () => {
    const f = aggregate([item('thumbnail', 'PROCESSED', 5, { details: { bytesIn: 'lots', bytesOut: null } })]);
    expect(f.thumbnails).toEqual({ images: 1, bytesIn: 0, bytesOut: 0 });
  });
});
