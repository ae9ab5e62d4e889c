import { z } from 'zod';
import { positiveInt, requiredString } from '#shared/config';

export const reportConfigSchema = z.object({
  PROCESSING_LOG_TABLE: requiredString,
  /** The by-day index of the processing log: the report reads by time, never by Scan. */
  PROCESSING_LOG_INDEX: requiredString.default('by-day'),
  REPORTS_BUCKET: requiredString,
  REPORT_PREFIX: requiredString.default('daily/'),
  REPORT_RUNS_TABLE: requiredString,
  REPORT_TOPIC_ARN: requiredString.regex(/^arn:aws[\w-]*:sns:/, 'must be an SNS topic ARN'),
  /** The functions that write the processing log: each gets a row, zeros included. */
  REPORT_FUNCTIONS: requiredString.default('thumbnail,csv-import').transform((v) => v.split(',').map((f) => f.trim()).filter(Boolean)),
  /** The period a report covers, ending at the scheduled time. */
  REPORT_PERIOD_HOURS: positiveInt.default(24),
});
