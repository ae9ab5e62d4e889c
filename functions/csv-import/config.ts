import { z } from 'zod';
import { positiveInt, requiredString } from '#shared/config';
import { parseDatasets, tableVariable, type Dataset, type ResolvedDataset, type TableKeys } from './datasets';

/** What IMPORT_DATASETS holds per data set: the data set and how its table is keyed (not its name). */
export type DatasetSetting = Dataset & { tableKeys: TableKeys };

const tableKeysSchema = z.object({ partitionKey: z.string().min(1), sortKey: z.string().min(1).optional() });

export const csvImportConfigSchema = z
  .object({
    PROCESSING_LOG_TABLE: requiredString,
    /** JSON: the data sets of stack/stack.ts, each with its table's key attributes. */
    IMPORT_DATASETS: z.string({ error: 'missing' }).transform((text, ctx) => {
      try {
        const raw = JSON.parse(text) as Array<Record<string, unknown>>;
        const keys = new Map<string, TableKeys>();
        for (const entry of Array.isArray(raw) ? raw : []) keys.set(String(entry?.name), tableKeysSchema.parse(entry?.tableKeys));
        return parseDatasets(raw, 'imports/', (d) => keys.get(d.name)).map((d) => ({ ...d, tableKeys: keys.get(d.name)! }));
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
  })
  .passthrough();

export type CsvImportConfig = z.infer<typeof csvImportConfigSchema>;

/** Each data set with the table its IMPORT_TABLE__<NAME> variable names; a missing one is named. */
export function resolveDatasets(config: CsvImportConfig, env: Record<string, string | undefined> = process.env): ResolvedDataset[] {
  const missing = config.IMPORT_DATASETS.filter((d) => !env[tableVariable(d.name)]?.trim()).map((d) => tableVariable(d.name));
  if (missing.length > 0) throw new Error(`Invalid configuration: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required (the table of each data set in IMPORT_DATASETS)`);
  return config.IMPORT_DATASETS.map((d) => ({ ...d, table: env[tableVariable(d.name)]!.trim() }));
}
