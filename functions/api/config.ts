import { z } from 'zod';
import { positiveInt, requiredString } from '#shared/config';

export const apiConfigSchema = z.object({
  PROCESSING_LOG_TABLE: requiredString,
  /** The by-day index of the processing log: listings read it by time, never by Scan. */
  PROCESSING_LOG_INDEX: requiredString.default('by-day'),
  UPLOADS_BUCKET: requiredString,
  THUMBNAILS_BUCKET: requiredString,
  /** The data sets a CSV may be uploaded for (imports/<name>/), comma-separated. */
  UPLOAD_DATASETS: requiredString.transform((v) => v.split(',').map((d) => d.trim()).filter(Boolean)),
  UPLOAD_MAX_IMAGE_BYTES: positiveInt.default(100 * 1024 * 1024),
  UPLOAD_MAX_CSV_BYTES: positiveInt.default(1024 * 1024 * 1024),
  /** How long a presigned upload or download URL stays valid. */
  URL_EXPIRES_SECONDS: positiveInt.default(900),
  /** How many days back a listing looks. */
  LIST_HORIZON_DAYS: positiveInt.default(30),
  /**
   * Where a browser reaches S3, when it is not where the function does: the local Lambda service
   * sets it (the function talks to LocalStack as http://localstack:4566, the browser as
   * http://127.0.0.1:4566). Unset on AWS.
   */
  LOCAL_PUBLIC_ENDPOINT_URL: z.url().optional(),
});

export type ApiConfig = z.infer<typeof apiConfigSchema>;
