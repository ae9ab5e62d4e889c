// Lambda entry point: adapts the event (SQS messages carrying S3 events, or a bare S3 event) and
// the AWS clients to the csv-import core.
import { dynamodb, s3 } from '#shared/clients';
import { loadConfig } from '#shared/config';
import { S3ObjectStore } from '#shared/object-store';
import { DynamoProcessingLog } from '#shared/processing-log';
import { s3Trigger } from '#shared/s3-trigger';
import { BatchWriter } from './batch-writer';
import { ConditionalWriter } from './conditional-writer';
import { csvImportConfigSchema } from './config';
import { processImport } from './csv-import';
import type { ResolvedDataset } from './datasets';
import { dynamoPutIfNewer, dynamoWriteChunk } from './dynamo-rows';
import { reportKey, S3ReportSink } from './report';

const config = loadConfig(csvImportConfigSchema);
const datasets = config.IMPORT_DATASETS;
const store = new S3ObjectStore(s3());
const log = new DynamoProcessingLog(dynamodb(), config.PROCESSING_LOG_TABLE);

/** put: BatchWriteItem, the last row of a key wins; if-newer: conditional puts on the version column. */
function newWriter(d: ResolvedDataset) {
  if (d.upsert.mode === 'if-newer') return new ConditionalWriter(dynamoPutIfNewer(dynamodb(), d.table, d.tableKeys, d.upsert.versionColumn));
  const { partitionKey, sortKey } = d.tableKeys;
  return new BatchWriter(dynamoWriteChunk(dynamodb(), d.table), { keyOf: (item) => `${String(item[partitionKey])}\u0000${sortKey ? String(item[sortKey]) : ''}` });
}

export const handler = s3Trigger((ref, logger) =>
  processImport(
    ref,
    { datasets, reportPrefix: config.REPORT_PREFIX, maxRecordBytes: config.MAX_RECORD_BYTES },
    { store, log, logger, newWriter, newReport: (r) => new S3ReportSink(store, config.REPORT_BUCKET, reportKey(config.REPORT_PREFIX, r.key)) },
  ),
);
