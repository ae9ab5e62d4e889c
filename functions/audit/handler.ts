// Lambda entry point: adapts the DynamoDB Streams event (or a CloudWatch Logs subscription's) and
// the SNS client to the audit cores.
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { z } from 'zod';
import { sns } from '#shared/clients';
import { loadConfig, requiredString } from '#shared/config';
import { invocationLogger } from '#shared/logger';
import { SnsPublisher } from '#shared/publisher';
import { auditRecords } from './audit';
import { errorLinesAlert, isLogsEvent, readLogsEvent } from './log-errors';

const config = loadConfig(z.object({ ALERTS_TOPIC_ARN: requiredString.regex(/^arn:aws[\w-]*:sns:/, 'must be an SNS topic ARN') }));
const publisher = new SnsPublisher(sns(), config.ALERTS_TOPIC_ARN);

/** DynamoDB Streams records of the processing log, or error lines of the functions' logs (a subscription filter). */
export async function handler(event: DynamoDBStreamEvent | { awslogs: { data: string } }, context: Context): Promise<DynamoDBBatchResponse | void> {
  const logger = invocationLogger(context);
  if (isLogsEvent(event)) {
    const delivery = readLogsEvent(event);
    const alert = errorLinesAlert(delivery);
    if (!alert) return;
    await publisher.publish(alert);
    logger.info({ logGroup: delivery.logGroup, lines: delivery.logEvents.length }, 'error lines alerted');
    return;
  }
  return auditRecords(Array.isArray(event?.Records) ? event.Records : [], publisher, logger);
}
