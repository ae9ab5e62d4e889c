import { MemoryObjectStore } from '#shared/memory-object-store';
import { MemoryProcessingLog, newLogItem } from '#shared/processing-log';
import { MemoryProcessingLogReader } from '#shared/processing-log-reader';
import { MemoryPublisher, type Notification, type Publisher } from '#shared/publisher';
import { silentLogger } from '#shared/logger';
import { parse } from 'csv-parse/sync';
import { reportDate, runReport, type ReportDeps } from './report';
import { MemoryRunMarkers } from './run-markers';
import { parseScheduledEvent } from './scheduled-event';

const settings = { bucket: 'reports', prefix: 'daily/', periodHours: 24, functions: ['thumbnail', 'csv-import'] };
const end = new Date('2026-11-25T06:00:00Z');

function logged(items: Array<{ fn: string; key: string; status: 'PROCESSED' | 'FAILED'; at: string; durationMs: number; reason?: string; details?: Record<string, unknown> }>) {
  const log = new MemoryProcessingLog();
  for (const i of items) {
    const item = newLogItem({ fn: i.fn, ref: { bucket: 'uploads', key: i.key, size: 1, eTag: i.key, versionId: undefined, sequencer: undefined, eventName: 'ObjectCreated:Put', eventTime: i.at }, status: i.status, durationMs: i.durationMs, reason: i.reason, details: i.details, now: new Date(i.at) });
    log.items.set(`${item.pk}|${item.sk}`, item);
  }
  return log;
}

function deps(log = new MemoryProcessingLog(), publisher: Publisher = new MemoryPublisher()) {
  const store = new MemoryObjectStore();
  const markers = new MemoryRunMarkers();
  const d: ReportDeps = { reader: new MemoryProcessingLogReader(log), store, publisher, markers, logger: silentLogger };
  return { d, store, markers, publisher };
}

describe('the daily report', () => {
  const log = logged([
    { fn: 'thumbnail', key: 'images/a.jpg', status: 'PROCESSED', at: '2026-11-24T06:00:00.000Z', durationMs: 120, details: { bytesIn: 1000, bytesOut: 400 } }, // first instant: in
    { fn: 'thumbnail', key: 'images/b.jpg', status: 'FAILED', at: '2026-11-24T23:59:59.999Z', durationMs: 15, reason: 'not an image' },
    { fn: 'csv-import', key: 'imports/people/p.csv', status: 'PROCESSED', at: '2026-11-25T05:59:59.999Z', durationMs: 800, details: { rowsRead: 4, rowsWritten: 3, rowsSkipped: 0, rowsRejected: 1 } }, // last instant: in
    { fn: 'thumbnail', key: 'images/early.jpg', status: 'PROCESSED', at: '2026-11-24T05:59:59.999Z', durationMs: 1, details: { bytesIn: 1, bytesOut: 1 } }, // before: out
    { fn: 'thumbnail', key: 'images/late.jpg', status: 'PROCESSED', at: '2026-11-25T06:00:00.000Z', durationMs: 1, details: { bytesIn: 1, bytesOut: 1 } }, // the end is excluded
  ]);

  it('covers [end - 24 h, end) and writes daily/<date>.json and .csv with its numbers', async () => {
    const { d, store, publisher } = deps(log);
    const out = await runReport(end, settings, d);
    expect(out).toMatchObject({
      date: '2026-11-25',
      period: '2026-11-24T06:00:00.000Z/2026-11-25T06:00:00.000Z',
      json: 's3://reports/daily/2026-11-25.json',
      csv: 's3://reports/daily/2026-11-25.csv',
      figures: { items: 3, processed: 2, failed: 1 },
      summary: 'sent',
    });
    const json = JSON.parse(store.read('reports', 'daily/2026-11-25.json')!.toString());
    expect(json).toMatchObject({
      date: '2026-11-25',
      from: '2026-11-24T06:00:00.000Z',
      to: '2026-11-25T06:00:00.000Z',
      items: 3,
      processed: 2,
      failed: 1,
      functions: [
        { function: 'csv-import', processed: 1, failed: 0, p50Ms: 800, p95Ms: 800 },
        { function: 'thumbnail', processed: 1, failed: 1, p50Ms: 15, p95Ms: 120 },
      ],
      thumbnails: { images: 1, bytesIn: 1000, bytesOut: 400 },
      imports: { files: 1, rowsRead: 4, rowsWritten: 3, rowsSkipped: 0, rowsRejected: 1 },
      topFailures: [{ function: 'thumbnail', reason: 'not an image', count: 1 }],
    });
    const rows = parse(store.read('reports', 'daily/2026-11-25.csv')!, { columns: true }) as Array<Record<string, string>>;
    const value = (metric: string, fn = '', detail = '') => rows.find((r) => r.metric === metric && r.function === fn && r.detail === detail)?.value;
    expect(value('items')).toBe('3');
    expect(value('failed', 'thumbnail')).toBe('1');
    expect(value('p95_ms', 'thumbnail')).toBe('120');
    expect(value('bytes_out', 'thumbnail')).toBe('400');
    expect(value('rows_rejected', 'csv-import')).toBe('1');
    expect(value('failure', 'thumbnail', 'not an image')).toBe('1');
    const sent = (publisher as MemoryPublisher).published;
    expect(sent).toHaveLength(1);
    expect(sent[0]!.subject).toBe('Daily report 2026-11-25: 2 processed, 1 failed');
    expect(sent[0]!.message).toContain('thumbnail: 1 processed, 1 failed, p50 15 ms, p95 120 ms');
    expect(sent[0]!.message).toContain('imports: 1 files, 4 rows read, 3 written, 1 rejected');
    expect(sent[0]!.message).toContain('1 x thumbnail: not an image');
    expect(sent[0]!.message).toContain('full report: s3://reports/daily/2026-11-25.json');
  });

  it('run twice for the same period, overwrites the same objects and sends one summary', async () => {
    const { d, store, publisher } = deps(log);
    await runReport(end, settings, d);
    const second = await runReport(end, settings, d);
    expect(second.summary).toBe('already sent');
    expect((publisher as MemoryPublisher).published).toHaveLength(1);
    expect([...store.objects.keys()].sort()).toEqual(['reports/daily/2026-11-25.csv', 'reports/daily/2026-11-25.json']);
  });

  it('reports an empty period as zeros, not an error', async () => {
    const { d, store, publisher } = deps();
    const out = await runReport(end, settings, d);
    expect(out.figures).toEqual({ items: 0, processed: 0, failed: 0 });
    const json = JSON.parse(store.read('reports', 'daily/2026-11-25.json')!.toString());
    expect(json.functions).toEqual([
      { function: 'csv-import', processed: 0, failed: 0, p50Ms: 0, p95Ms: 0 },
      { function: 'thumbnail', processed: 0, failed: 0, p50Ms: 0, p95Ms: 0 },
    ]);
    expect((publisher as MemoryPublisher).published[0]!.subject).toBe('Daily report 2026-11-25: 0 processed, 0 failed');
  });

  it('lets a later run send the summary when publishing failed, and refuses while another run holds the claim', async () => {
    let fail = true;
    const published: Notification[] = [];
    const flaky: Publisher = {
      publish: async (n) => {
        if (fail) throw new Error('SNS is down');
        published.push(n);
        return 'm-1';
      },
    };
    const { d, markers } = deps(log, flaky);
    await expect(runReport(end, settings, d)).rejects.toThrow('SNS is down');
    expect(markers.items.size).toBe(0); // released
    fail = false;
    expect((await runReport(end, settings, d)).summary).toBe('sent');
    expect(published).toHaveLength(1);
    // A claim taken a moment ago by another invocation: this one fails, to be retried.
    const busy = deps(log);
    await busy.markers.claim('2026-11-24T06:00:00.000Z/2026-11-25T06:00:00.000Z', new Date());
    await expect(runReport(end, settings, busy.d)).rejects.toThrow('another run is sending the summary');
  });

  it('dates a report by the last instant of its period', () => {
    expect(reportDate(new Date('2026-11-25T06:00:00Z'))).toBe('2026-11-25');
    expect(reportDate(new Date('2026-11-25T00:00:00Z'))).toBe('2026-11-24');
  });
});

describe('the scheduled event', () => {
  it('is read from a rule, from Scheduler, or {} for now', () => {
    expect(parseScheduledEvent({ 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2026-11-25T06:00:00Z' })).toEqual({ source: 'aws.events', time: new Date('2026-11-25T06:00:00Z') });
    expect(parseScheduledEvent({ 'detail-type': 'Scheduled Event', source: 'aws.scheduler', time: '2026-11-25T06:00:00Z' }).source).toBe('aws.scheduler');
    const now = new Date('2026-11-24T12:34:56Z');
    expect(parseScheduledEvent({}, () => now)).toEqual({ source: 'manual', time: now });
    expect(parseScheduledEvent(null, () => now)).toEqual({ source: 'manual', time: now });
  });

  it.each([
    [{ Records: [] }, 'not a scheduled event: expected {"detail-type":"Scheduled Event"'],
    [{ 'detail-type': 'Scheduled Event', time: 'tomorrow' }, 'the scheduled event\'s time is not a date: "tomorrow"'],
    [[1, 2], 'not a scheduled event'],
  ])('refuses %j saying what it expects', (event, message) => {
    expect(() => parseScheduledEvent(event)).toThrow(message);
  });
});
