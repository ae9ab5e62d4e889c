// The csv-import core: pick the data set from the key's prefix, stream-parse, turn each row into
// an item of the data set's table, write the good ones (put, or if-newer), report the rejected ones
// with the file's own header, record a summary. Rows flow through with backpressure: memory stays
// flat, and a record longer than MAX_RECORD_BYTES stops the import instead of filling memory.
import type { Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import { capText } from '#shared/bounded';
import { RejectedInput } from '#shared/errors';
import type { Logger } from '#shared/logger';
import type { ObjectStore } from '#shared/object-store';
import { newLogItem, processingLogKey, type ProcessingLog } from '#shared/processing-log';
import type { S3ObjectRef } from '#shared/s3-event';
import type { RowWriter } from './batch-writer';
import { datasetFor, type ResolvedDataset } from './datasets';
import type { RejectedRow, ReportSink } from './report';
import { readHeader, rowToItem, type Header } from './row-schema';

export const FUNCTION_NAME = 'csv-import';

export interface ImportLimits {
  /** Bytes one CSV record may take before the import stops (default 1 MiB). */
  maxRecordBytes: number;
}

export interface ImportSummary {
  rowsRead: number;
  rowsWritten: number;
  /** Rows the table already holds in the same or a newer version (if-newer). */
  rowsSkipped: number;
  rowsRejected: number;
}

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

/** An excerpt of a record that could not be read: enough to find it, never the whole of it. */
const excerpt = (raw: string): string => capText(raw.replace(/\r?\n$/, ''), 200);

/**
 * Imports one CSV stream into a data set's table: a header row (BOM, quotes and CRLF handled by
 * csv-parse), then rows. A header without the key columns rejects the file, so does a record
 * longer than `maxRecordBytes` (RejectedInput); a bad row is reported and skipped; a write error
 * propagates.
 */
export async function importCsv(input: Readable, dataset: ResolvedDataset, writer: RowWriter, report: ReportSink, limits: ImportLimits): Promise<ImportSummary> {
  let lastLine = 0;
  const parser = parse({
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    // A stray quote inside an unquoted cell is kept as text rather than derailing the rest of the file.
    relax_quotes: true,
    skip_records_with_error: true,
    info: true,
    raw: true,
    max_record_size: limits.maxRecordBytes,
    // Called as each record is parsed (before the loop below sees it): where the last good record ended.
    on_record: (record: string[], context: { lines: number }) => {
      lastLine = context.lines;
      return record;
    },
  });
  let rowsRead = 0;
  let rowsRejected = 0;
  // Records csv-parse could not read (e.g. a quote never closed) are skipped by it and reported here.
  const unreadable: RejectedRow[] = [];
  parser.on('skip', (error: CsvError & { lines?: number; raw?: string }) => {
    if (error.code === 'CSV_MAX_RECORD_SIZE') {
      // Thrown from the listener, it stops the parser at once: it would otherwise report the same
      // oversized record again for every further byte.
      throw new RejectedInput(
        `the CSV record starting at line ${lastLine + 1} is longer than ${limits.maxRecordBytes} bytes (MAX_RECORD_BYTES), an unclosed quote perhaps; the import stopped there after ${rowsRead} rows`,
      );
    }
    // csv-parse may report one broken record more than once: keep one entry per line.
    if (unreadable.some((u) => u.line === error.lines)) return;
    unreadable.push({ line: error.lines ?? 0, reason: `unreadable CSV record: ${error.message}`, cells: [excerpt(error.raw ?? '')] });
  });
  const reject = async (row: RejectedRow) => {
    rowsRejected++;
    await report.add({ ...row, reason: capText(row.reason) });
  };
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  let header: Header | undefined;
  try {
    for await (const { record, info } of parser as AsyncIterable<ParsedRecord>) {
      for (const row of unreadable.splice(0)) {
        rowsRead++;
        await reject(row);
      }
      if (!header) {
        header = readHeader(record, dataset);
        report.header(header.cells);
        continue;
      }
      rowsRead++;
      const result = rowToItem(header, record, dataset, dataset.tableKeys);
      const version = dataset.upsert.mode === 'if-newer' ? dataset.upsert.versionColumn : undefined;
      if (result.ok && version && result.item[version] === undefined) await reject({ line: info.lines, reason: `missing value for version column "${version}"`, cells: record });
      else if (result.ok) await writer.add(result.item);
      else await reject({ line: info.lines, reason: result.reason, cells: record });
    }
  } catch (error) {
    parser.destroy();
    input.destroy();
    const cause = error instanceof RejectedInput ? error : (error as { cause?: unknown }).cause;
    if (cause instanceof RejectedInput) throw cause;
    throw error;
  }
  for (const row of unreadable.splice(0)) {
    rowsRead++;
    await reject(row);
  }
  await writer.flush();
  return { rowsRead, rowsWritten: writer.written, rowsSkipped: writer.skipped, rowsRejected };
}

export interface CsvImportDeps {
  store: ObjectStore;
  log: ProcessingLog;
  logger: Logger;
  newWriter: (dataset: ResolvedDataset) => RowWriter;
  newReport: (ref: S3ObjectRef) => ReportSink;
  now?: () => number;
}

export interface CsvImportSettings extends ImportLimits {
  datasets: readonly ResolvedDataset[];
  reportPrefix: string;
}

export type CsvImportOutcome =
  | { status: 'IGNORED'; reason: string }
  | { status: 'DUPLICATE' }
  | ({ status: 'PROCESSED'; dataset: string; table: string; reportKey?: string } & ImportSummary)
  | { status: 'FAILED'; reason: string };

/**
 * Imports one uploaded object and records the summary. A file that cannot be imported at all is
 * recorded FAILED (no retry); AWS errors throw so the platform retries the event.
 */
export async function processImport(ref: S3ObjectRef, settings: CsvImportSettings, deps: CsvImportDeps): Promise<CsvImportOutcome> {
  const now = deps.now ?? Date.now;
  if (ref.key.startsWith(settings.reportPrefix)) return { status: 'IGNORED', reason: 'a rejected-rows report (recursion guard)' };
  if (await deps.log.has(processingLogKey(FUNCTION_NAME, ref))) return { status: 'DUPLICATE' };

  const started = now();
  const record = async (outcome: Exclude<CsvImportOutcome, { status: 'IGNORED' | 'DUPLICATE' }>, extra: Record<string, unknown> = {}): Promise<CsvImportOutcome> => {
    const { status, ...details } = outcome;
    const item = newLogItem({
      fn: FUNCTION_NAME,
      ref,
      status,
      durationMs: now() - started,
      ...(outcome.status === 'FAILED' ? { reason: outcome.reason, details: extra } : { details: { ...details, ...extra } }),
    });
    const written = await deps.log.putOnce(item);
    deps.logger.info({ bucket: ref.bucket, key: ref.key, ...outcome, written }, 'csv import done');
    return written === 'created' ? outcome : { status: 'DUPLICATE' };
  };

  // The trigger selects by prefix only (an SNS filter cannot AND a prefix and a suffix): say why
  // anything else is not imported, rather than dropping it silently.
  if (!ref.key.toLowerCase().endsWith('.csv')) return record({ status: 'FAILED', reason: 'not a CSV file: only keys ending in .csv are imported' });
  const dataset = datasetFor(settings.datasets, ref.key);
  if (!dataset) {
    const known = settings.datasets.map((d) => `${d.name} (${d.prefix})`).join(', ');
    return record({ status: 'FAILED', reason: `${ref.key} matches no data set; upload it under the prefix of one of: ${known}` });
  }
  // Ranged reads: the parser's pace (DynamoDB's) never keeps an S3 response idle.
  const object = await deps.store.getRanged(ref.bucket, ref.key, {
    onRetry: ({ resumeAt, attempt, error }) =>
      deps.logger.warn({ key: ref.key, resumeAt, attempt, err: (error as Error)?.message }, 'S3 read broke; resuming where it stopped'),
  });
  if (!object) return record({ status: 'FAILED', reason: 'object no longer exists (deleted before it was imported)' });
  const report = deps.newReport(ref);
  const writer = deps.newWriter(dataset);
  const where = { dataset: dataset.name, table: dataset.table };
  try {
    let summary: ImportSummary;
    try {
      summary = await importCsv(object.body, dataset, writer, report, settings);
    } catch (error) {
      if (!(error instanceof RejectedInput)) throw error;
      // Rows before the point of failure were written: say so beside the reason.
      return record({ status: 'FAILED', reason: error.message }, { ...where, rowsWritten: writer.written });
    }
    const reportKey = await report.finish();
    return record({ status: 'PROCESSED', ...where, ...summary, ...(reportKey !== undefined && { reportKey }) });
  } finally {
    // The report's temporary file in /tmp outlives the invocation on a warm container: never leave it.
    await report.discard();
  }
}
