// The local rendering of the stack: the names and ARNs its resources get in LocalStack, the
// environment each function container receives, and the plan bootstrap applies (scripts/bootstrap.ts).
// The local Lambda service reads the same topology for its event source mappings. Nothing under
// infra/ imports this file: the AWS side names its resources itself.
import type { AttributeDefinition, CreateTableCommandInput, GlobalSecondaryIndex, KeySchemaElement } from '@aws-sdk/client-dynamodb';
import type { CORSRule, TopicConfiguration } from '@aws-sdk/client-s3';
import { isRef, type BucketCorsRule, type EnvValue, type FunctionSpec, type StackSpec, type TableSpec } from './model';
import { OBJECT_CREATED, type QueueSpec, type SubscriptionSpec, type Topology } from './topology';

/** LocalStack's default region and account. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';

export const localArn = (service: 'sns' | 'sqs' | 'lambda', resource: string): string => `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${resource}`;
export const topicArn = (name: string): string => localArn('sns', name);
export const queueArn = (name: string): string => localArn('sqs', name);
export const functionArn = (name: string): string => localArn('lambda', `function:${name}`);
export const scheduleArn = (name: string): string => `arn:aws:scheduler:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:schedule/default/${name}`;
export const bucketArn = (name: string): string => `arn:aws:s3:::${name}`;

/** An environment value as a container sees it locally: resources by their LocalStack names. */
export function localValue(value: EnvValue): string {
  if (!isRef(value)) return value;
  return value.ref === 'topic' ? topicArn(value.name) : value.name;
}

/** The function's own environment (without the AWS_* the platform sets), resolved locally. */
export const localEnvironment = (fn: FunctionSpec): Record<string, string> =>
  Object.fromEntries(Object.entries(fn.environment).map(([name, value]) => [name, localValue(value)]));

/**
 * What only the local run sets, beside the AWS_* of the runtime: where a browser reaches S3 (a
 * function reaches LocalStack as localstack:4566, a browser as 127.0.0.1:4566), for presigned URLs.
 * The parity test leaves these out; on AWS they are unset.
 */
export const localOnlyEnvironment = (fn: Pick<FunctionSpec, 'url'>): Record<string, string> => (fn.url ? { PUBLIC_S3_ENDPOINT: 'http://127.0.0.1:4566' } : {});

/** One variable of a function's local environment, e.g. `localSetting(stack, 'csv-import', 'IMPORT_KEY_COLUMN')`. */
export function localSetting(stack: StackSpec, fn: string, variable: string): string {
  const spec = stack.functions.find((f) => f.name === fn);
  const value = spec?.environment[variable];
  if (value === undefined) throw new Error(`function ${fn} has no ${variable} in the stack description`);
  return localValue(value);
}

export interface QueuePlan {
  name: string;
  /** SQS attributes; those that name the queue's own ARN are filled in by `withArn`. */
  attributes: (arn: string) => Record<string, string>;
}

export interface SubscriptionPlan {
  topic: string;
  queue: string;
  attributes: Record<string, string>;
}

export interface LocalPlan {
  buckets: string[];
  tables: CreateTableCommandInput[];
  topics: Array<{ name: string; policy?: string }>;
  queues: QueuePlan[];
  subscriptions: SubscriptionPlan[];
  /** The CORS rules of the buckets that have some (browsers uploading with a presigned POST). */
  cors: Array<{ bucket: string; rules: CORSRule[] }>;
  /** Per bucket: its whole notification configuration (buckets nothing listens to: none). */
  notifications: Array<{ bucket: string; topicConfigurations: TopicConfiguration[] }>;
}

export function createTableInput(spec: TableSpec): CreateTableCommandInput {
  const keys = (partitionKey: string, sortKey?: string): KeySchemaElement[] => [
    { AttributeName: partitionKey, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : []),
  ];
  const names = new Set([spec.partitionKey, spec.sortKey, ...(spec.indexes ?? []).flatMap((i) => [i.partitionKey, i.sortKey])].filter((n): n is string => !!n));
  const indexes: GlobalSecondaryIndex[] = (spec.indexes ?? []).map((i) => ({ IndexName: i.name, KeySchema: keys(i.partitionKey, i.sortKey), Projection: { ProjectionType: 'ALL' } }));
  return {
    TableName: spec.name,
    KeySchema: keys(spec.partitionKey, spec.sortKey),
    AttributeDefinitions: [...names].map((AttributeName): AttributeDefinition => ({ AttributeName, AttributeType: 'S' })),
    BillingMode: 'PAY_PER_REQUEST',
    ...(indexes.length > 0 && { GlobalSecondaryIndexes: indexes }),
    ...(spec.stream && { StreamSpecification: { StreamEnabled: true, StreamViewType: spec.stream } }),
  };
}

/** Lets the topics subscribed to a queue deliver to it. */
export function topicsMaySend(queue: string, topics: readonly string[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AllowTopicDelivery',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queue,
        Condition: { ArnEquals: { 'aws:SourceArn': topics.map(topicArn) } },
      },
    ],
  });
}

/** Lets a bucket publish its notifications to a topic. */
export function bucketMayPublish(topic: string, bucket: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AllowBucketNotifications',
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: topicArn(topic),
        Condition: { ArnLike: { 'aws:SourceArn': bucketArn(bucket) }, StringEquals: { 'aws:SourceAccount': LOCAL_ACCOUNT_ID } },
      },
    ],
  });
}

function queuePlan(queue: QueueSpec, subscriptions: readonly SubscriptionSpec[]): QueuePlan {
  const publishers = subscriptions.filter((s) => s.queue === queue.name).map((s) => s.topic);
  return {
    name: queue.name,
    attributes: (arn) => ({
      VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
      MessageRetentionPeriod: String(queue.retentionSeconds),
      ...(queue.redrive && {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn(queue.redrive.deadLetterQueue), maxReceiveCount: queue.redrive.maxReceiveCount }),
      }),
      ...(publishers.length > 0 && { Policy: topicsMaySend(arn, publishers) }),
    }),
  };
}

export function subscriptionAttributes(s: SubscriptionSpec): Record<string, string> {
  return {
    RawMessageDelivery: String(s.rawMessageDelivery),
    ...(s.filterPolicy && { FilterPolicyScope: 'MessageBody', FilterPolicy: JSON.stringify(s.filterPolicy) }),
  };
}

/** A CORS rule of the stack description as S3's API spells it. */
export const corsRule = (r: BucketCorsRule): CORSRule => ({
  AllowedOrigins: r.allowedOrigins,
  AllowedMethods: r.allowedMethods,
  ...(r.allowedHeaders && { AllowedHeaders: r.allowedHeaders }),
  ...(r.exposedHeaders && { ExposeHeaders: r.exposedHeaders }),
  ...(r.maxAgeSeconds !== undefined && { MaxAgeSeconds: r.maxAgeSeconds }),
});

export function localPlan(t: Topology): LocalPlan {
  const notifications = t.buckets.map((b) => {
    const fanOut = t.fanOuts.find((f) => f.bucket === b.name);
    const topicConfigurations: TopicConfiguration[] = !fanOut
      ? []
      : (fanOut.prefixes ?? [undefined]).map((prefix, i) => ({
          Id: `${fanOut.topic}-${i}`,
          TopicArn: topicArn(fanOut.topic),
          Events: [OBJECT_CREATED],
          ...(prefix !== undefined && { Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: prefix }] } } }),
        }));
    return { bucket: b.name, topicConfigurations };
  });
  return {
    buckets: t.buckets.map((b) => b.name),
    cors: t.buckets.filter((b) => b.cors?.length).map((b) => ({ bucket: b.name, rules: (b.cors ?? []).map(corsRule) })),
    tables: t.tables.map(createTableInput),
    topics: t.topics.map((topic) => {
      const fanOut = t.fanOuts.find((f) => f.topic === topic.name);
      return { name: topic.name, ...(fanOut && { policy: bucketMayPublish(topic.name, fanOut.bucket) }) };
    }),
    // Dead-letter queues first: the queues that redrive into them need their ARNs.
    queues: [...t.queues].sort((a, b) => Number(!!a.redrive) - Number(!!b.redrive)).map((q) => queuePlan(q, t.subscriptions)),
    subscriptions: t.subscriptions.map((s) => ({ topic: s.topic, queue: s.queue, attributes: subscriptionAttributes(s) })),
    notifications,
  };
}

