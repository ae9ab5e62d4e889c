import { MemoryProcessingLog, newLogItem, type ProcessingLogItem } from './processing-log';
import { daysBetween, decodeCursor, encodeCursor, InvalidCursor, MemoryProcessingLogReader, pageByDay } from './processing-log-reader';

/** A log with one item per (key, time, status), as the pipelines write them. */
function logOf(entries: Array<[key: string, at: string, status?: ProcessingLogItem['status']]>) {
  const log = new MemoryProcessingLog();
  for (const [key, at, status = 'PROCESSED'] of entries) {
    const item = newLogItem({ fn: key.startsWith('imports/') ? 'csv-import' : 'thumbnail', ref: { bucket: 'uploads', key, size: 1, eTag: key, versionId: undefined, sequencer: undefined, eventName: 'ObjectCreated:Put', eventTime: at }, status, durationMs: 1, now: new Date(at) });
    log.items.set(`${item.pk}|${item.sk}`, item);
  }
  return { log, reader: new MemoryProcessingLogReader(log) };
}

describe('the processing log by day', () => {
  it('dates each item by the UTC day of createdAt', () => {
    const item = newLogItem({ fn: 'thumbnail', ref: { bucket: 'uploads', key: 'images/a.jpg', size: 1, eTag: 'e', versionId: undefined, sequencer: undefined, eventName: 'ObjectCreated:Put', eventTime: '' }, status: 'PROCESSED', durationMs: 1.6, now: new Date('2026-11-24T23:59:59.999Z') });
    expect(item).toMatchObject({ day: '2026-11-24', createdAt: '2026-11-24T23:59:59.999Z', durationMs: 2 });
  });

  it('lists the day partitions an interval touches, newest first', () => {
    expect(daysBetween(new Date('2026-11-24T06:00:00Z'), new Date('2026-11-25T06:00:00Z'))).toEqual(['2026-11-25', '2026-11-24']);
    // A period ending at midnight does not touch the day that starts then.
    expect(daysBetween(new Date('2026-11-24T00:00:00Z'), new Date('2026-11-25T00:00:00Z'))).toEqual(['2026-11-24']);
    expect(daysBetween(new Date('2026-11-24T00:00:00Z'), new Date('2026-11-24T00:00:00Z'))).toEqual([]);
    expect(daysBetween(new Date('2026-11-24T10:00:00Z'), new Date('2026-11-24T11:00:00Z'))).toEqual(['2026-11-24']);
    expect(daysBetween(new Date('2026-02-27T12:00:00Z'), new Date('2026-03-01T01:00:00Z'))).toEqual(['2026-03-01', '2026-02-28', '2026-02-27']);
  });

  describe('pages, newest first', () => {
    const now = new Date('2026-11-24T12:00:00Z');
    const { reader } = logOf([
      ['images/a.jpg', '2026-11-24T11:00:00.000Z'],
      ['images/b.jpg', '2026-11-24T10:00:00.000Z', 'FAILED'],
      ['imports/people/c.csv', '2026-11-24T09:00:00.000Z'],
      ['images/d.jpg', '2026-11-22T23:00:00.000Z', 'FAILED'], // two days back: an empty day between
      ['images/e.jpg', '2026-11-22T22:00:00.000Z'],
      ['images/old.jpg', '2026-10-01T00:00:00.000Z'], // beyond a 30-day horizon
    ]);
    const keys = (items: ProcessingLogItem[]) => items.map((i) => i.key);

    it('walks back day by day, across empty days, and resumes exactly where a page ended', async () => {
      const first = await reader.page({ limit: 2, horizonDays: 30, now });
      expect(keys(first.items)).toEqual(['images/a.jpg', 'images/b.jpg']);
      const second = await reader.page({ limit: 2, horizonDays: 30, now, cursor: first.cursor! });
      expect(keys(second.items)).toEqual(['imports/people/c.csv', 'images/d.jpg']);
      const third = await reader.page({ limit: 2, horizonDays: 30, now, cursor: second.cursor! });
      expect(keys(third.items)).toEqual(['images/e.jpg']);
      expect(third.cursor).toBeUndefined(); // the horizon is reached: nothing older is listed
    });

    it('filters by key prefix and by status without losing items at page ends', async () => {
      const images = await reader.page({ limit: 10, horizonDays: 30, now, prefix: 'images/' });
      expect(keys(images.items)).toEqual(['images/a.jpg', 'images/b.jpg', 'images/d.jpg', 'images/e.jpg']);
      const failedFirst = await reader.page({ limit: 1, horizonDays: 30, now, status: 'FAILED' });
      const failedNext = await reader.page({ limit: 1, horizonDays: 30, now, status: 'FAILED', cursor: failedFirst.cursor! });
      expect([...keys(failedFirst.items), ...keys(failedNext.items)]).toEqual(['images/b.jpg', 'images/d.jpg']);
    });

    it('stops at the horizon: a quiet month costs its days in queries, not a Scan', async () => {
      const { reader: empty } = logOf([]);
      const page = await empty.page({ limit: 25, horizonDays: 7, now });
      expect(page).toEqual({ items: [] });
      expect(empty.queries).toEqual(['2026-11-24', '2026-11-23', '2026-11-22', '2026-11-21', '2026-11-20', '2026-11-19', '2026-11-18']);
    });

    it('reads quiet days several at a time, and a day read ahead with more than is wanted resumes after what was handed out', async () => {
      let inFlight = 0;
      let most = 0;
      const asked: string[] = [];
      await pageByDay(async (day) => {
        asked.push(day);
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        return { items: [] };
      }, { limit: 25, horizonDays: 30, now });
      expect(asked).toHaveLength(30);
      expect(most).toBe(8);

      const { reader: busy } = logOf([
        ['images/x.jpg', '2026-11-24T08:00:00.000Z'],
        ['images/p.jpg', '2026-11-23T23:00:00.000Z'],
        ['images/q.jpg', '2026-11-23T22:00:00.000Z'],
        ['images/r.jpg', '2026-11-23T21:00:00.000Z'],
      ]);
      // Day 23 was asked for 3 items while day 24 was still out; only 2 of them fit this page.
      const first = await busy.page({ limit: 3, horizonDays: 30, now });
      expect(keys(first.items)).toEqual(['images/x.jpg', 'images/p.jpg', 'images/q.jpg']);
      const second = await busy.page({ limit: 3, horizonDays: 30, now, cursor: first.cursor! });
      expect(keys(second.items)).toEqual(['images/r.jpg']);
    });

    it('refuses a cursor it did not hand out', () => {
      expect(() => decodeCursor('not-a-cursor')).toThrow(InvalidCursor);
      expect(() => decodeCursor(Buffer.from('{"d":"yesterday"}').toString('base64url'))).toThrow('cursor is not one this API handed out');
      expect(() => decodeCursor(Buffer.from('{"d":"2026-11-24","p":[1,2,3]}').toString('base64url'))).toThrow(InvalidCursor);
      expect(decodeCursor(encodeCursor('2026-11-24', { pk: 'uploads/a', sk: 'thumbnail#v', createdAt: '2026-11-24T11:00:00.000Z' }))).toEqual({
        day: '2026-11-24',
        position: { pk: 'uploads/a', sk: 'thumbnail#v', createdAt: '2026-11-24T11:00:00.000Z' },
      });
    });
  });
});
