// Lambda entry point: adapts the S3 event and the AWS clients to the thumbnail core.
import type { Context, S3Event } from 'aws-lambda';
import { dynamodb, s3 } from '#shared/clients';
import { loadConfig } from '#shared/config';
import { invocationLogger } from '#shared/logger';
import { S3ObjectStore } from '#shared/object-store';
import { DynamoProcessingLog } from '#shared/processing-log';
import { objectCreatedRecords } from '#shared/s3-event';
import { thumbnailConfigSchema } from './config';
import { processUpload, type ThumbnailOutcome } from './thumbnail';

const config = loadConfig(thumbnailConfigSchema);
const store = new S3ObjectStore(s3());
const log = new DynamoProcessingLog(dynamodb(), config.PROCESSING_LOG_TABLE);

export async function handler(event: S3Event, context: Context): Promise<{ results: Array<{ key: string } & ThumbnailOutcome> }> {
  const logger = invocationLogger(context);
  const results = [];
  // One at a time: sharp already uses every core for one image.
  for (const ref of objectCreatedRecords(event)) {
    results.push({ key: ref.key, ...(await processUpload(ref, config, { store, log, logger })) });
  }
  return { results };
}
