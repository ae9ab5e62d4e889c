// Creates every resource of the stack description (stack/stack.ts) against any endpoint,
// idempotently: run it twice and nothing fails or doubles. `make up` runs it against LocalStack.
//   AWS_ENDPOINT_URL=http://127.0.0.1:4566 npx tsx scripts/bootstrap.ts
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  waitUntilTableExists,
  type AttributeDefinition,
  type KeySchemaElement,
  type StreamSpecification,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  GetBucketNotificationConfigurationCommand,
  HeadBucketCommand,
  PutBucketNotificationConfigurationCommand,
} from '@aws-sdk/client-s3';
import {
  CreateTopicCommand,
  GetSubscriptionAttributesCommand,
  SetSubscriptionAttributesCommand,
  SubscribeCommand,
  paginateListSubscriptionsByTopic,
  paginateListTopics,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { dlqName, eventQueueName, type TableSpec, type TopicSpec } from '#stack';
import {
  DLQ_RETENTION_SECONDS,
  bucketNotifications,
  inboxQueueName,
  queueAttributeChanges,
  redrivePolicy,
  s3SendPolicy,
  s3Triggers,
  sameNotifications,
  snsSendPolicy,
  stackDescription,
  type StackDescription,
} from './bootstrap-plan';
import { destroyClients, isUnreachable, localClients, type LocalClients } from './local-clients';

export type Log = (line: string) => void;
export type Outcome = 'created' | 'exists' | 'updated';
/** One line per resource, in creation order: what a second run must report as all `exists`. */
export interface BootstrapStep {
  kind: 'bucket' | 'table' | 'topic' | 'queue' | 'subscription' | 'notifications';
  name: string;
  outcome: Outcome;
}

/** Waiting for a new table to turn ACTIVE; DynamoDB Local starts its JVM on first use. */
const TABLE_ACTIVE_DEADLINE_SECONDS = 90;

class Steps {
  readonly done: BootstrapStep[] = [];
  constructor(private readonly log: Log) {}
  record(kind: BootstrapStep['kind'], name: string, outcome: Outcome, note = ''): void {
    this.done.push({ kind, name, outcome });
    this.log(`${kind} ${name}: ${outcome}${note}`);
  }
}

async function ensureBucket({ s3 }: LocalClients, name: string, steps: Steps): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: name }));
    return steps.record('bucket', name, 'exists');
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
  }
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  steps.record('bucket', name, 'created');
}

async function ensureTable({ dynamodb }: LocalClients, spec: TableSpec, steps: Steps): Promise<void> {
  const stream: StreamSpecification | undefined = spec.stream ? { StreamEnabled: true, StreamViewType: spec.stream } : undefined;
  const streamNote = stream ? ` (stream ${spec.stream})` : '';
  let outcome: Outcome = 'exists';
  try {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: spec.name }));
    if (stream && !Table?.StreamSpecification?.StreamEnabled) {
      await dynamodb.send(new UpdateTableCommand({ TableName: spec.name, StreamSpecification: stream }));
      outcome = 'updated';
    }
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    const keys: KeySchemaElement[] = [{ AttributeName: spec.partitionKey, KeyType: 'HASH' }];
    const attributes: AttributeDefinition[] = [{ AttributeName: spec.partitionKey, AttributeType: 'S' }];
    if (spec.sortKey) {
      keys.push({ AttributeName: spec.sortKey, KeyType: 'RANGE' });
      attributes.push({ AttributeName: spec.sortKey, AttributeType: 'S' });
    }
    await dynamodb.send(
      new CreateTableCommand({
        TableName: spec.name,
        KeySchema: keys,
        AttributeDefinitions: attributes,
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: stream,
      }),
    );
    outcome = 'created';
  }
  // Polls DescribeTable until ACTIVE; throws once the deadline passes.
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: TABLE_ACTIVE_DEADLINE_SECONDS, minDelay: 1, maxDelay: 2 }, { TableName: spec.name });
  steps.record('table', spec.name, outcome, streamNote);
}

async function ensureTopic({ sns }: LocalClients, topic: TopicSpec, steps: Steps): Promise<string> {
  for await (const page of paginateListTopics({ client: sns }, {})) {
    const existing = page.Topics?.find((t) => t.TopicArn?.endsWith(`:${topic.name}`))?.TopicArn;
    if (existing) {
      steps.record('topic', topic.name, 'exists');
      return existing;
    }
  }
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: topic.name }));
  steps.record('topic', topic.name, 'created');
  return TopicArn!;
}

interface Queue {
  url: string;
  arn: string;
}

/**
 * Creates the queue or converges the attributes of an existing one. Attributes that need the
 * queue's own ARN (its policy) come from `attributesOf`, called once the ARN is known.
 */
async function ensureQueue(
  { sqs }: LocalClients,
  name: string,
  attributesOf: (arn: string) => Record<string, string>,
  steps: Steps,
): Promise<Queue> {
  let url: string | undefined;
  try {
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (error) {
    if (!(error instanceof QueueDoesNotExist)) throw error;
  }
  const created = url === undefined;
  if (url === undefined) url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
  const arn = Attributes.QueueArn!;
  const changes = queueAttributeChanges(Attributes, attributesOf(arn));
  if (Object.keys(changes).length > 0) await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: changes }));
  steps.record('queue', name, created ? 'created' : Object.keys(changes).length > 0 ? 'updated' : 'exists');
  return { url, arn };
}

/** An SQS subscription with raw delivery OFF: the envelope keeps Subject and MessageAttributes. */
async function ensureSubscription({ sns }: LocalClients, topic: string, queue: Queue, label: string, steps: Steps): Promise<void> {
  for await (const page of paginateListSubscriptionsByTopic({ client: sns }, { TopicArn: topic })) {
    const existing = page.Subscriptions?.find((s) => s.Protocol === 'sqs' && s.Endpoint === queue.arn)?.SubscriptionArn;
    if (!existing) continue;
    const { Attributes } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: existing }));
    if (Attributes?.RawMessageDelivery !== 'true') return steps.record('subscription', label, 'exists');
    await sns.send(new SetSubscriptionAttributesCommand({ SubscriptionArn: existing, AttributeName: 'RawMessageDelivery', AttributeValue: 'false' }));
    return steps.record('subscription', label, 'updated');
  }
  await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'sqs', Endpoint: queue.arn, Attributes: { RawMessageDelivery: 'false' } }));
  steps.record('subscription', label, 'created');
}

/** One configuration per bucket, replacing what was there: the stack is the whole truth. */
async function ensureNotifications({ s3 }: LocalClients, bucket: string, stack: StackDescription, arnOfQueue: (name: string) => string, steps: Steps) {
  const wanted = bucketNotifications(bucket, stack.functions, arnOfQueue);
  const current = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
  const others = (current.TopicConfigurations?.length ?? 0) + (current.LambdaFunctionConfigurations?.length ?? 0);
  const summary = ` (${wanted.map((q) => q.Id).join(', ') || 'none'})`;
  // Putting an unchanged configuration is not harmless: S3 sends a test event to every queue.
  if (others === 0 && !current.EventBridgeConfiguration && sameNotifications(current.QueueConfigurations ?? [], wanted)) {
    // A bucket nothing listens to (the thumbnails output) has no configuration to report.
    if (wanted.length > 0) steps.record('notifications', bucket, 'exists', summary);
    return;
  }
  await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: { QueueConfigurations: wanted } }));
  const hadAny = others > 0 || (current.QueueConfigurations?.length ?? 0) > 0;
  steps.record('notifications', bucket, hadAny ? 'updated' : 'created', summary);
}

/** Creates (or finds) every resource of the stack; returns one step per resource. */
export async function bootstrap(clients: LocalClients, log?: Log): Promise<BootstrapStep[]>;
export async function bootstrap(clients: LocalClients, stack: StackDescription, log?: Log): Promise<BootstrapStep[]>;
export async function bootstrap(clients: LocalClients, stackOrLog?: StackDescription | Log, maybeLog?: Log): Promise<BootstrapStep[]> {
  const stack = typeof stackOrLog === 'object' ? stackOrLog : stackDescription;
  const steps = new Steps((typeof stackOrLog === 'function' ? stackOrLog : maybeLog) ?? console.log);

  for (const bucket of stack.buckets) await ensureBucket(clients, bucket.name, steps);
  for (const table of stack.tables) await ensureTable(clients, table, steps);

  for (const topic of stack.topics) {
    const arn = await ensureTopic(clients, topic, steps);
    const inboxName = inboxQueueName(topic.name);
    const inbox = await ensureQueue(clients, inboxName, (queue) => ({ Policy: snsSendPolicy(queue, arn) }), steps);
    await ensureSubscription(clients, arn, inbox, `${topic.name} -> ${inboxName}`, steps);
  }

  const queueArns = new Map<string, string>();
  for (const fn of stack.functions) {
    const dlq = await ensureQueue(clients, dlqName(fn), () => ({ MessageRetentionPeriod: String(DLQ_RETENTION_SECONDS) }), steps);
    const triggers = s3Triggers(fn);
    if (triggers.length === 0) continue;
    const sourceBuckets = [...new Set(triggers.map((t) => t.bucket))];
    const events = await ensureQueue(
      clients,
      eventQueueName(fn),
      (queue) => ({
        Policy: s3SendPolicy(queue, sourceBuckets),
        RedrivePolicy: redrivePolicy(dlq.arn),
        VisibilityTimeout: String(fn.timeoutSeconds * 3 + 30),
      }),
      steps,
    );
    queueArns.set(eventQueueName(fn), events.arn);
  }

  const arnOfQueue = (name: string): string => {
    const arn = queueArns.get(name);
    if (!arn) throw new Error(`no queue ${name} was created for a bucket notification`);
    return arn;
  };
  for (const bucket of stack.buckets) await ensureNotifications(clients, bucket.name, stack, arnOfQueue, steps);
  return steps.done;
}

async function main(): Promise<void> {
  const clients = localClients();
  const started = Date.now();
  try {
    const steps = await bootstrap(clients, (line) => console.log(`  ${line}`));
    const created = steps.filter((s) => s.outcome !== 'exists').length;
    console.log(`bootstrap: ${steps.length} resources ready (${created} created or updated) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    if (isUnreachable(error)) {
      console.error(`LocalStack is not answering at ${clients.endpoint}: run make up`);
    } else {
      console.error(`bootstrap failed: ${(error as Error).name}: ${(error as Error).message}`);
    }
    process.exitCode = 1;
  } finally {
    destroyClients(clients);
  }
}

if (process.argv[1]?.endsWith('bootstrap.ts')) void main();
