// The csv-import core: stream-parse, validate each row, write valid rows in batches, report the
// rejected ones, record a summary. Rows flow through with backpressure: memory stays flat.
import type { Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import { RejectedInput } from '#shared/errors';
import type { Logger } from '#shared/logger';
import type { ObjectStore } from '#shared/object-store';
import { newLogItem, processingLogKey, type ProcessingLog } from '#shared/processing-log';
import type { S3ObjectRef } from '#shared/s3-event';
import type { BatchWriter } from './batch-writer';
import type { ReportSink } from './report';
import { validateRow, type RowSchema } from './row-schema';

export const FUNCTION_NAME = 'csv-import';

export interface ImportOptions {
  schema: RowSchema;
  keyColumn: string;
}

export interface ImportSummary {
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
}

interface ParsedRow {
  record: Record<string, string | undefined>;
  raw: string;
  info: { lines: number };
}

/**
 * Imports one CSV stream: a header row (BOM, quotes and CRLF handled by csv-parse), then rows.
 * A header without the key column rejects the whole file (RejectedInput); a bad row is reported
 * and skipped; a write error propagates.
 */
export async function importCsv(input: Readable, options: ImportOptions, writer: BatchWriter, report: ReportSink): Promise<ImportSummary> {
  const parser = parse({
    bom: true,
    columns: (header: string[]) => {
      const columns = header.map((h) => h.trim());
      if (!columns.includes(options.keyColumn)) {
        throw new RejectedInput(`the header has no "${options.keyColumn}" column (found: ${columns.join(', ') || 'nothing'})`);
      }
      return columns;
    },
    skip_empty_lines: true,
    relax_column_count: true,
    // A stray quote inside an unquoted cell is kept as text rather than derailing the rest of the file.
    relax_quotes: true,
    skip_records_with_error: true,
    info: true,
    raw: true,
  });
  // Records csv-parse could not read (e.g. a stray quote) are skipped by it and reported here.
  const unreadable: Array<{ line: number; reason: string; row: string }> = [];
  parser.on('skip', (error: CsvError & { lines?: number; raw?: string }) => {
    // csv-parse may report one broken record more than once: keep one entry per line.
    if (unreadable.some((u) => u.line === error.lines)) return;
    unreadable.push({ line: error.lines ?? 0, reason: `unreadable CSV record: ${error.message}`, row: error.raw ?? '' });
  });

  let rowsRead = 0;
  let rowsRejected = 0;
  const reject = async (row: { line: number; reason: string; row: string }) => {
    rowsRejected++;
    await report.add(row);
  };
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  try {
    for await (const { record, raw, info } of parser as AsyncIterable<ParsedRow>) {
      while (unreadable.length > 0) {
        rowsRead++;
        await reject(unreadable.shift()!);
      }
      rowsRead++;
      const result = validateRow(record, options.schema, options.keyColumn);
      if (result.ok) await writer.add(result.item);
      else await reject({ line: info.lines, reason: result.reason, row: raw.replace(/\r?\n$/, '') });
    }
  } catch (error) {
    if (error instanceof RejectedInput) throw error;
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof RejectedInput) throw cause;
    throw error;
  }
  for (const row of unreadable.splice(0)) {
    rowsRead++;
    await reject(row);
  }
  await writer.flush();
  return { rowsRead, rowsWritten: writer.written, rowsRejected };
}

export interface CsvImportDeps {
  store: ObjectStore;
  log: ProcessingLog;
  logger: Logger;
  newWriter: () => BatchWriter;
  newReport: (ref: S3ObjectRef) => ReportSink;
  now?: () => number;
}

export type CsvImportOutcome =
  | { status: 'IGNORED'; reason: string }
  | { status: 'DUPLICATE' }
  | ({ status: 'PROCESSED'; reportKey?: string } & ImportSummary)
  | { status: 'FAILED'; reason: string };

/**
 * Imports one uploaded object and records the summary. A file that cannot be imported at all is
 * recorded FAILED (no retry); AWS errors throw so the platform retries the event.
 */
export async function processImport(
  ref: S3ObjectRef,
  config: ImportOptions & { reportPrefix: string },
  deps: CsvImportDeps,
): Promise<CsvImportOutcome> {
  const now = deps.now ?? Date.now;
  if (ref.key.startsWith(config.reportPrefix)) return { status: 'IGNORED', reason: 'a rejected-rows report (recursion guard)' };
  if (await deps.log.has(processingLogKey(FUNCTION_NAME, ref))) return { status: 'DUPLICATE' };

  const started = now();
  const record = async (outcome: Exclude<CsvImportOutcome, { status: 'IGNORED' | 'DUPLICATE' }>): Promise<CsvImportOutcome> => {
    const { status, ...details } = outcome;
    const item = newLogItem({
      fn: FUNCTION_NAME,
      ref,
      status,
      durationMs: now() - started,
      ...(outcome.status === 'FAILED' ? { reason: outcome.reason } : { details }),
    });
    const written = await deps.log.putOnce(item);
    deps.logger.info({ bucket: ref.bucket, key: ref.key, ...outcome, written }, 'csv import done');
    return written === 'created' ? outcome : { status: 'DUPLICATE' };
  };

  // The trigger selects by prefix only (an SNS filter cannot AND a prefix and a suffix): say why
  // anything else is not imported, rather than dropping it silently.
  if (!ref.key.toLowerCase().endsWith('.csv')) return record({ status: 'FAILED', reason: 'not a CSV file: only keys ending in .csv are imported' });
  // Ranged reads: the parser's pace (DynamoDB's) never keeps an S3 response idle.
  const object = await deps.store.getRanged(ref.bucket, ref.key, {
    onRetry: ({ resumeAt, attempt, error }) =>
      deps.logger.warn({ key: ref.key, resumeAt, attempt, err: (error as Error)?.message }, 'S3 read broke; resuming where it stopped'),
  });
  if (!object) return record({ status: 'FAILED', reason: 'object no longer exists (deleted before it was imported)' });
  const report = deps.newReport(ref);
  let summary: ImportSummary;
  try {
    summary = await importCsv(object.body, config, deps.newWriter(), report);
  } catch (error) {
    if (error instanceof RejectedInput) return record({ status: 'FAILED', reason: error.message });
    throw error;
  }
  const reportKey = await report.finish();
  return record({ status: 'PROCESSED', ...summary, ...(reportKey !== undefined && { reportKey }) });
}
