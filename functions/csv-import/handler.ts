// Lambda entry point: adapts the event (SQS messages carrying S3 events, or a bare S3 event) and
// the AWS clients to the csv-import core.
import { dynamodb, s3 } from '#shared/clients';
import { loadConfig } from '#shared/config';
import { S3ObjectStore } from '#shared/object-store';
import { DynamoProcessingLog } from '#shared/processing-log';
import { s3Trigger } from '#shared/s3-trigger';
import { BatchWriter } from './batch-writer';
import { csvImportConfigSchema } from './config';
import { processImport } from './csv-import';
import { dynamoWriteChunk } from './dynamo-rows';
import { reportKey, S3ReportSink } from './report';

const config = loadConfig(csvImportConfigSchema);
const store = new S3ObjectStore(s3());
const log = new DynamoProcessingLog(dynamodb(), config.PROCESSING_LOG_TABLE);
const writeChunk = dynamoWriteChunk(dynamodb(), config.IMPORT_TABLE);

export const handler = s3Trigger((ref, logger) =>
  processImport(
    ref,
    { schema: config.IMPORT_SCHEMA, keyColumn: config.IMPORT_KEY_COLUMN, reportPrefix: config.REPORT_PREFIX },
    {
      store,
      log,
      logger,
      newWriter: () => new BatchWriter(writeChunk, { keyColumn: config.IMPORT_KEY_COLUMN }),
      newReport: (r) => new S3ReportSink(store, config.REPORT_BUCKET, reportKey(config.REPORT_PREFIX, r.key)),
    },
  ),
);
