// The report core: for the period that ends at the scheduled time, read the processing log through
// its by-day index, aggregate, write daily/<date>.json and .csv, and send one SNS summary. Running
// twice for a period overwrites the same objects and sends the summary once (a marker per period,
// keyed by its start and end: the retries of one scheduled event share it, another run does not).
import { stringify } from 'csv-stringify/sync';
import type { Logger } from '#shared/logger';
import type { ObjectStore } from '#shared/object-store';
import type { ProcessingLogItem } from '#shared/processing-log';
import type { ProcessingLogReader } from '#shared/processing-log-reader';
import type { Publisher } from '#shared/publisher';
import { aggregate, type ReportFigures } from './aggregate';

/** Who sent the summary of a period: claimed before publishing, confirmed after. */
export interface RunMarkers {
  /** 'claimed' when this run may publish; 'sent' when the summary went out already; 'busy' when another run claimed it lately. */
  claim(period: string, now: Date): Promise<'claimed' | 'sent' | 'busy'>;
  confirm(period: string, messageId: string, now: Date): Promise<void>;
  release(period: string): Promise<void>;
}

export interface ReportDeps {
  reader: ProcessingLogReader;
  store: ObjectStore;
  publisher: Publisher;
  markers: RunMarkers;
  logger: Logger;
}

export interface ReportSettings {
  bucket: string;
  prefix: string;
  periodHours: number;
  /** Functions reported even with nothing in the period. */
  functions: readonly string[];
}

export interface ReportOutcome {
  date: string;
  /** `<from>/<to>` (ISO 8601 interval): the marker's key. */
  period: string;
  from: string;
  to: string;
  json: string;
  csv: string;
  figures: Pick<ReportFigures, 'items' | 'processed' | 'failed'>;
  summary: 'sent' | 'already sent';
  /** One line for a person: where the report is and its counts. */
  headline: string;
}

/** The report's date: the UTC day the period's last instant falls on (a period ending at midnight is the day before). */
export const reportDate = (end: Date): string => new Date(end.getTime() - 1).toISOString().slice(0, 10);

export function reportCsv(f: ReportFigures): string {
  const rows: Array<[string, string, string, number]> = [
    ['items', '', '', f.items],
    ['processed', '', '', f.processed],
    ['failed', '', '', f.failed],
    ...f.functions.flatMap((fn): Array<[string, string, string, number]> => [
      ['processed', fn.function, '', fn.processed],
      ['failed', fn.function, '', fn.failed],
      ['p50_ms', fn.function, '', fn.p50Ms],
      ['p95_ms', fn.function, '', fn.p95Ms],
    ]),
    ['images', 'thumbnail', '', f.thumbnails.images],
    ['bytes_in', 'thumbnail', '', f.thumbnails.bytesIn],
    ['bytes_out', 'thumbnail', '', f.thumbnails.bytesOut],
    ['files', 'csv-import', '', f.imports.files],
    ['rows_read', 'csv-import', '', f.imports.rowsRead],
    ['rows_written', 'csv-import', '', f.imports.rowsWritten],
    ['rows_skipped', 'csv-import', '', f.imports.rowsSkipped],
    ['rows_rejected', 'csv-import', '', f.imports.rowsRejected],
    ...f.topFailures.map((r): [string, string, string, number] => ['failure', r.function, r.reason, r.count]),
  ];
  return stringify([['metric', 'function', 'detail', 'value'], ...rows]);
}

export function summaryMessage(date: string, f: ReportFigures, json: string): { subject: string; message: string } {
  const top = f.topFailures.slice(0, 3).map((r) => `  ${r.count} x ${r.function}: ${r.reason}`);
  return {
    subject: `Daily report ${date}: ${f.processed} processed, ${f.failed} failed`,
    message: [
      `Report for ${date}: ${f.items} processing records, ${f.processed} processed, ${f.failed} failed.`,
      ...f.functions.map((fn) => `${fn.function}: ${fn.processed} processed, ${fn.failed} failed, p50 ${fn.p50Ms} ms, p95 ${fn.p95Ms} ms`),
      `thumbnails: ${f.thumbnails.images} images, ${f.thumbnails.bytesIn} bytes in, ${f.thumbnails.bytesOut} bytes out`,
      `imports: ${f.imports.files} files, ${f.imports.rowsRead} rows read, ${f.imports.rowsWritten} written, ${f.imports.rowsRejected} rejected`,
      ...(top.length > 0 ? ['top failure reasons:', ...top] : []),
      `full report: ${json}`,
    ].join('\n'),
  };
}

export async function runReport(end: Date, settings: ReportSettings, deps: ReportDeps): Promise<ReportOutcome> {
  const from = new Date(end.getTime() - settings.periodHours * 3_600_000);
  const items: ProcessingLogItem[] = [];
  for await (const item of deps.reader.between(from, end)) items.push(item);
  const figures = aggregate(items, { functions: settings.functions });
  const date = reportDate(end);
  const json = `${settings.prefix}${date}.json`;
  const csv = `${settings.prefix}${date}.csv`;
  const body = { date, from: from.toISOString(), to: end.toISOString(), generatedAt: new Date().toISOString(), ...figures };
  await deps.store.put(settings.bucket, json, Buffer.from(`${JSON.stringify(body, null, 2)}\n`), 'application/json');
  await deps.store.put(settings.bucket, csv, Buffer.from(reportCsv(figures)), 'text/csv');
  const location = `s3://${settings.bucket}/${json}`;
  const period = `${from.toISOString()}/${end.toISOString()}`;
  const outcome = (summary: ReportOutcome['summary']): ReportOutcome => ({
    date,
    period,
    from: from.toISOString(),
    to: end.toISOString(),
    json: location,
    csv: `s3://${settings.bucket}/${csv}`,
    figures: { items: figures.items, processed: figures.processed, failed: figures.failed },
    summary,
    headline: `report ${date} at ${location} (and .csv): ${figures.processed} processed, ${figures.failed} failed (${figures.thumbnails.images} images, ${figures.imports.files} CSV files, ${figures.imports.rowsWritten} rows written, ${figures.imports.rowsRejected} rejected); summary ${summary}`,
  });
  const claim = await deps.markers.claim(period, new Date());
  if (claim === 'sent') {
    deps.logger.info({ date, period }, 'report rewritten; its summary was sent before');
    return outcome('already sent');
  }
  if (claim === 'busy') throw new Error(`another run is sending the summary of ${period}; this invocation is retried`);
  try {
    const messageId = await deps.publisher.publish({ ...summaryMessage(date, figures, location), attributes: { report: 'daily', date, period } });
    await deps.markers.confirm(period, messageId, new Date());
  } catch (error) {
    await deps.markers.release(period).catch(() => undefined);
    throw error;
  }
  deps.logger.info({ date, period, items: figures.items, processed: figures.processed, failed: figures.failed }, 'report written and summary sent');
  return outcome('sent');
}
