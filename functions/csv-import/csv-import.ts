// The csv-import core: pick the data set from the key's prefix, stream-parse, turn each row into
// an item of the data set's table, write the good ones (put, or if-newer), report the rejected ones
// with the file's own header, record a summary. Rows flow through with backpressure: memory stays
// flat, and a record longer than MAX_RECORD_BYTES stops the import instead of filling memory.
import type { Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import { capText } from '#shared/bounded';
import { errorMessage, isTransientError, RejectedInput } from '#shared/errors';
import type { Logger } from '#shared/logger';
import type { ObjectStore, RangedOptions } from '#shared/object-store';
import { newLogItem, processingLogKey, type Lease, type ProcessingLog, type ProcessingLogItem } from '#shared/processing-log';
import type { S3ObjectRef } from '#shared/s3-event';
import type { RowWriter } from './batch-writer';
import { datasetFor, type ResolvedDataset } from './datasets';
import { EMPTY_REPORT, ReportFull, type RejectedRow, type ReportSink, type ReportState } from './report';
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
  info: { lines: number; bytes: number };
}

/** An excerpt of a record that could not be read: enough to find it, never the whole of it. */
const excerpt = (raw: string): string => capText(raw.replace(/\r?\n$/, ''), 200);

/**
 * Where an import stands at a record boundary: every row before `offset` is written or reported,
 * and counted here. What a checkpoint records and a continuation starts from.
 */
export interface ImportProgress {
  /** Bytes of the object up to the end of the last record accounted for. */
  offset: number;
  /** The line that record ended on. */
  line: number;
  rowsRead: number;
  rowsWritten: number;
  rowsSkipped: number;
  rowsRejected: number;
}

export const START: ImportProgress = { offset: 0, line: 0, rowsRead: 0, rowsWritten: 0, rowsSkipped: 0, rowsRejected: 0 };

/** How one invocation's part of an import runs. */
export interface ImportRun {
  /** Carry on from here: the stream starts at `from.offset`, the header is the file's (read from its start). */
  from?: ImportProgress & { header: string[] };
  /** Asked before each record: true stops the import there (a record boundary), the rows before it stored. */
  shouldStop?: () => boolean;
  /** Told where the import stands every `checkpointEveryMs`, the rows before that point stored. */
  checkpoint?: (progress: ImportProgress) => Promise<void>;
  checkpointEveryMs?: number;
  now?: () => number;
}

export type ImportResult = { done: true; summary: ImportSummary } | { done: false; progress: ImportProgress };

/**
 * Imports one CSV stream into a data set's table: a header row (BOM, quotes and CRLF handled by
 * csv-parse), then rows. A header without the key columns rejects the file, so does a record
 * longer than `maxRecordBytes` (RejectedInput); a bad row is reported and skipped; a write error
 * propagates. With `run`, it starts from a checkpoint, records checkpoints, and stops at a record
 * boundary when told to (`done: false`, where to carry on from).
 */
export async function importCsv(input: Readable, dataset: ResolvedDataset, writer: RowWriter, report: ReportSink, limits: ImportLimits, run: ImportRun = {}): Promise<ImportResult> {
  const base = run.from ?? START;
  const now = run.now ?? Date.now;
  // Bytes and lines of this stream up to the end of the last record accounted for.
  let doneBytes = 0;
  let doneLines = 0;
  let parsedLines = 0;
  const parser = parse({
    bom: base.offset === 0,
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
      parsedLines = context.lines;
      return record;
    },
  });
  let rowsRead = base.rowsRead;
  let rowsRejected = base.rowsRejected;
  // Records csv-parse could not read (e.g. a quote never closed) are skipped by it and reported here.
  const unreadable: RejectedRow[] = [];
  parser.on('skip', (error: CsvError & { lines?: number; raw?: string }) => {
    if (error.code === 'CSV_MAX_RECORD_SIZE') {
      // Thrown from the listener, it stops the parser at once: it would otherwise report the same
      // oversized record again for every further byte.
      throw new RejectedInput(
        `the CSV record starting at line ${base.line + parsedLines + 1} is longer than ${limits.maxRecordBytes} bytes (MAX_RECORD_BYTES), an unclosed quote perhaps; the import stopped there after ${rowsRead} rows`,
      );
    }
    const line = base.line + (error.lines ?? 0);
    // csv-parse may report one broken record more than once: keep one entry per line.
    if (unreadable.some((u) => u.line === line)) return;
    unreadable.push({ line, reason: `unreadable CSV record: ${error.message}`, cells: [excerpt(error.raw ?? '')] });
  });
  const reject = async (row: RejectedRow) => {
    rowsRejected++;
    await report.add({ ...row, reason: capText(row.reason) });
  };
  const progress = (): ImportProgress => ({
    offset: base.offset + doneBytes,
    line: base.line + doneLines,
    rowsRead,
    rowsWritten: base.rowsWritten + writer.written,
    rowsSkipped: base.rowsSkipped + writer.skipped,
    rowsRejected,
  });
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  let header: Header | undefined;
  if (run.from) {
    header = readHeader(run.from.header, dataset);
    report.header(header.cells);
  }
  let lastCheckpoint = now();
  const stopped = async (): Promise<ImportResult> => {
    parser.destroy();
    input.destroy();
    await writer.flush();
    return { done: false, progress: progress() };
  };
  try {
    for await (const { record, info } of parser as AsyncIterable<ParsedRecord>) {
      // A record boundary: the rows before this record are counted (unreadable ones between are
      // read again by whoever carries on from here).
      if (header && run.shouldStop?.()) return await stopped();
      if (header && run.checkpoint && now() - lastCheckpoint >= (run.checkpointEveryMs ?? 10_000)) {
        await writer.flush();
        await run.checkpoint(progress());
        lastCheckpoint = now();
      }
      for (const row of unreadable.splice(0)) {
        rowsRead++;
        await reject(row);
      }
      if (!header) {
        header = readHeader(record, dataset);
        report.header(header.cells);
      } else {
        rowsRead++;
        const line = base.line + info.lines;
        const result = rowToItem(header, record, dataset, dataset.tableKeys);
        const version = dataset.upsert.mode === 'if-newer' ? dataset.upsert.versionColumn : undefined;
        if (result.ok && version && result.item[version] === undefined) await reject({ line, reason: `missing value for version column "${version}"`, cells: record });
        else if (result.ok) await writer.add(result.item);
        else await reject({ line, reason: result.reason, cells: record });
      }
      doneBytes = info.bytes;
      doneLines = info.lines;
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
  const p = progress();
  return { done: true, summary: { rowsRead: p.rowsRead, rowsWritten: p.rowsWritten, rowsSkipped: p.rowsSkipped, rowsRejected: p.rowsRejected } };
}

/** The header of a CSV object: its first record, read from the object's start (a continuation needs it). */
export async function readHeaderCells(input: Readable, limits: ImportLimits): Promise<string[]> {
  const parser = parse({ bom: true, skip_empty_lines: true, relax_column_count: true, relax_quotes: true, max_record_size: limits.maxRecordBytes });
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  try {
    for await (const record of parser as AsyncIterable<string[]>) return record;
    return [];
  } finally {
    parser.destroy();
    input.destroy();
  }
}

export interface CsvImportDeps {
  store: ObjectStore;
  log: ProcessingLog;
  logger: Logger;
  newWriter: (dataset: ResolvedDataset) => RowWriter;
  /** The report of an import, carrying on from `from` (the parts of the invocations before). */
  newReport: (ref: S3ObjectRef, from: ReportState) => ReportSink;
  /** Hands the rest of an import to another invocation: the same event again, to the function's own queue. */
  continueLater?: () => Promise<void>;
  now?: () => number;
}

/** The invocation an import runs in: when it must stop, and who it is for the lease. */
export interface Invocation {
  /** The queue message it works for (a redelivery is the same message), or the request id. */
  owner: string;
  /** Time left before the invocation's deadline (context.getRemainingTimeInMillis). */
  remainingMs: () => number;
  /** The function's timeout: a checkpoint's lease lasts that long. */
  timeoutMs: number;
}

export interface CsvImportSettings extends ImportLimits {
  datasets: readonly ResolvedDataset[];
  reportPrefix: string;
}

export type CsvImportOutcome =
  | { status: 'IGNORED'; reason: string }
  | { status: 'DUPLICATE' }
  | { status: 'BUSY'; reason: string }
  | ({ status: 'CONTINUED'; dataset: string; table: string; invocations: number } & ImportSummary)
  | ({ status: 'PROCESSED'; dataset: string; table: string; reportKey?: string; invocations?: number } & ImportSummary)
  | { status: 'FAILED'; reason: string };

/** What an IN_PROGRESS item records to carry on from (details.checkpoint). */
export interface Checkpoint extends ImportProgress {
  /** The version being imported: a continuation reads this one only (and its header from its start). */
  eTag: string;
  report: ReportState;
  /** Invocations so far (the one that wrote it included). */
  invocations: number;
}

/** Time kept, at the least, between the last record and the deadline: the stop's own writes and the hand-over. */
const MIN_STOP_MARGIN_MS = 3_000;
/** A lease outlives the invocation by this much: a redelivery after a crash waits it out (SQS visibility is longer). */
const LEASE_MARGIN_MS = 5_000;

class LostLease extends Error {
  override name = 'LostLease';
}

const checkpointOf = (item: ProcessingLogItem | undefined): Checkpoint | undefined => {
  const c = item?.status === 'IN_PROGRESS' ? (item.details?.checkpoint as Checkpoint | undefined) : undefined;
  return c && typeof c.offset === 'number' && typeof c.eTag === 'string' ? c : undefined;
};

/**
 * Imports one uploaded object and records the summary. A file that cannot be imported at all is
 * recorded FAILED (no retry); throttling and outages throw so the platform retries the event.
 * Within an invocation (`invocation`), an import that would outlast it checkpoints its progress
 * (IN_PROGRESS) and stops at a record boundary before the deadline, handing the rest to another
 * invocation; that one (or a redelivery after a crash) carries on from the last checkpoint.
 */
export async function processImport(ref: S3ObjectRef, settings: CsvImportSettings, deps: CsvImportDeps, invocation?: Invocation): Promise<CsvImportOutcome> {
  const now = deps.now ?? Date.now;
  if (ref.key.startsWith(settings.reportPrefix)) return { status: 'IGNORED', reason: 'a rejected-rows report (recursion guard)' };
  const logKey = processingLogKey(FUNCTION_NAME, ref);
  const existing = await deps.log.get(logKey);
  if (existing && existing.status !== 'IN_PROGRESS') return { status: 'DUPLICATE' };
  const lease = (): Lease | undefined => invocation && { owner: invocation.owner, untilMs: now() + invocation.timeoutMs + LEASE_MARGIN_MS, nowMs: now() };

  const started = now();
  const record = async (outcome: Exclude<CsvImportOutcome, { status: 'IGNORED' | 'DUPLICATE' | 'BUSY' | 'CONTINUED' }>, extra: Record<string, unknown> = {}): Promise<CsvImportOutcome> => {
    const { status, ...details } = outcome;
    const item = newLogItem({
      fn: FUNCTION_NAME,
      ref,
      status,
      durationMs: now() - started,
      ...(outcome.status === 'FAILED' ? { reason: outcome.reason, details: extra } : { details: { ...details, ...extra } }),
    });
    // Over this import's own IN_PROGRESS item: only while this invocation holds it.
    const written = await deps.log.putOnce(item, lease());
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
  const where = { dataset: dataset.name, table: dataset.table };
  const from = checkpointOf(existing);
  // Carrying on: this invocation takes the import over, unless another holds it now.
  const claim = lease();
  if (existing && claim && (await deps.log.putProgress(existing, claim, true)) === 'lost') {
    return { status: 'BUSY', reason: 'another invocation is importing this file now' };
  }
  if (existing && !claim) return { status: 'BUSY', reason: 'the file is being imported across invocations' };
  const report = deps.newReport(ref, from?.report ?? EMPTY_REPORT);
  const writer = deps.newWriter(dataset);
  const invocations = (from?.invocations ?? 0) + 1;
  try {
    let result: ImportResult;
    let eTag: string | undefined;
    let header: string[] = [];
    try {
      // Ranged reads: the parser's pace (DynamoDB's) never keeps an S3 response idle.
      const onRetry: RangedOptions['onRetry'] = ({ resumeAt, attempt, error }) =>
        deps.logger.warn({ key: ref.key, resumeAt, attempt, err: (error as Error)?.message }, 'S3 read broke; resuming where it stopped');
      if (from) {
        const head = await deps.store.head(ref.bucket, ref.key);
        if (!head) return record({ status: 'FAILED', reason: `object no longer exists (deleted while it was imported, after ${from.rowsRead} rows)` }, { ...where, rowsWritten: from.rowsWritten });
        // Never two versions in one import: the rows so far are of the version it started with.
        if (head.eTag !== from.eTag) {
          return record(
            { status: 'FAILED', reason: `the object changed while it was imported (ETag ${from.eTag} -> ${head.eTag}) after ${from.rowsRead} rows of the first version; the new version is imported on its own event` },
            { ...where, rowsWritten: from.rowsWritten },
          );
        }
      }
      const object = await deps.store.getRanged(ref.bucket, ref.key, { onRetry, ...(from && { start: from.offset, eTag: from.eTag }) });
      if (!object) return record({ status: 'FAILED', reason: 'object no longer exists (deleted before it was imported)' });
      eTag = from?.eTag ?? object.eTag;
      // The header is the file's first record: read again from the object's start (a header may be larger than an item).
      if (from) header = await readHeaderCells((await deps.store.getRanged(ref.bucket, ref.key, { eTag: from.eTag }))!.body, settings);
      let slowestCheckpointMs = 0;
      const save = async (progress: ImportProgress, hold: boolean): Promise<void> => {
        const t0 = now();
        const state = await report.seal();
        const checkpoint: Checkpoint = { ...progress, eTag: eTag ?? '', report: state, invocations };
        const item = newLogItem({ fn: FUNCTION_NAME, ref, status: 'IN_PROGRESS', durationMs: now() - started, details: { ...where, ...counts(progress), invocations, checkpoint } });
        if ((await deps.log.putProgress(item, lease()!, hold)) === 'lost') throw new LostLease('another invocation took the import over');
        slowestCheckpointMs = Math.max(slowestCheckpointMs, now() - t0);
      };
      const margin = () => Math.max(MIN_STOP_MARGIN_MS, 3 * slowestCheckpointMs) + 1_000;
      const run: ImportRun = invocation && deps.continueLater
        ? {
            ...(from && { from: { ...from, header } }),
            shouldStop: () => invocation.remainingMs() < margin(),
            checkpoint: (progress) => save(progress, true),
            checkpointEveryMs: Math.min(10_000, Math.max(2_000, invocation.timeoutMs / 3)),
            now,
          }
        : {};
      result = await importCsv(object.body, dataset, writer, report, settings, run);
      if (!result.done) {
        // Before the deadline: the rows so far are stored; the rest goes to another invocation.
        await save(result.progress, false);
        await deps.continueLater!();
        deps.logger.info({ key: ref.key, ...counts(result.progress), offset: result.progress.offset, invocations }, 'csv import continues in another invocation');
        return { status: 'CONTINUED', ...where, ...counts(result.progress), invocations };
      }
    } catch (error) {
      if (error instanceof LostLease) return { status: 'BUSY', reason: error.message };
      // Throttling and outages are worth another attempt (the platform retries); anything else is
      // this file's fault or a bug a retry would meet again: FAILED, with what was written before.
      if (isTransientError(error)) throw error;
      const reason = error instanceof RejectedInput ? error.message : `the import stopped: ${capText(errorMessage(error), 500)}`;
      if (!(error instanceof RejectedInput)) deps.logger.error({ err: error, key: ref.key }, 'csv import failed; the file is recorded FAILED');
      // A report that hit its limit is kept as far as it got: the first rejected rows, to fix.
      const partial = error instanceof ReportFull ? await report.finish().catch(() => undefined) : undefined;
      return record({ status: 'FAILED', reason: capText(reason, 1000) }, { ...where, rowsWritten: (from?.rowsWritten ?? 0) + writer.written, ...(partial !== undefined && { reportKey: partial }) });
    }
    const reportKey = await report.finish();
    return record({ status: 'PROCESSED', ...where, ...result.summary, ...(reportKey !== undefined && { reportKey }), ...(invocations > 1 && { invocations }) });
  } finally {
    // The report's temporary file in /tmp outlives the invocation on a warm container: never leave it.
    await report.discard();
  }
}

const counts = (p: ImportSummary): ImportSummary => ({ rowsRead: p.rowsRead, rowsWritten: p.rowsWritten, rowsSkipped: p.rowsSkipped, rowsRejected: p.rowsRejected });
