// Lambda entry point: adapts the DynamoDB Streams event and the SNS client to the audit core.
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { z } from 'zod';
import { sns } from '#shared/clients';
import { loadConfig, requiredString } from '#shared/config';
import { invocationLogger } from '#shared/logger';
import { SnsPublisher } from '#shared/publisher';
import { auditRecords } from './audit';

const config = loadConfig(z.object({ ALERTS_TOPIC_ARN: requiredString.regex(/^arn:aws[\w-]*:sns:/, 'must be an SNS topic ARN') }));
const publisher = new SnsPublisher(sns(), config.ALERTS_TOPIC_ARN);

export async function handler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
  return auditRecords(Array.isArray(event?.Records) ? event.Records : [], publisher, invocationLogger(context));
}
