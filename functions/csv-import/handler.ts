// Lambda entry point: adapts the event (SQS messages carrying S3 events, or a bare S3 event) and
// the AWS clients to the csv-import core.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { dynamodb, s3, sqs } from '#shared/clients';
import { loadConfig } from '#shared/config';
import { publishCounts } from '#shared/metrics';
import { S3ObjectStore } from '#shared/object-store';
import { DynamoProcessingLog } from '#shared/processing-log';
import { s3Trigger, type EventSource } from '#shared/s3-trigger';
import { BatchWriter } from './batch-writer';
import { ConditionalWriter } from './conditional-writer';
import { csvImportConfigSchema } from './config';
import { processImport, type Invocation } from './csv-import';
import type { ResolvedDataset } from './datasets';
import { dynamoPutIfNewer, dynamoWriteChunk } from './dynamo-rows';
import { reportKey, S3ReportSink } from './report';

const config = loadConfig(csvImportConfigSchema);
const datasets = config.IMPORT_DATASETS;
const store = new S3ObjectStore(s3());
const log = new DynamoProcessingLog(dynamodb(), config.PROCESSING_LOG_TABLE);
const reportLimits = { maxCells: config.REPORT_MAX_CELLS, maxBytes: config.REPORT_MAX_BYTES };

/** put: BatchWriteItem, the last row of a key wins; if-newer: conditional puts on the version column. */
function newWriter(d: ResolvedDataset) {
  if (d.upsert.mode === 'if-newer') return new ConditionalWriter(dynamoPutIfNewer(dynamodb(), d.table, d.tableKeys, d.upsert.versionColumn));
  const { partitionKey, sortKey } = d.tableKeys;
  return new BatchWriter(dynamoWriteChunk(dynamodb(), d.table), { keyOf: (item) => `${String(item[partitionKey])}\u0000${sortKey ? String(item[sortKey]) : ''}` });
}

export const handler = s3Trigger(async (ref, logger, source) => {
  const outcome = await processImport(
    ref,
    { datasets, reportPrefix: config.REPORT_PREFIX, maxRecordBytes: config.MAX_RECORD_BYTES },
    {
      store,
      log,
      logger,
      newWriter,
      newReport: (r, from) => new S3ReportSink(store, config.REPORT_BUCKET, reportKey(config.REPORT_PREFIX, r.key), reportLimits, from),
      // The rest of a long import: the same event again, on the function's own queue.
      ...(config.CONTINUATION_QUEUE_URL && { continueLater: () => continueOn(config.CONTINUATION_QUEUE_URL!, source.body) }),
    },
    invocationOf(source),
  );
  // Once per file, with its final item (a continuation or a duplicate delivery counts nothing).
  if (outcome.status === 'PROCESSED') publishCounts({ RowsImported: outcome.rowsWritten, RowsRejected: outcome.rowsRejected, RowsSkipped: outcome.rowsSkipped, ImportsProcessed: 1 });
  if (outcome.status === 'FAILED') publishCounts({ ImportsFailed: 1 });
  return outcome;
});

/** The invocation's deadline and its owner for the lease (none when called without Lambda's context: no continuation then). */
function invocationOf(source: EventSource): Invocation | undefined {
  const { context } = source;
  if (typeof context?.getRemainingTimeInMillis !== 'function') return undefined;
  // The lease of a checkpoint lasts as long as this invocation may still run.
  return { owner: source.owner, remainingMs: () => context.getRemainingTimeInMillis(), timeoutMs: context.getRemainingTimeInMillis() };
}

async function continueOn(queueUrl: string, body: string): Promise<void> {
  await sqs().send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}
