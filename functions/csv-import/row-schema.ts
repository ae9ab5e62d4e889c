// From CSV cells to a DynamoDB item, per data set: the header read once, each cell typed, each row
// checked against what DynamoDB can store. Pure functions. Column names are looked up in Maps or
// with Object.hasOwn only: a header named `constructor` or `__proto__` is a column like any other.
import { RejectedInput } from '#shared/errors';
import type { ColumnType, Dataset, TableKeys } from './datasets';

export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };
export type Item = Record<string, Value>;

/** DynamoDB's limits a row must fit. */
export const MAX_ITEM_BYTES = 400 * 1024;
export const MAX_PARTITION_KEY_BYTES = 2048;
export const MAX_SORT_KEY_BYTES = 1024;
/** DynamoDB numbers: magnitudes from 1E-130 up to (not including) 1E126, 38 significant digits. */
const DYNAMO_MAX = 1e126;
const DYNAMO_MIN = 1e-130;

/** The two columns a rejected-rows report adds; a fixed report uploaded again has them last. */
export const REPORT_COLUMNS = ['line', 'reason'] as const;

export interface HeaderColumn {
  /** Position in the row. */
  index: number;
  /** As written in the file. */
  original: string;
  /** The declared column it stands for (after trimming and aliases), or the trimmed original. */
  name: string;
  /** How to type its cells: declared, or undefined when the data set does not declare it. */
  type: ColumnType | undefined;
  /** Why its cells cannot be stored, when a non-empty cell under it must reject the row. */
  invalid?: string;
  /** The report's own line/reason columns of a re-uploaded report: read past. */
  ignored?: boolean;
}

export interface Header {
  columns: HeaderColumn[];
  /** The original header cells, for the rejected-rows report. */
  cells: string[];
}

/**
 * Reads the header row. A header that lacks a key column rejects the file; a column without a
 * name, or repeating another's name, only rejects the rows that put a value under it.
 */
export function readHeader(cells: readonly string[], dataset: Dataset): Header {
  const aliases = new Map(Object.entries(dataset.aliases ?? {}));
  const declared = new Map(Object.entries(dataset.columns));
  const firstAt = new Map<string, number>();
  const trailingReport = cells.length >= 2 && cells.at(-2)?.trim() === REPORT_COLUMNS[0] && cells.at(-1)?.trim() === REPORT_COLUMNS[1];
  const columns = cells.map((original, index): HeaderColumn => {
    const trimmed = original.trim();
    const name = aliases.get(trimmed) ?? trimmed;
    const column: HeaderColumn = { index, original, name, type: declared.get(name) };
    if (trailingReport && index >= cells.length - 2 && !declared.has(name)) return { ...column, ignored: true };
    if (name === '') return { ...column, invalid: `column ${index + 1} has no name in the header` };
    const first = firstAt.get(name);
    if (first !== undefined) return { ...column, invalid: `column ${index + 1} repeats the name "${name}" of column ${first + 1}` };
    firstAt.set(name, index);
    if (!column.type && dataset.undeclared === 'reject') return { ...column, invalid: `column "${name}" is not declared in data set ${dataset.name}` };
    return column;
  });
  const keyColumns = [...dataset.key.partition, ...(dataset.key.sort ? [dataset.key.sort] : [])];
  const missing = keyColumns.filter((k) => !firstAt.has(k));
  if (missing.length > 0) {
    const found = cells.map((c) => c.trim()).filter(Boolean).join(', ') || 'nothing';
    throw new RejectedInput(`the header has no ${missing.map((m) => `"${m}"`).join(', ')} column (data set ${dataset.name}; found: ${found})`);
  }
  return { columns, cells: [...cells] };
}

const BOOLEANS = new Map([
  ['true', true],
  ['false', false],
  ['yes', true],
  ['no', false],
  ['1', true],
  ['0', false],
]);

export type CellResult = { ok: true; value: Value } | { ok: false; reason: string };

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** The significant digits of a decimal literal and its power of ten: "0.0120" -> ["12", -2]. */
function decimalDigits(literal: string): { digits: string; exponent: number } {
  const [mantissa = '', exp = '0'] = literal.replace(/^[-+]/, '').toLowerCase().split('e');
  const [whole = '', fraction = ''] = mantissa.split('.');
  const all = `${whole}${fraction}`.replace(/^0+/, '');
  const digits = all.replace(/0+$/, '');
  // Position of the first significant digit, as a power of ten.
  const leadingFractionZeros = whole.replace(/^0+/, '') === '' ? fraction.length - fraction.replace(/^0+/, '').length + 1 : 0;
  const exponent = (whole.replace(/^0+/, '').length > 0 ? whole.replace(/^0+/, '').length - 1 : -leadingFractionZeros) + Number(exp);
  return { digits: digits || '0', exponent };
}

/** A number literal as DynamoDB can store it and JavaScript can carry it exactly, or why not. */
export function typeNumber(literal: string): CellResult {
  const n = Number(literal);
  if (!NUMBER.test(literal) || !Number.isFinite(n)) return { ok: false, reason: `is not a number: ${JSON.stringify(literal.slice(0, 100))}` };
  const abs = Math.abs(n);
  if (abs >= DYNAMO_MAX || (abs !== 0 && abs < DYNAMO_MIN)) return { ok: false, reason: `${literal} is outside DynamoDB's number range (1E-130 to 1E126)` };
  if (Number.isInteger(n) && !Number.isSafeInteger(n)) return { ok: false, reason: `${literal} is beyond 2^53: it would lose precision as a number (declare the column as string)` };
  // The double must print back to the same significant digits, or the value changed on the way.
  const { digits } = decimalDigits(literal);
  if (n !== 0 && digits.length > 15) {
    const back = decimalDigits(n.toExponential(digits.length - 1)).digits;
    if (back !== digits) return { ok: false, reason: `${literal} has more digits than a number can hold exactly (declare the column as string)` };
  }
  return { ok: true, value: n };
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** An ISO 8601 date (kept as YYYY-MM-DD) or date-time with a zone (stored in UTC), or why not. */
export function typeDate(literal: string): CellResult {
  const date = DATE.exec(literal);
  const time = date ? undefined : DATE_TIME.exec(literal);
  const parts = date ?? time;
  if (!parts) {
    const hint = /^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(literal) ? ' (a date-time needs its time zone: Z or +hh:mm)' : ' (expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)';
    return { ok: false, reason: `is not an ISO 8601 date: ${JSON.stringify(literal.slice(0, 100))}${hint}` };
  }
  const [y, m, d] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return { ok: false, reason: `is not a date of the calendar: ${JSON.stringify(literal)}` };
  if (date) return { ok: true, value: literal };
  const instant = new Date(literal);
  if (Number.isNaN(instant.getTime()) || Number(parts[4]) > 23 || Number(parts[5]) > 59) return { ok: false, reason: `is not a valid date-time: ${JSON.stringify(literal)}` };
  return { ok: true, value: instant.toISOString() };
}

export function typeCell(type: ColumnType, raw: string): CellResult {
  switch (type) {
    case 'string':
      return { ok: true, value: raw };
    case 'number':
      return typeNumber(raw);
    case 'boolean': {
      const b = BOOLEANS.get(raw.toLowerCase());
      return b === undefined ? { ok: false, reason: `is not a boolean (true/false/yes/no/1/0): ${JSON.stringify(raw.slice(0, 100))}` } : { ok: true, value: b };
    }
    case 'date':
      return typeDate(raw);
    case 'json': {
      try {
        return { ok: true, value: JSON.parse(raw, (_k, v: unknown) => {
          if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) throw new RangeError(`${v} is beyond 2^53`);
          return v;
        }) as Value };
      } catch (error) {
        return { ok: false, reason: `is not JSON a table can hold: ${(error as Error).message}` };
      }
    }
  }
}

/** DynamoDB's size of an attribute value, in bytes (AWS's published rules, to within a few bytes). */
export function valueSize(value: Value): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return Math.ceil(decimalDigits(String(value)).digits.length / 2) + 1;
  if (Array.isArray(value)) return 3 + value.reduce<number>((sum, v) => sum + 1 + valueSize(v), 0);
  return 3 + Object.entries(value).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k, 'utf8') + valueSize(v), 0);
}

export const itemSize = (item: Item): number => Object.entries(item).reduce((sum, [k, v]) => sum + Buffer.byteLength(k, 'utf8') + valueSize(v), 0);

export type RowResult = { ok: true; item: Item } | { ok: false; reason: string };

/**
 * One row of cells as an item of the data set's table: declared columns typed, undeclared ones
 * kept as strings (or the row rejected, as the data set says), empty cells left out, the table's
 * key attributes filled from the key columns. Every reason a row cannot be stored is named.
 */
export function rowToItem(header: Header, cells: readonly string[], dataset: Dataset, keys: TableKeys): RowResult {
  const values = new Map<string, Value>();
  const problems: string[] = [];
  // Only the columns this row reaches: a short row under a very wide header costs its own width.
  for (const column of header.columns.slice(0, cells.length)) {
    const raw = (cells[column.index] ?? '').trim();
    if (raw === '' || column.ignored) continue;
    if (column.invalid) {
      problems.push(column.invalid);
      continue;
    }
    if (!column.type) {
      values.set(column.name, raw);
      continue;
    }
    const typed = typeCell(column.type, raw);
    if (typed.ok) values.set(column.name, typed.value);
    else problems.push(`"${column.name}" ${typed.reason}`);
  }
  for (let i = header.columns.length; i < cells.length; i++) {
    if ((cells[i] ?? '').trim() !== '') problems.push(`column ${i + 1} has a value but no header`);
  }
  const keyPart = (column: string) => {
    const v = values.get(column);
    return v === undefined ? undefined : String(v);
  };
  const partitionParts = dataset.key.partition.map(keyPart);
  const missing = dataset.key.partition.filter((_c, i) => partitionParts[i] === undefined);
  const sort = dataset.key.sort ? keyPart(dataset.key.sort) : undefined;
  if (dataset.key.sort && sort === undefined) missing.push(dataset.key.sort);
  if (missing.length > 0) return { ok: false, reason: `missing value for key column ${missing.map((m) => `"${m}"`).join(', ')}` };
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };

  const partition = partitionParts.join(dataset.key.separator ?? '#');
  if (Buffer.byteLength(partition, 'utf8') > MAX_PARTITION_KEY_BYTES) {
    return { ok: false, reason: `the key is ${Buffer.byteLength(partition, 'utf8')} bytes; DynamoDB allows ${MAX_PARTITION_KEY_BYTES} for a partition key` };
  }
  if (sort !== undefined && Buffer.byteLength(sort, 'utf8') > MAX_SORT_KEY_BYTES) {
    return { ok: false, reason: `the sort key is ${Buffer.byteLength(sort, 'utf8')} bytes; DynamoDB allows ${MAX_SORT_KEY_BYTES}` };
  }
  // Built with fromEntries: every name, `__proto__` included, becomes an own attribute.
  const item: Item = Object.fromEntries([...values, [keys.partitionKey, partition], ...(keys.sortKey && sort !== undefined ? [[keys.sortKey, sort] as const] : [])]);
  const size = itemSize(item);
  if (size > MAX_ITEM_BYTES) return { ok: false, reason: `the row makes an item of ${(size / 1024).toFixed(0)} KB; DynamoDB items are at most 400 KB` };
  return { ok: true, item };
}
