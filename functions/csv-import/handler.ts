// Lambda entry point: adapts the S3 event and the AWS clients to the csv-import core.
import type { Context, S3Event } from 'aws-lambda';
import { dynamodb, s3 } from '#shared/clients';
import { loadConfig } from '#shared/config';
import { invocationLogger } from '#shared/logger';
import { S3ObjectStore } from '#shared/object-store';
import { DynamoProcessingLog } from '#shared/processing-log';
import { objectCreatedRecords } from '#shared/s3-event';
import { BatchWriter } from './batch-writer';
import { csvImportConfigSchema } from './config';
import { processImport, type CsvImportOutcome } from './csv-import';
import { dynamoWriteChunk } from './dynamo-rows';
import { reportKey, S3ReportSink } from './report';

const config = loadConfig(csvImportConfigSchema);
const store = new S3ObjectStore(s3());
const log = new DynamoProcessingLog(dynamodb(), config.PROCESSING_LOG_TABLE);
const writeChunk = dynamoWriteChunk(dynamodb(), config.IMPORT_TABLE);

export async function handler(event: S3Event, context: Context): Promise<{ results: Array<{ key: string } & CsvImportOutcome> }> {
  const logger = invocationLogger(context);
  const results = [];
  for (const ref of objectCreatedRecords(event)) {
    const outcome = await processImport(
      ref,
      { schema: config.IMPORT_SCHEMA, keyColumn: config.IMPORT_KEY_COLUMN, reportPrefix: config.REPORT_PREFIX },
      {
        store,
        log,
        logger,
        newWriter: () => new BatchWriter(writeChunk, { keyColumn: config.IMPORT_KEY_COLUMN }),
        newReport: (r) => new S3ReportSink(store, r.bucket, reportKey(config.REPORT_PREFIX, r.key)),
      },
    );
    results.push({ key: ref.key, ...outcome });
  }
  return { results };
}
