import { z } from 'zod';
import { requiredString } from '#shared/config';
import { parseRowSchema } from './row-schema';

export const csvImportConfigSchema = z
  .object({
    PROCESSING_LOG_TABLE: requiredString,
    IMPORT_TABLE: requiredString,
    IMPORT_KEY_COLUMN: requiredString,
    IMPORT_SCHEMA: z.string({ error: 'missing' }).transform((text, ctx) => {
      try {
        return parseRowSchema(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `${(error as Error).message} (expected e.g. id:string,age:number,active:boolean)` });
        return z.NEVER;
      }
    }),
    /** Where rejected-row reports go: `s3://<REPORT_BUCKET>/<REPORT_PREFIX><source key>.errors.csv`. */
    REPORT_BUCKET: requiredString,
    REPORT_PREFIX: requiredString.default('reports/'),
  })
  .refine((c) => !c.IMPORT_SCHEMA[c.IMPORT_KEY_COLUMN] || c.IMPORT_SCHEMA[c.IMPORT_KEY_COLUMN] === 'string', {
    message: 'the key column must be declared as string (the table key is a string)',
    path: ['IMPORT_SCHEMA'],
  });

export type CsvImportConfig = z.infer<typeof csvImportConfigSchema>;
