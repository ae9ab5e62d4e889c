// The rejected-rows report: a CSV of (line, reason, row) written next to the source upload.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { stringify, type Stringifier } from 'csv-stringify';
import type { ObjectStore } from '#shared/object-store';

export interface RejectedRow {
  line: number;
  reason: string;
  row: string;
}

export interface ReportSink {
  add(rejected: RejectedRow): Promise<void>;
  /** Finishes the report; returns its key, or undefined when no row was rejected. */
  finish(): Promise<string | undefined>;
}

/** `<REPORT_PREFIX><source key>.errors.csv`: outside the imports prefix, so it never triggers an import. */
export const reportKey = (reportPrefix: string, sourceKey: string): string => `${reportPrefix}${sourceKey}.errors.csv`;

/**
 * Spreadsheets run cells that start with = + - @ (or tab/CR) as formulas: a rejected row is
 * attacker-controlled text, so such cells get a leading apostrophe (OWASP CSV injection advice).
 */
export const neutraliseCell = (value: string): string => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

const REPORT_COLUMNS = ['line', 'reason', 'row'];

function reportStringifier(): Stringifier {
  return stringify({ header: true, columns: REPORT_COLUMNS, cast: { number: String } });
}

async function write(stringifier: Stringifier, rejected: RejectedRow): Promise<void> {
  const ok = stringifier.write([rejected.line, neutraliseCell(rejected.reason), neutraliseCell(rejected.row)]);
  if (!ok) await once(stringifier, 'drain');
}

/**
 * Streams the report to a file in /tmp (the only writable path on Lambda) and uploads it at the
 * end: memory stays flat however many rows are rejected.
 */
export class S3ReportSink implements ReportSink {
  private readonly path = join(tmpdir(), `rejected-${randomUUID()}.csv`);
  private stringifier: Stringifier | undefined;
  private done: Promise<unknown> | undefined;
  private count = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly bucket: string,
    private readonly key: string,
  ) {}

  async add(rejected: RejectedRow): Promise<void> {
    if (!this.stringifier) {
      this.stringifier = reportStringifier();
      const file = createWriteStream(this.path);
      this.stringifier.pipe(file);
      this.done = once(file, 'close');
    }
    this.count++;
    await write(this.stringifier, rejected);
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
      await rm(this.path, { force: true });
    }
  }
}

/** Keeps the report text in memory: for unit tests. */
export class MemoryReportSink implements ReportSink {
  private readonly stringifier = reportStringifier();
  private readonly chunks: string[] = [];
  rows: RejectedRow[] = [];
  text = '';

  constructor() {
    this.stringifier.on('data', (chunk: Buffer | string) => this.chunks.push(chunk.toString()));
  }

  async add(rejected: RejectedRow): Promise<void> {
    this.rows.push(rejected);
    await write(this.stringifier, rejected);
  }

  async finish(): Promise<string | undefined> {
    this.stringifier.end();
    await once(this.stringifier, 'end');
    this.text = this.chunks.join('');
    return this.rows.length > 0 ? 'memory-report' : undefined;
  }
}
