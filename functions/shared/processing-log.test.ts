import { daysBetween, newLogItem } from './processing-log';

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
});
