// The rejected-rows report: the rejected rows with the file's own header, plus `line` and `reason`
// columns at the end, written next to the source upload. Fix the rows and upload it again as is:
// the import reads past a trailing line/reason pair.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { stringify, type Stringifier } from 'csv-stringify';
import type { ObjectStore } from '#shared/object-store';

export interface RejectedRow {
  line: number;
  reason: string;
  /** The row's cells as read; for a record that could not be read, an excerpt of its text. */
  cells: string[];
}

export interface ReportSink {
  /** The file's header: the report's first row, before `line` and `reason`. */
  header(cells: string[]): void;
  add(rejected: RejectedRow): Promise<void>;
  /** Finishes the report; returns its key, or undefined when no row was rejected. */
  finish(): Promise<string | undefined>;
  /** Removes what is left of it (its temporary file), whatever happened; safe to call twice. */
  discard(): Promise<void>;
}

/**
 * `<REPORT_PREFIX><source key>.errors.csv`: outside the imports prefix, so it never triggers an
 * import. A source key so long that this would pass S3's 1024 bytes gets a hashed name instead.
 */
export function reportKey(reportPrefix: string, sourceKey: string): string {
  const key = `${reportPrefix}${sourceKey}.errors.csv`;
  if (Buffer.byteLength(key, 'utf8') <= 1024) return key;
  return `${reportPrefix}long-keys/${createHash('sha256').update(sourceKey).digest('hex')}.errors.csv`;
}

/**
 * Spreadsheets run cells that start with = + - @ (or tab/CR) as formulas: a rejected row is
 * attacker-controlled text, so such cells get a leading apostrophe (OWASP CSV injection advice).
 */
export const neutraliseCell = (value: string): string => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

const REPORT_COLUMNS = ['line', 'reason'];

/** A row of the report: the file's cells (as many as the header has), then line and reason. */
export function reportRow(headerLength: number, rejected: RejectedRow): string[] {
  const cells = Array.from({ length: Math.max(headerLength, rejected.cells.length) }, (_, i) => neutraliseCell(rejected.cells[i] ?? ''));
  return [...cells.slice(0, Math.max(headerLength, 1)), String(rejected.line), neutraliseCell(rejected.reason)];
}

function reportStringifier(header: string[]): Stringifier {
  return stringify({ header: true, columns: [...(header.length > 0 ? header : ['row']).map((h) => neutraliseCell(h)), ...REPORT_COLUMNS] });
}

async function write(stringifier: Stringifier, headerLength: number, rejected: RejectedRow): Promise<void> {
  if (!stringifier.write(reportRow(headerLength, rejected))) await once(stringifier, 'drain');
}

/** A re-uploaded report's own trailing line/reason columns are not repeated. */
const withoutReportColumns = (cells: string[]): string[] =>
  cells.length >= 2 && cells.at(-2)?.trim() === 'line' && cells.at(-1)?.trim() === 'reason' ? cells.slice(0, -2) : cells;

/**
 * Streams the report to a file in /tmp (the only writable path on Lambda) and uploads it at the
 * end: memory stays flat however many rows are rejected.
 */
export class S3ReportSink implements ReportSink {
  private readonly path = join(tmpdir(), `rejected-${randomUUID()}.csv`);
  private columns: string[] = [];
  private stringifier: Stringifier | undefined;
  private done: Promise<unknown> | undefined;
  private count = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly bucket: string,
    private readonly key: string,
  ) {}

  header(cells: string[]): void {
    this.columns = withoutReportColumns(cells);
  }

  async add(rejected: RejectedRow): Promise<void> {
    if (!this.stringifier) {
      this.stringifier = reportStringifier(this.columns);
      const file = createWriteStream(this.path);
      this.stringifier.pipe(file);
      this.done = once(file, 'close');
    }
    this.count++;
    await write(this.stringifier, this.columns.length, rejected);
  }

  async finish(): Promise<string | undefined> {
    if (!this.stringifier || this.count === 0) return undefined;
    this.stringifier.end();
    await this.done;
    try {
      const { size } = await stat(this.path);
      await this.store.put(this.bucket, this.key, createReadStream(this.path), 'text/csv', size);
      return this.key;
    } finally {
      await this.discard();
    }
  }

  async discard(): Promise<void> {
    if (this.stringifier && !this.stringifier.writableEnded) {
      this.stringifier.end();
      await this.done?.catch(() => undefined);
    }
    await rm(this.path, { force: true });
  }

  /** Where the temporary file is (tests check it is gone). */
  get temporaryFile(): string {
    return this.path;
  }
}

/** Keeps the report text in memory: for unit tests. */
export class MemoryReportSink implements ReportSink {
  private stringifier: Stringifier | undefined;
  private columns: string[] = [];
  private readonly chunks: string[] = [];
  rows: RejectedRow[] = [];
  text = '';

  header(cells: string[]): void {
    this.columns = withoutReportColumns(cells);
  }

  async add(rejected: RejectedRow): Promise<void> {
    if (!this.stringifier) {
      this.stringifier = reportStringifier(this.columns);
      this.stringifier.on('data', (chunk: Buffer | string) => this.chunks.push(chunk.toString()));
    }
    this.rows.push(rejected);
    await write(this.stringifier, this.columns.length, rejected);
  }

  async finish(): Promise<string | undefined> {
    if (!this.stringifier) return undefined;
    this.stringifier.end();
    await once(this.stringifier, 'end');
    this.text = this.chunks.join('');
    return this.rows.length > 0 ? 'memory-report' : undefined;
  }

  async discard(): Promise<void> {}
}
