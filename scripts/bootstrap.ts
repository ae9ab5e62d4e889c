// Creates every resource of the stack description (stack/stack.ts) against any endpoint,
// idempotently: run it twice and nothing fails or doubles. `make up` runs it against LocalStack.
//   AWS_ENDPOINT_URL=http://127.0.0.1:4566 npx tsx scripts/bootstrap.ts
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTableCommand,
  waitUntilTableExists,
  type AttributeDefinition,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, PutBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import { CreateTopicCommand, ListSubscriptionsByTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { buckets, dlqName, eventQueueName, functions, tables, topicArn, topics, type TableSpec } from '#stack';
import { MAX_RECEIVE_COUNT, bucketNotifications, inboxQueueName, s3SendPolicy } from './bootstrap-plan';
import { destroyClients, isUnreachable, localClients, type LocalClients } from './local-clients';

type Log = (line: string) => void;

async function ensureBucket({ s3 }: LocalClients, name: string, log: Log): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: name }));
    log(`bucket ${name}: exists`);
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    log(`bucket ${name}: created`);
  }
}

async function ensureTable({ dynamodb }: LocalClients, spec: TableSpec, log: Log): Promise<void> {
  const keys: KeySchemaElement[] = [{ AttributeName: spec.partitionKey, KeyType: 'HASH' }];
  const attributes: AttributeDefinition[] = [{ AttributeName: spec.partitionKey, AttributeType: 'S' }];
  if (spec.sortKey) {
    keys.push({ AttributeName: spec.sortKey, KeyType: 'RANGE' });
    attributes.push({ AttributeName: spec.sortKey, AttributeType: 'S' });
  }
  const stream = spec.stream ? { StreamEnabled: true, StreamViewType: spec.stream } : undefined;
  try {
    await dynamodb.send(
      new CreateTableCommand({ TableName: spec.name, KeySchema: keys, AttributeDefinitions: attributes, BillingMode: 'PAY_PER_REQUEST', StreamSpecification: stream }),
    );
    log(`table ${spec.name}: created${stream ? ` (stream ${spec.stream})` : ''}`);
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: spec.name }));
    if (stream && !Table?.StreamSpecification?.StreamEnabled) {
      await dynamodb.send(new UpdateTableCommand({ TableName: spec.name, StreamSpecification: stream }));
      log(`table ${spec.name}: exists, stream enabled`);
    } else log(`table ${spec.name}: exists`);
  }
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 60 }, { TableName: spec.name });
}

async function queueArnOf({ sqs }: LocalClients, url: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return Attributes!.QueueArn!;
}

/** Creates the queue or converges the attributes of an existing one; returns its URL and ARN. */
async function ensureQueue(clients: LocalClients, name: string, attributes: Record<string, string>, log: Log): Promise<{ url: string; arn: string }> {
  let url: string | undefined;
  try {
    url = (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch {
    url = undefined;
  }
  if (url) {
    if (Object.keys(attributes).length > 0) await clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
    log(`queue ${name}: exists`);
  } else {
    url = (await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
    log(`queue ${name}: created`);
  }
  return { url, arn: await queueArnOf(clients, url) };
}

async function ensureSubscription(clients: LocalClients, topic: string, queue: { arn: string }, log: Log): Promise<void> {
  const { Subscriptions } = await clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topic }));
  if (Subscriptions?.some((s) => s.Endpoint === queue.arn)) return log(`subscription ${queue.arn} -> ${topic}: exists`);
  await clients.sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'sqs', Endpoint: queue.arn }));
  log(`subscription ${queue.arn} -> ${topic}: created`);
}

export async function bootstrap(clients: LocalClients, log: Log = console.log): Promise<void> {
  const bucketNames = Object.values(buckets).map((b) => b.name);
  for (const name of bucketNames) await ensureBucket(clients, name, log);
  for (const spec of Object.values(tables)) await ensureTable(clients, spec, log);

  for (const topic of Object.values(topics)) {
    const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: topic.name }));
    log(`topic ${topic.name}: ready (${TopicArn})`);
    const inbox = await ensureQueue(clients, inboxQueueName(topic.name), {}, log);
    await ensureSubscription(clients, topicArn(topic), inbox, log);
  }

  for (const fn of functions) {
    const dlq = await ensureQueue(clients, dlqName(fn), { MessageRetentionPeriod: '1209600' }, log);
    if (!fn.triggers.some((t) => t.type === 's3')) continue;
    await ensureQueue(
      clients,
      eventQueueName(fn),
      {
        Policy: s3SendPolicy(eventQueueName(fn), bucketNames),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: MAX_RECEIVE_COUNT }),
        VisibilityTimeout: String(fn.timeoutSeconds * 3 + 30),
      },
      log,
    );
  }

  // One configuration per bucket, replacing what was there: the stack is the whole truth.
  for (const bucket of bucketNames) {
    const QueueConfigurations = bucketNotifications(bucket, functions);
    await clients.s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: { QueueConfigurations } }));
    log(`notifications of ${bucket}: ${QueueConfigurations.map((q) => q.Id).join(', ') || 'none'}`);
  }
}

async function main(): Promise<void> {
  const clients = localClients();
  try {
    await bootstrap(clients, (line) => console.log(`  ${line}`));
  } catch (error) {
    if (isUnreachable(error)) {
      console.error(`bootstrap: LocalStack is not answering at ${clients.endpoint}: run \`make up\` (or start LocalStack) first.`);
    } else {
      console.error(`bootstrap failed: ${(error as Error).name}: ${(error as Error).message}`);
    }
    process.exitCode = 1;
  } finally {
    destroyClients(clients);
  }
}

if (process.argv[1]?.endsWith('bootstrap.ts')) void main();
