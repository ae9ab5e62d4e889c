// Lambda entry point: Function URL (and HTTP API) events, payload format 2.0, served by the hono app.
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { dynamodb, s3 } from '#shared/clients';
import { loadConfig } from '#shared/config';
import { InvalidEvent } from '#shared/errors';
import { logger } from '#shared/logger';
import { S3ObjectStore } from '#shared/object-store';
import { DynamoProcessingLogReader } from '#shared/processing-log-reader';
import { createApp } from './app';
import { loadAssets } from './assets';
import { apiConfigSchema } from './config';
import { S3UrlSigner } from './url-signer';

const config = loadConfig(apiConfigSchema);
// Presigned URLs name the endpoint the browser reaches S3 at (LOCAL_PUBLIC_ENDPOINT_URL locally).
const publicS3 = config.LOCAL_PUBLIC_ENDPOINT_URL ? new S3Client({ endpoint: config.LOCAL_PUBLIC_ENDPOINT_URL, forcePathStyle: true }) : s3();
const app = createApp(
  {
    uploadsBucket: config.UPLOADS_BUCKET,
    thumbnailsBucket: config.THUMBNAILS_BUCKET,
    datasets: config.UPLOAD_DATASETS,
    maxImageBytes: config.UPLOAD_MAX_IMAGE_BYTES,
    maxCsvBytes: config.UPLOAD_MAX_CSV_BYTES,
    urlExpiresSeconds: config.URL_EXPIRES_SECONDS,
    horizonDays: config.LIST_HORIZON_DAYS,
  },
  {
    reader: new DynamoProcessingLogReader(dynamodb(), config.PROCESSING_LOG_TABLE, config.PROCESSING_LOG_INDEX),
    store: new S3ObjectStore(s3()),
    signer: new S3UrlSigner(publicS3),
    assets: loadAssets(new URL('./dashboard/', import.meta.url)),
    logger,
  },
);
const serve = handle(app);

export async function handler(event: unknown, context: Context) {
  const e = event as { version?: string; requestContext?: { http?: unknown } };
  if (e?.version !== '2.0' || !e.requestContext?.http) {
    throw new InvalidEvent('the api answers HTTP requests: a Function URL or HTTP API event, payload format 2.0 (functions/api/events/ has samples)');
  }
  return serve(event as Parameters<typeof serve>[0], context);
}
