// Pure parts of the bootstrap: what the stack description turns into, before any AWS call.
import type { QueueConfiguration } from '@aws-sdk/client-s3';
import { ACCOUNT_ID, REGION, eventQueueName, type FunctionSpec } from '#stack';

export const queueArn = (name: string): string => `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${name}`;
/** A queue subscribed to each topic, so people and tests can read what was published. */
export const inboxQueueName = (topicName: string): string => `${topicName}-inbox`;
/** Deliveries of one S3 event before SQS moves it to the function's DLQ. */
export const MAX_RECEIVE_COUNT = 3;

/** One bucket's notification configuration: every S3 trigger on it, each to its function's queue. */
export function bucketNotifications(bucket: string, functions: readonly FunctionSpec[]): QueueConfiguration[] {
  return functions.flatMap((fn) =>
    fn.triggers.flatMap((trigger, index) => {
      if (trigger.type !== 's3' || trigger.bucket !== bucket) return [];
      const rules = [
        ...(trigger.prefix ? [{ Name: 'prefix' as const, Value: trigger.prefix }] : []),
        ...(trigger.suffix ? [{ Name: 'suffix' as const, Value: trigger.suffix }] : []),
      ];
      return [
        {
          Id: `${fn.name}-${index}`,
          QueueArn: queueArn(eventQueueName(fn)),
          Events: ['s3:ObjectCreated:*' as const],
          ...(rules.length > 0 && { Filter: { Key: { FilterRules: rules } } }),
        },
      ];
    }),
  );
}

/** Lets the buckets of the stack send their notifications to a queue. */
export function s3SendPolicy(queueName: string, buckets: readonly string[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AllowS3Notifications',
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn(queueName),
        Condition: { ArnLike: { 'aws:SourceArn': buckets.map((b) => `arn:aws:s3:::${b}`) } },
      },
    ],
  });
}
