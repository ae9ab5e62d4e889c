// Lambda entry point: adapts the event (SQS messages carrying S3 events, or a bare S3 event) and
// the AWS clients to the thumbnail core.
import { dynamodb, s3 } from '#shared/clients';
import { loadConfig } from '#shared/config';
import { publishCounts } from '#shared/metrics';
import { S3ObjectStore } from '#shared/object-store';
import { DynamoProcessingLog } from '#shared/processing-log';
import { s3Trigger } from '#shared/s3-trigger';
import { thumbnailConfigSchema } from './config';
import { processUpload } from './thumbnail';

const config = loadConfig(thumbnailConfigSchema);
const store = new S3ObjectStore(s3());
const log = new DynamoProcessingLog(dynamodb(), config.PROCESSING_LOG_TABLE);

// One image at a time: sharp already uses every core for one image.
export const handler = s3Trigger(async (ref, logger) => {
  const outcome = await processUpload(ref, config, { store, log, logger });
  if (outcome.status === 'PROCESSED') publishCounts({ ThumbnailsWritten: outcome.outputs.length, ImagesProcessed: 1 });
  if (outcome.status === 'FAILED') publishCounts({ ImagesFailed: 1 });
  return outcome;
});
