// The rejected-rows report: the rejected rows with the file's own header, plus `line` and `reason`
// columns at the end, written next to the source upload. Fix the rows and upload it again as is:
// the import reads past a trailing line/reason pair.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { stringify, type Stringifier } from 'csv-stringify';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { RejectedInput } from '#shared/errors';
import type { ObjectStore } from '#shared/object-store';

export interface RejectedRow {
  line: number;
  reason: string;
  /** The row's cells as read; for a record that could not be read, an excerpt of its text. */
  cells: string[];
}

/** How large a report may grow: a hostile file (a wide header, every row rejected) must not fill /tmp or the time. */
export interface ReportLimits {
  /**
   * Cells written (each row is padded to the header's width): csv-stringify takes ~3.7 million a
   * second on a whole core, 0.29 of one at 512 MB: the default costs seconds, never the timeout.
   */
  maxCells: number;
  /** Bytes written (estimated as the cells' text plus a separator each). */
  maxBytes: number;
}

export const DEFAULT_REPORT_LIMITS: ReportLimits = { maxCells: 2_000_000, maxBytes: 64 * 1024 * 1024 };

/** The report hit its limit: the import stops there, the file is FAILED with this reason, the rows so far are in the report. */
export class ReportFull extends RejectedInput {
  override name = 'ReportFull';
  constructor(
    readonly line: number,
    readonly rowsListed: number,
    limits: ReportLimits,
  ) {
    super(
      `too many rejected rows: the rejected-rows report reached its limit (${limits.maxCells.toLocaleString('en')} cells or ${Math.round(limits.maxBytes / 1024 / 1024)} MB) at line ${line} after ${rowsListed} rows; the import stopped there (the first ${rowsListed} rejected rows are in the report): fix the file and upload it again`,
    );
  }
}

/** Counts what a report has written and refuses the row that would pass its limits. */
class ReportBudget {
  constructor(
    private readonly limits: ReportLimits,
    /** Counted so far, this invocation and the ones before it. */
    readonly used: Omit<ReportState, 'parts'> = { cells: 0, bytes: 0, rows: 0 },
  ) {}

  /** Charges one row of `width` cells; throws ReportFull when it does not fit. */
  charge(width: number, rejected: RejectedRow): void {
    const bytes = width + rejected.reason.length + rejected.cells.reduce((sum, c) => sum + c.length, 0);
    if (this.used.cells + width > this.limits.maxCells || this.used.bytes + bytes > this.limits.maxBytes) throw new ReportFull(rejected.line, this.used.rows, this.limits);
    this.used.cells += width;
    this.used.bytes += bytes;
    this.used.rows++;
  }
}

/** What a report has stored so far, recorded with an import's checkpoint to carry on from. */
export interface ReportState {
  /** The parts stored, in order (`<report key>.part-00001-<invocation>`...): one per checkpoint that had rejected rows. */
  parts: string[];
  cells: number;
  bytes: number;
  rows: number;
}

export const EMPTY_REPORT: ReportState = { parts: [], cells: 0, bytes: 0, rows: 0 };

export interface ReportSink {
  /** The file's header: the report's first row, before `line` and `reason`. */
  header(cells: string[]): void;
  add(rejected: RejectedRow): Promise<void>;
  /** Stores the rows added since the last seal as the next part (at a checkpoint); returns the state to record. */
  seal(): Promise<ReportState>;
  /** Finishes the report (the parts of every invocation, in order, under one header); returns its key, or undefined when no row was rejected. */
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
  const cells = Array.from({ length: Math.max(headerLength, 1) }, (_, i) => neutraliseCell(rejected.cells[i] ?? ''));
  return [...cells, String(rejected.line), neutraliseCell(rejected.reason)];
}

/** The cells of a report row: the header's width (at least one), then line and reason. */
const reportWidth = (headerLength: number): number => Math.max(headerLength, 1) + REPORT_COLUMNS.length;

/** The report's header row, as CSV text: the file's header (neutralised), then line and reason. */
const headerLine = (columns: string[]): string => stringifySync([[...(columns.length > 0 ? columns : ['row']).map((h) => neutraliseCell(h)), ...REPORT_COLUMNS]]);

async function write(stringifier: Stringifier, headerLength: number, rejected: RejectedRow): Promise<void> {
  if (!stringifier.write(reportRow(headerLength, rejected))) await once(stringifier, 'drain');
}

/** A re-uploaded report's own trailing line/reason columns are not repeated. */
const withoutReportColumns = (cells: string[]): string[] =>
  cells.length >= 2 && cells.at(-2)?.trim() === 'line' && cells.at(-1)?.trim() === 'reason' ? cells.slice(0, -2) : cells;

/** Where part `n` of a report is kept until the report is finished: named by the invocation too (two never share one). */
export const partKey = (key: string, n: number, writer: string): string => `${key}.part-${String(n).padStart(5, '0')}-${writer}`;

/**
 * Streams the rejected rows to a file in /tmp (the only writable path on Lambda): memory stays flat
 * however many rows are rejected. An import that carries on across invocations seals a part at
 * each checkpoint (`<key>.part-00001`...); the last invocation puts them together under the
 * header and removes them. A report of one invocation is uploaded in one piece.
 */
export class S3ReportSink implements ReportSink {
  private readonly path = join(tmpdir(), `rejected-${randomUUID()}.csv`);
  private columns: string[] = [];
  private open: { stringifier: Stringifier; done: Promise<unknown>; rows: number } | undefined;
  private readonly parts: string[];
  private readonly writer = randomUUID().slice(0, 8);
  private readonly budget: ReportBudget;

  constructor(
    private readonly store: ObjectStore,
    private readonly bucket: string,
    private readonly key: string,
    limits: ReportLimits = DEFAULT_REPORT_LIMITS,
    from: ReportState = EMPTY_REPORT,
  ) {
    this.parts = [...from.parts];
    this.budget = new ReportBudget(limits, { cells: from.cells, bytes: from.bytes, rows: from.rows });
  }

  header(cells: string[]): void {
    this.columns = withoutReportColumns(cells);
  }

  async add(rejected: RejectedRow): Promise<void> {
    this.budget.charge(reportWidth(this.columns.length), rejected);
    if (!this.open) {
      const stringifier = stringify();
      const file = createWriteStream(this.path);
      stringifier.pipe(file);
      this.open = { stringifier, done: once(file, 'close'), rows: 0 };
    }
    this.open.rows++;
    await write(this.open.stringifier, this.columns.length, rejected);
  }

  async seal(): Promise<ReportState> {
    const rows = await this.close();
    if (rows > 0) {
      const { size } = await stat(this.path);
      const key = partKey(this.key, this.parts.length + 1, this.writer);
      await this.store.put(this.bucket, key, createReadStream(this.path), 'text/csv', size);
      this.parts.push(key);
      await rm(this.path, { force: true });
    }
    return { parts: [...this.parts], ...this.budget.used };
  }

  async finish(): Promise<string | undefined> {
    try {
      if (this.parts.length === 0) {
        // One invocation: the header, then the file, in one upload.
        const rows = await this.close();
        if (rows === 0) return undefined;
        const head = Buffer.from(headerLine(this.columns));
        const { size } = await stat(this.path);
        const path = this.path;
        await this.store.put(this.bucket, this.key, Readable.from((async function* () {
          yield head;
          yield* createReadStream(path);
        })()), 'text/csv', head.length + size);
        return this.key;
      }
      await this.seal();
      const keys = [...this.parts];
      const sizes = await Promise.all(keys.map(async (k) => (await this.store.head(this.bucket, k))?.contentLength ?? 0));
      const head = Buffer.from(headerLine(this.columns));
      const { store, bucket } = this;
      await store.put(bucket, this.key, Readable.from((async function* () {
        yield head;
        for (const k of keys) {
          const part = await store.get(bucket, k);
          if (!part) throw new Error(`part ${k} of the rejected-rows report is missing`);
          yield* part.body;
        }
      })()), 'text/csv', head.length + sizes.reduce((a, b) => a + b, 0));
      for (const k of keys) await this.store.delete(this.bucket, k);
      return this.key;
    } finally {
      await this.discard();
    }
  }

  async discard(): Promise<void> {
    await this.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }

  /** Ends the open file; returns how many rows it holds. */
  private async close(): Promise<number> {
    const open = this.open;
    if (!open) return 0;
    this.open = undefined;
    if (!open.stringifier.writableEnded) open.stringifier.end();
    await open.done;
    return open.rows;
  }

  /** Where the temporary file is (tests check it is gone). */
  get temporaryFile(): string {
    return this.path;
  }
}

/** Keeps the report text in memory: for unit tests. */
export class MemoryReportSink implements ReportSink {
  private columns: string[] = [];
  private readonly sealed: string[] = [];
  private pending: string[] = [];
  private readonly budget: ReportBudget;
  rows: RejectedRow[] = [];
  text = '';

  constructor(limits: ReportLimits = DEFAULT_REPORT_LIMITS) {
    this.budget = new ReportBudget(limits);
  }

  header(cells: string[]): void {
    this.columns = withoutReportColumns(cells);
  }

  async add(rejected: RejectedRow): Promise<void> {
    this.budget.charge(reportWidth(this.columns.length), rejected);
    this.rows.push(rejected);
    this.pending.push(stringifySync([reportRow(this.columns.length, rejected)]));
  }

  async seal(): Promise<ReportState> {
    if (this.pending.length > 0) this.sealed.push(this.pending.join(''));
    this.pending = [];
    return { parts: this.sealed.map((_, i) => `memory-part-${i + 1}`), ...this.budget.used };
  }

  async finish(): Promise<string | undefined> {
    await this.seal();
    if (this.rows.length === 0) return undefined;
    this.text = headerLine(this.columns) + this.sealed.join('');
    return 'memory-report';
  }

  async discard(): Promise<void> {}
}
