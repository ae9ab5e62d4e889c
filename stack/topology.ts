// The wiring both targets build from the stack description, decided once: which topics, queues,
// subscriptions and event source mappings exist, with which settings. stack/local.ts turns it
// into LocalStack API calls and the local Lambda service's mappings, infra/ into CloudFormation;
// infra/parity.test.ts checks that the two renderings agree.
//
//   S3 ObjectCreated -> <bucket>-object-created (SNS) -> <fn>-events (SQS, filter on the key)
//     -> SQS event source mapping -> fn;  failures -> <fn>-dlq (redrive)
//   DynamoDB Streams -> stream event source mapping -> fn;  failures -> <fn>-dlq (DDBStreamBatchInfo)
//   Event invocations -> retries -> <fn>-dlq (destination record)
import type { BucketSpec, DynamoStreamTrigger, FunctionSpec, FunctionUrlSpec, S3Trigger, StackSpec, TableSpec, TopicSpec } from './model';

/** SQS keeps DLQ messages as long as it can (14 days): they are there to be read later. */
export const DLQ_RETENTION_SECONDS = 1_209_600;
/** SQS's default retention (4 days), set explicitly so both targets say the same. */
export const QUEUE_RETENTION_SECONDS = 345_600;
/** AWS's advice: a source queue's visibility timeout at least six times the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** Visibility of a topic inbox: long enough for a reader to delete what it received. */
export const INBOX_VISIBILITY_SECONDS = 30;
export const OBJECT_CREATED = 's3:ObjectCreated:*';

export const fanOutTopicName = (bucket: string): string => `${bucket}-object-created`;
export const eventQueueName = (fn: Pick<FunctionSpec, 'name'>): string => `${fn.name}-events`;
export const dlqName = (fn: Pick<FunctionSpec, 'name'>): string => `${fn.name}-dlq`;
export const inboxQueueName = (topic: string): string => `${topic}-inbox`;

export interface QueueSpec {
  name: string;
  visibilityTimeoutSeconds: number;
  retentionSeconds: number;
  redrive?: { deadLetterQueue: string; maxReceiveCount: number };
}

/** S3 -> SNS for one bucket: the notification rules (one per prefix, or every key) and their topic. */
export interface FanOut {
  bucket: string;
  topic: string;
  /** One S3 notification rule per prefix; undefined: one rule for every key. Never overlapping. */
  prefixes?: string[];
}

/** An SNS body filter policy: `{"Records":{"s3":{"object":{"key":[{"prefix":"images/"}]}}}}`. */
export type KeyFilterPolicy = { Records: { s3: { object: { key: Array<{ prefix: string } | { suffix: string }> } } } };

export interface SubscriptionSpec {
  topic: string;
  queue: string;
  rawMessageDelivery: boolean;
  /** FilterPolicy with FilterPolicyScope MessageBody; undefined: every message. */
  filterPolicy?: KeyFilterPolicy;
}

export interface SqsMapping {
  kind: 'sqs';
  function: string;
  queue: string;
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  reportBatchItemFailures: boolean;
}

/** A stream trigger's settings as the mapping carries them, with its function and DLQ. */
export interface StreamMapping extends Omit<DynamoStreamTrigger, 'type'> {
  kind: 'dynamodb-stream';
  function: string;
  /** The on-failure destination: a queue receiving DDBStreamBatchInfo records. */
  onFailure: string;
}

export type EventSourceMapping = SqsMapping | StreamMapping;

/** A schedule invoking a function asynchronously; its failures to the function's DLQ. */
export interface ScheduleSpec {
  /** `<function>-schedule` (then -2, -3... for more): the schedule's name on both targets. */
  name: string;
  function: string;
  expression: string;
  timezone: string;
  maximumRetryAttempts: number;
  maximumEventAgeInSeconds: number;
  onFailure: string;
}

export interface AsyncInvokeSpec {
  function: string;
  maximumRetryAttempts: number;
  maximumEventAgeInSeconds: number;
  /** The on-failure destination of Event invocations. */
  onFailure: string;
}

/** A function's URL (payload format 2.0), as both targets serve it. */
export interface FunctionUrlConfig extends FunctionUrlSpec {
  function: string;
}

export interface Topology {
  buckets: BucketSpec[];
  tables: TableSpec[];
  /** The stack's topics and the fan-out topic of every bucket with S3 triggers. */
  topics: TopicSpec[];
  queues: QueueSpec[];
  fanOuts: FanOut[];
  subscriptions: SubscriptionSpec[];
  mappings: EventSourceMapping[];
  asyncInvokes: AsyncInvokeSpec[];
  schedules: ScheduleSpec[];
  urls: FunctionUrlConfig[];
  functions: FunctionSpec[];
}

const s3TriggerOf = (fn: FunctionSpec): S3Trigger | undefined => fn.triggers.find((t): t is S3Trigger => t.type === 's3');

/** The shortest prefixes covering all of them: S3 refuses rules whose prefixes overlap. */
export function coveringPrefixes(prefixes: readonly string[]): string[] {
  const sorted = [...new Set(prefixes)].sort((a, b) => a.length - b.length || a.localeCompare(b));
  const kept: string[] = [];
  for (const p of sorted) if (!kept.some((k) => p.startsWith(k))) kept.push(p);
  return kept.sort();
}

export function keyFilterPolicy(trigger: S3Trigger): KeyFilterPolicy | undefined {
  const conditions = [...(trigger.prefixes ?? []).map((prefix) => ({ prefix })), ...(trigger.suffixes ?? []).map((suffix) => ({ suffix }))];
  return conditions.length > 0 ? { Records: { s3: { object: { key: conditions } } } } : undefined;
}

export const visibilityTimeout = (fn: FunctionSpec, trigger: S3Trigger): number =>
  trigger.visibilityTimeoutSeconds ?? fn.timeoutSeconds * VISIBILITY_TIMEOUT_FACTOR;

export function topology(stack: StackSpec): Topology {
  const withS3 = stack.functions.flatMap((fn) => {
    const trigger = s3TriggerOf(fn);
    return trigger ? [{ fn, trigger }] : [];
  });
  const buckets = [...new Set(withS3.map(({ trigger }) => trigger.bucket))];
  const fanOuts: FanOut[] = buckets.map((bucket) => {
    const triggers = withS3.filter(({ trigger }) => trigger.bucket === bucket).map(({ trigger }) => trigger);
    const everyKey = triggers.some((t) => !t.prefixes?.length);
    return { bucket, topic: fanOutTopicName(bucket), ...(!everyKey && { prefixes: coveringPrefixes(triggers.flatMap((t) => t.prefixes ?? [])) }) };
  });

  const queues: QueueSpec[] = [];
  const subscriptions: SubscriptionSpec[] = [];
  for (const t of stack.topics.filter((x) => x.inbox)) {
    queues.push({ name: inboxQueueName(t.name), visibilityTimeoutSeconds: INBOX_VISIBILITY_SECONDS, retentionSeconds: QUEUE_RETENTION_SECONDS });
    subscriptions.push({ topic: t.name, queue: inboxQueueName(t.name), rawMessageDelivery: false });
  }
  const mappings: EventSourceMapping[] = [];
  const schedules: ScheduleSpec[] = [];
  for (const fn of stack.functions) {
    queues.push({ name: dlqName(fn), visibilityTimeoutSeconds: INBOX_VISIBILITY_SECONDS, retentionSeconds: DLQ_RETENTION_SECONDS });
    for (const trigger of fn.triggers) {
      if (trigger.type === 's3') {
        queues.push({
          name: eventQueueName(fn),
          visibilityTimeoutSeconds: visibilityTimeout(fn, trigger),
          retentionSeconds: QUEUE_RETENTION_SECONDS,
          redrive: { deadLetterQueue: dlqName(fn), maxReceiveCount: trigger.maxReceiveCount },
        });
        const filterPolicy = keyFilterPolicy(trigger);
        subscriptions.push({ topic: fanOutTopicName(trigger.bucket), queue: eventQueueName(fn), rawMessageDelivery: true, ...(filterPolicy && { filterPolicy }) });
        mappings.push({
          kind: 'sqs',
          function: fn.name,
          queue: eventQueueName(fn),
          batchSize: trigger.batchSize,
          maximumBatchingWindowInSeconds: trigger.maximumBatchingWindowInSeconds,
          reportBatchItemFailures: trigger.reportBatchItemFailures,
        });
      } else if (trigger.type === 'schedule') {
        const n = schedules.filter((s) => s.function === fn.name).length;
        schedules.push({
          name: `${fn.name}-schedule${n === 0 ? '' : `-${n + 1}`}`,
          function: fn.name,
          expression: trigger.expression,
          timezone: trigger.timezone,
          maximumRetryAttempts: trigger.maximumRetryAttempts,
          maximumEventAgeInSeconds: trigger.maximumEventAgeInSeconds,
          onFailure: dlqName(fn),
        });
      } else {
        const { type: _type, ...settings } = trigger;
        mappings.push({ kind: 'dynamodb-stream', function: fn.name, ...settings, onFailure: dlqName(fn) });
      }
    }
  }
  return {
    buckets: stack.buckets,
    tables: stack.tables,
    topics: [...stack.topics, ...fanOuts.map((f) => ({ name: f.topic }))],
    queues,
    fanOuts,
    subscriptions,
    mappings,
    asyncInvokes: stack.functions.map((fn) => ({ function: fn.name, ...fn.asyncInvoke, onFailure: dlqName(fn) })),
    schedules,
    urls: stack.functions.flatMap((fn) => (fn.url ? [{ function: fn.name, ...fn.url }] : [])),
    functions: stack.functions,
  };
}
