// Lambda entry point: a scheduled event in, the report of the period that ends at its time out.
import type { Context } from 'aws-lambda';
import { dynamodb, s3, sns } from '#shared/clients';
import { loadConfig } from '#shared/config';
import { invocationLogger } from '#shared/logger';
import { S3ObjectStore } from '#shared/object-store';
import { DynamoProcessingLogReader } from '#shared/processing-log-reader';
import { SnsPublisher } from '#shared/publisher';
import { reportConfigSchema } from './config';
import { runReport, type ReportOutcome } from './report';
import { DynamoRunMarkers } from './run-markers';
import { parseScheduledEvent } from './scheduled-event';

const config = loadConfig(reportConfigSchema);
const deps = {
  reader: new DynamoProcessingLogReader(dynamodb(), config.PROCESSING_LOG_TABLE, config.PROCESSING_LOG_INDEX),
  store: new S3ObjectStore(s3()),
  publisher: new SnsPublisher(sns(), config.REPORT_TOPIC_ARN),
  markers: new DynamoRunMarkers(dynamodb(), config.REPORT_RUNS_TABLE),
};

export async function handler(event: unknown, context: Context): Promise<ReportOutcome> {
  const { time } = parseScheduledEvent(event);
  return runReport(time, { bucket: config.REPORTS_BUCKET, prefix: config.REPORT_PREFIX, periodHours: config.REPORT_PERIOD_HOURS, functions: config.REPORT_FUNCTIONS }, { ...deps, logger: invocationLogger(context) });
}
