import { z } from 'zod';
import { positiveInt, requiredString } from '#shared/config';
import { parseDatasets, type ResolvedDataset, type TableKeys } from './datasets';
import { DEFAULT_REPORT_LIMITS } from './report';

const tableKeysSchema = z.object({ partitionKey: z.string().min(1), sortKey: z.string().min(1).optional() });
const tableNameSchema = z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name');

export const csvImportConfigSchema = z
  .object({
    PROCESSING_LOG_TABLE: requiredString,
    /**
     * JSON: the data sets (infra/config.ts), each with its table's name (`table`) and key
     * attributes (`tableKeys`), as the stack resolves them.
     */
    IMPORT_DATASETS: z.string({ error: 'missing' }).transform((text, ctx): ResolvedDataset[] => {
      try {
        const raw = JSON.parse(text) as Array<Record<string, unknown>>;
        const tables = new Map<string, { table: string; tableKeys: TableKeys }>();
        for (const entry of Array.isArray(raw) ? raw : []) {
          const name = String(entry?.name);
          const table = tableNameSchema.safeParse(entry?.table);
          if (!table.success) throw new Error(`data set "${name}": table ${JSON.stringify(entry?.table)} ${table.error.issues[0]?.message ?? 'is missing'}`);
          tables.set(name, { table: table.data, tableKeys: tableKeysSchema.parse(entry?.tableKeys) });
        }
        const withoutTables = (Array.isArray(raw) ? raw : []).map(({ table: _t, tableKeys: _k, ...d }) => d);
        return parseDatasets(withoutTables, 'imports/', (d) => tables.get(d.name)?.tableKeys).map((d) => ({ ...d, ...tables.get(d.name)! }));
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
    /** Where rejected-row reports go: `s3://<REPORT_BUCKET>/<REPORT_PREFIX><source key>.errors.csv`. */
    REPORT_BUCKET: requiredString,
    REPORT_PREFIX: requiredString.default('reports/'),
    /** A CSV record longer than this (bytes) stops the import: an unclosed quote, or a hostile file. */
    MAX_RECORD_BYTES: positiveInt.default(1024 * 1024),
    /** The rejected-rows report's limits (cells, bytes): beyond them the file is FAILED, the report kept as far as it got. */
    REPORT_MAX_CELLS: positiveInt.default(DEFAULT_REPORT_LIMITS.maxCells),
    REPORT_MAX_BYTES: positiveInt.default(DEFAULT_REPORT_LIMITS.maxBytes),
    /** Its own queue: an import that would outlast the invocation hands the rest over there (the same event again). Unset: no continuation. */
    CONTINUATION_QUEUE_URL: z.url({ error: 'must be the URL of csv-import\'s queue' }).optional(),
  })
  .passthrough();

export type CsvImportConfig = z.infer<typeof csvImportConfigSchema>;
