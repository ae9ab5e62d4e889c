// Data sets: the kinds of CSV the import knows. Each is uploaded under its own prefix
// (`imports/<name>/`), has a target table, a key, typed columns, header aliases, a rule for
// undeclared columns and an upsert mode. Declared in infra/config.ts; the function receives them
// as IMPORT_DATASETS (JSON, each with its table's name and keys) and validates them once at cold
// start (a unit test runs the same check on the stack's own). Every mistake is a sentence naming
// the data set and the field.
import { z } from 'zod';

export const COLUMN_TYPES = ['string', 'number', 'boolean', 'date', 'json'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface DatasetKey {
  /** The column(s) whose value(s) make the table's partition key; several are joined by `separator`. */
  partition: string[];
  /** The column whose value is the table's sort key, when the table has one. */
  sort?: string;
  /** Joins several partition columns (default `#`). */
  separator?: string;
}

export type Upsert = { mode: 'put' } | { mode: 'if-newer'; versionColumn: string };

export interface Dataset {
  name: string;
  /** Where its files are uploaded: `imports/<name>/` unless given. */
  prefix: string;
  key: DatasetKey;
  columns: Record<string, ColumnType>;
  /** Header names that mean a declared column, e.g. `{"E-mail": "email"}`. */
  aliases?: Record<string, string>;
  /** Columns the header has but the data set does not declare: kept as strings, or the row rejected. */
  undeclared: 'keep' | 'reject';
  upsert: Upsert;
}

/** How a data set's table is keyed (its attribute names): from the table the data set writes to. */
export interface TableKeys {
  partitionKey: string;
  sortKey?: string;
}

export interface ResolvedDataset extends Dataset {
  table: string;
  tableKeys: TableKeys;
}

const NAME = /^[a-z][a-z0-9-]{0,39}$/;

const datasetSchema = z.object({
  name: z.string().regex(NAME, 'must be lowercase letters, digits and -, starting with a letter'),
  prefix: z.string().min(1).optional(),
  key: z.object({
    partition: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((p) => (Array.isArray(p) ? p : [p])),
    sort: z.string().min(1).optional(),
    separator: z.string().min(1).max(3).optional(),
  }),
  columns: z.record(z.string().min(1), z.enum(COLUMN_TYPES, { error: (issue) => `"${String(issue.input)}" is not a type (use ${COLUMN_TYPES.join(', ')})` })),
  aliases: z.record(z.string().min(1), z.string().min(1)).optional(),
  undeclared: z.enum(['keep', 'reject']).default('keep'),
  upsert: z.discriminatedUnion('mode', [z.object({ mode: z.literal('put') }), z.object({ mode: z.literal('if-newer'), versionColumn: z.string().min(1) })]).default({ mode: 'put' }),
});

export type DatasetInput = z.input<typeof datasetSchema>;

export class DatasetError extends Error {
  override name = 'DatasetError';
}

/** Checks one data set beyond its shape: keys and versions must be declared columns of the right type. */
function semanticProblems(d: Dataset, keys: TableKeys | undefined): string[] {
  const at = `data set "${d.name}"`;
  const problems: string[] = [];
  for (const column of [...d.key.partition, ...(d.key.sort ? [d.key.sort] : [])]) {
    if (!Object.hasOwn(d.columns, column)) problems.push(`${at}: key column "${column}" is not declared in columns`);
    else if (d.columns[column] !== 'string' && d.columns[column] !== 'date') problems.push(`${at}: key column "${column}" is ${d.columns[column]}; a key column must be string or date (table keys are strings)`);
  }
  if (d.upsert.mode === 'if-newer') {
    const type = Object.hasOwn(d.columns, d.upsert.versionColumn) ? d.columns[d.upsert.versionColumn] : undefined;
    if (!type) problems.push(`${at}: upsert.versionColumn "${d.upsert.versionColumn}" is not declared in columns`);
    else if (type !== 'number' && type !== 'date') problems.push(`${at}: upsert.versionColumn "${d.upsert.versionColumn}" is ${type}; it must be number or date to compare`);
  }
  for (const [alias, column] of Object.entries(d.aliases ?? {})) {
    if (!Object.hasOwn(d.columns, column)) problems.push(`${at}: alias "${alias}" names column "${column}", which is not declared`);
  }
  if (!d.prefix.endsWith('/')) problems.push(`${at}: prefix "${d.prefix}" must end with /`);
  if (keys) {
    if (keys.sortKey && !d.key.sort) problems.push(`${at}: its table has a sort key (${keys.sortKey}); set key.sort to the column that fills it`);
    if (!keys.sortKey && d.key.sort) problems.push(`${at}: key.sort is set but its table has no sort key`);
  }
  return problems;
}

/** Parses and checks data sets; `keysOf` gives each one's table keys when they are known. */
export function parseDatasets(inputs: unknown, importsPrefix = 'imports/', keysOf?: (d: Dataset) => TableKeys | undefined): Dataset[] {
  if (!Array.isArray(inputs)) throw new DatasetError('data sets must be a list');
  const problems: string[] = [];
  const datasets: Dataset[] = [];
  inputs.forEach((input, index) => {
    const name = typeof (input as { name?: unknown })?.name === 'string' ? (input as { name: string }).name : `#${index + 1}`;
    const parsed = datasetSchema.safeParse(input);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`data set "${name}": ${issue.path.join('.') || '(itself)'}: ${issue.message}`);
      return;
    }
    const d: Dataset = { ...parsed.data, prefix: parsed.data.prefix ?? `${importsPrefix}${parsed.data.name}/` } as Dataset;
    problems.push(...semanticProblems(d, keysOf?.(d)));
    datasets.push(d);
  });
  const seen = new Map<string, string>();
  for (const d of datasets) {
    if (seen.has(d.name)) problems.push(`data set "${d.name}" is declared twice`);
    seen.set(d.name, d.prefix);
  }
  for (const a of datasets) {
    for (const b of datasets) {
      if (a !== b && b.prefix.startsWith(a.prefix) && datasets.indexOf(a) < datasets.indexOf(b)) {
        problems.push(`data sets "${a.name}" and "${b.name}" share the prefix ${b.prefix}: a file must belong to one data set`);
      }
    }
  }
  if (problems.length > 0) throw new DatasetError(problems.join('; '));
  return datasets;
}

/** The data set a key belongs to, by prefix (the longest wins), or undefined. */
export function datasetFor<D extends Dataset>(datasets: readonly D[], key: string): D | undefined {
  return [...datasets].sort((a, b) => b.prefix.length - a.prefix.length).find((d) => key.startsWith(d.prefix));
}
