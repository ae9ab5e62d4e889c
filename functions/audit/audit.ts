// The audit core: DynamoDB Streams records of the processing log in, one alert per newly FAILED
// item out, and the records that could not be alerted reported back for retry.
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Logger } from '#shared/logger';
import type { ProcessingLogItem } from '#shared/processing-log';
import type { Notification, Publisher } from '#shared/publisher';

const image = (raw: Record<string, unknown> | undefined): Partial<ProcessingLogItem> | undefined =>
  raw ? (unmarshall(raw as Record<string, AttributeValue>) as Partial<ProcessingLogItem>) : undefined;

/**
 * An alert is due when a record's new image is FAILED and it was not FAILED before: an INSERT of
 * a FAILED item, or a MODIFY into FAILED. A MODIFY of an item that was already FAILED was alerted.
 */
export function failedItem(record: DynamoDBRecord): Partial<ProcessingLogItem> | undefined {
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return undefined;
  const next = image(record.dynamodb?.NewImage);
  if (next?.status !== 'FAILED') return undefined;
  if (image(record.dynamodb?.OldImage)?.status === 'FAILED') return undefined;
  return next;
}

export function failureAlert(item: Partial<ProcessingLogItem>): Notification {
  return {
    subject: `FAILED: ${item.function ?? 'unknown function'} s3://${item.bucket}/${item.key}`,
    message: JSON.stringify({
      function: item.function,
      bucket: item.bucket,
      key: item.key,
      objectVersion: item.objectVersion,
      reason: item.reason,
      failedAt: item.createdAt,
    }),
    attributes: { function: item.function ?? 'unknown', status: 'FAILED' },
  };
}

/**
 * Alerts in stream order. On the first record that cannot be published, it and every later
 * record are reported as failures (Lambda retries from the lowest reported sequence number), so
 * order is kept and no later record is alerted twice by the retry.
 */
export async function auditRecords(records: readonly DynamoDBRecord[], publisher: Publisher, logger: Logger): Promise<DynamoDBBatchResponse> {
  for (const [index, record] of records.entries()) {
    const item = failedItem(record);
    if (!item) continue;
    try {
      await publisher.publish(failureAlert(item));
      logger.info({ pk: item.pk, sk: item.sk, reason: item.reason }, 'failure alerted');
    } catch (error) {
      logger.error({ err: error, pk: item.pk }, 'could not publish the alert; reporting the rest of the batch for retry');
      return {
        batchItemFailures: records.slice(index).map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? r.eventID ?? '' })),
      };
    }
  }
  return { batchItemFailures: [] };
}
