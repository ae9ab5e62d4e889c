// Pure parts of the bootstrap: what the stack description turns into, before any AWS call, and
// how to tell whether what exists already matches it.
import type { QueueConfiguration } from '@aws-sdk/client-s3';
import {
  ACCOUNT_ID,
  REGION,
  buckets,
  eventQueueName,
  functions,
  tables,
  topics,
  type BucketSpec,
  type FunctionSpec,
  type S3Trigger,
  type TableSpec,
  type TopicSpec,
} from '#stack';

/** Everything bootstrap creates, as plain lists: the default is stack/stack.ts, tests may pass their own. */
export interface StackDescription {
  buckets: readonly BucketSpec[];
  tables: readonly TableSpec[];
  topics: readonly TopicSpec[];
  functions: readonly FunctionSpec[];
}

export const stackDescription: StackDescription = {
  buckets: Object.values(buckets),
  tables: Object.values(tables),
  topics: Object.values(topics),
  functions,
};

/** The ARN LocalStack gives a queue; bootstrap itself uses the ARN the endpoint reports. */
export const queueArn = (name: string): string => `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${name}`;
export const bucketArn = (name: string): string => `arn:aws:s3:::${name}`;
/** A queue subscribed to each topic, so people and tests can read what was published. */
export const inboxQueueName = (topicName: string): string => `${topicName}-inbox`;
/** Deliveries of one S3 event before SQS moves it to the function's DLQ. */
export const MAX_RECEIVE_COUNT = 3;
/** DLQs keep their messages as long as SQS allows (14 days): they are there to be read later. */
export const DLQ_RETENTION_SECONDS = 1_209_600;

export const s3Triggers = (fn: FunctionSpec): S3Trigger[] => fn.triggers.filter((t): t is S3Trigger => t.type === 's3');

/**
 * One bucket's notification configuration: every S3 trigger on it, each to its function's queue.
 * Rules of different functions may overlap (notify and thumbnail both watch images/): LocalStack
 * accepts that, real S3 rejects it ("Configurations overlap").
 */
export function bucketNotifications(
  bucket: string,
  fns: readonly FunctionSpec[],
  arnOfQueue: (name: string) => string = queueArn,
): QueueConfiguration[] {
  return fns.flatMap((fn) =>
    fn.triggers.flatMap((trigger, index) => {
      if (trigger.type !== 's3' || trigger.bucket !== bucket) return [];
      const rules = [
        ...(trigger.prefix ? [{ Name: 'prefix' as const, Value: trigger.prefix }] : []),
        ...(trigger.suffix ? [{ Name: 'suffix' as const, Value: trigger.suffix }] : []),
      ];
      return [
        {
          Id: `${fn.name}-${index}`,
          QueueArn: arnOfQueue(eventQueueName(fn)),
          Events: ['s3:ObjectCreated:*' as const],
          ...(rules.length > 0 && { Filter: { Key: { FilterRules: rules } } }),
        },
      ];
    }),
  );
}

/** A configuration reduced to what matters, in a stable order: S3 echoes rule names capitalised. */
function canonicalNotifications(configs: readonly QueueConfiguration[]): string {
  const canonical = configs
    .map((c) => ({
      id: c.Id ?? '',
      queue: c.QueueArn,
      events: [...(c.Events ?? [])].sort(),
      rules: (c.Filter?.Key?.FilterRules ?? []).map((r) => `${String(r.Name).toLowerCase()}=${r.Value}`).sort(),
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
  return JSON.stringify(canonical);
}

/** True when the bucket already has exactly the wanted queue notifications. */
export const sameNotifications = (current: readonly QueueConfiguration[], wanted: readonly QueueConfiguration[]): boolean =>
  canonicalNotifications(current) === canonicalNotifications(wanted);

/** Lets the given buckets send their notifications to a queue. */
export function s3SendPolicy(queue: string, sourceBuckets: readonly string[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AllowS3Notifications',
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queue,
        Condition: { ArnLike: { 'aws:SourceArn': sourceBuckets.map(bucketArn) } },
      },
    ],
  });
}

/** Lets one SNS topic deliver to a queue (the inbox subscribed to it). */
export function snsSendPolicy(queue: string, topic: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AllowTopicDelivery',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queue,
        Condition: { ArnEquals: { 'aws:SourceArn': topic } },
      },
    ],
  });
}

export const redrivePolicy = (dlqArn: string): string => JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVE_COUNT });

/** JSON values compared by content: SQS may echo `"3"` for 3 and reorder keys. */
function canonicalJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalJson);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, canonicalJson(v)]),
    );
  }
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

function sameAttribute(current: string | undefined, wanted: string): boolean {
  if (current === wanted) return true;
  if (current === undefined) return false;
  try {
    return JSON.stringify(canonicalJson(JSON.parse(current))) === JSON.stringify(canonicalJson(JSON.parse(wanted)));
  } catch {
    return false;
  }
}

/** The wanted queue attributes whose current value differs (policies compared as JSON). */
export function queueAttributeChanges(current: Record<string, string>, wanted: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(wanted).filter(([name, value]) => !sameAttribute(current[name], value)));
}
