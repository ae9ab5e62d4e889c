// Creates every resource of the stack description (stack/stack.ts) against any endpoint,
// idempotently: run it twice and nothing fails or doubles. `make up` runs it against LocalStack.
//   AWS_ENDPOINT_URL=http://127.0.0.1:4566 npx tsx scripts/bootstrap.ts
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  waitUntilTableExists,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  GetBucketCorsCommand,
  GetBucketNotificationConfigurationCommand,
  HeadBucketCommand,
  PutBucketCorsCommand,
  PutBucketNotificationConfigurationCommand,
  type CORSRule,
  type TopicConfiguration,
} from '@aws-sdk/client-s3';
import {
  CreateTopicCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  SetSubscriptionAttributesCommand,
  SetTopicAttributesCommand,
  SubscribeCommand,
  paginateListSubscriptionsByTopic,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { stack as defaultStack } from '#stack';
import { localPlan, queueArn, topicArn, type LocalPlan, type QueuePlan, type SubscriptionPlan } from '#stack/local';
import type { StackSpec } from '#stack/model';
import { topology } from '#stack/topology';
import { attributeChanges, sameJson, sameNotifications } from './bootstrap-plan';
import { destroyClients, isUnreachable, localClients, type LocalClients } from './local-clients';

export type Log = (line: string) => void;
export type Outcome = 'created' | 'exists' | 'updated';
/** One line per resource, in creation order: what a second run must report as all `exists`. */
export interface BootstrapStep {
  kind: 'bucket' | 'cors' | 'table' | 'topic' | 'queue' | 'subscription' | 'notifications';
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

/** A bucket's CORS rules, replaced when they differ from the plan's. */
async function ensureCors({ s3 }: LocalClients, bucket: string, rules: CORSRule[], steps: Steps): Promise<void> {
  let current: CORSRule[] = [];
  try {
    current = (await s3.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules ?? [];
  } catch (error) {
    if ((error as { name?: string }).name !== 'NoSuchCORSConfiguration') throw error;
  }
  if (sameJson(current, rules)) return steps.record('cors', bucket, 'exists');
  await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }));
  steps.record('cors', bucket, current.length > 0 ? 'updated' : 'created', ` (${rules.flatMap((r) => r.AllowedMethods ?? []).join(',')} from ${rules.flatMap((r) => r.AllowedOrigins ?? []).join(' ')})`);
}

async function ensureTable({ dynamodb }: LocalClients, input: CreateTableCommandInput, steps: Steps): Promise<void> {
  const stream = input.StreamSpecification;
  const note = stream ? ` (stream ${stream.StreamViewType})` : '';
  let outcome: Outcome = 'exists';
  try {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: input.TableName }));
    if (stream && !Table?.StreamSpecification?.StreamEnabled) {
      await dynamodb.send(new UpdateTableCommand({ TableName: input.TableName, StreamSpecification: stream }));
      outcome = 'updated';
    }
    const existing = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    for (const index of input.GlobalSecondaryIndexes ?? []) {
      if (existing.has(index.IndexName)) continue;
      await dynamodb.send(
        new UpdateTableCommand({
          TableName: input.TableName,
          AttributeDefinitions: input.AttributeDefinitions,
          GlobalSecondaryIndexUpdates: [{ Create: { IndexName: index.IndexName, KeySchema: index.KeySchema, Projection: index.Projection } }],
        }),
      );
      outcome = 'updated';
    }
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await dynamodb.send(new CreateTableCommand(input));
    outcome = 'created';
  }
  // Polls DescribeTable until ACTIVE; throws once the deadline passes.
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: TABLE_ACTIVE_DEADLINE_SECONDS, minDelay: 1, maxDelay: 2 }, { TableName: input.TableName });
  steps.record('table', input.TableName!, outcome, note);
}

async function ensureTopic({ sns }: LocalClients, topic: LocalPlan['topics'][number], steps: Steps): Promise<void> {
  const arn = topicArn(topic.name);
  let outcome: Outcome = 'exists';
  let current: Record<string, string> | undefined;
  try {
    current = (await sns.send(new GetTopicAttributesCommand({ TopicArn: arn }))).Attributes ?? {};
  } catch (error) {
    if ((error as Error).name !== 'NotFoundException') throw error;
  }
  if (!current) {
    await sns.send(new CreateTopicCommand({ Name: topic.name }));
    outcome = 'created';
    current = {};
  }
  if (topic.policy && Object.keys(attributeChanges(current, { Policy: topic.policy })).length > 0) {
    await sns.send(new SetTopicAttributesCommand({ TopicArn: arn, AttributeName: 'Policy', AttributeValue: topic.policy }));
    if (outcome === 'exists') outcome = 'updated';
  }
  steps.record('topic', topic.name, outcome);
}

/** Creates the queue or converges the attributes of an existing one. */
async function ensureQueue({ sqs }: LocalClients, queue: QueuePlan, steps: Steps): Promise<void> {
  let url: string | undefined;
  try {
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: queue.name }))).QueueUrl;
  } catch (error) {
    if (!(error instanceof QueueDoesNotExist)) throw error;
  }
  const created = url === undefined;
  if (url === undefined) url = (await sqs.send(new CreateQueueCommand({ QueueName: queue.name }))).QueueUrl!;
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
  const changes = attributeChanges(Attributes, queue.attributes(Attributes.QueueArn ?? queueArn(queue.name)));
  if (Object.keys(changes).length > 0) await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: changes }));
  steps.record('queue', queue.name, created ? 'created' : Object.keys(changes).length > 0 ? 'updated' : 'exists');
}

/** An SQS subscription with the planned raw delivery and filter policy. */
async function ensureSubscription({ sns }: LocalClients, plan: SubscriptionPlan, steps: Steps): Promise<void> {
  const topic = topicArn(plan.topic);
  const endpoint = queueArn(plan.queue);
  const label = `${plan.topic} -> ${plan.queue}`;
  for await (const page of paginateListSubscriptionsByTopic({ client: sns }, { TopicArn: topic })) {
    const existing = page.Subscriptions?.find((s) => s.Protocol === 'sqs' && s.Endpoint === endpoint)?.SubscriptionArn;
    if (!existing) continue;
    const { Attributes = {} } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: existing }));
    const changes = attributeChanges(Attributes, plan.attributes);
    // The scope first: a body filter policy is refused while the scope says MessageAttributes.
    const ordered = Object.entries(changes).sort(([a]) => (a === 'FilterPolicyScope' ? -1 : 1));
    for (const [AttributeName, AttributeValue] of ordered) {
      await sns.send(new SetSubscriptionAttributesCommand({ SubscriptionArn: existing, AttributeName, AttributeValue }));
    }
    return steps.record('subscription', label, ordered.length > 0 ? 'updated' : 'exists');
  }
  await sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'sqs', Endpoint: endpoint, Attributes: plan.attributes, ReturnSubscriptionArn: true }));
  steps.record('subscription', label, 'created');
}

/** One configuration per bucket, replacing what was there: the stack is the whole truth. */
async function ensureNotifications({ s3 }: LocalClients, bucket: string, wanted: TopicConfiguration[], steps: Steps) {
  const current = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
  const others = (current.QueueConfigurations?.length ?? 0) + (current.LambdaFunctionConfigurations?.length ?? 0);
  const summary = ` (${wanted.map((c) => c.Filter?.Key?.FilterRules?.map((r) => `${r.Name}=${r.Value}`).join(' ') || 'every key').join(', ')} -> ${wanted[0]?.TopicArn?.split(':').pop() ?? 'nothing'})`;
  // Putting an unchanged configuration is not harmless: S3 sends a test event to every topic.
  if (others === 0 && !current.EventBridgeConfiguration && sameNotifications(current.TopicConfigurations ?? [], wanted)) {
    // A bucket nothing listens to (the thumbnails output) has no configuration to report.
    if (wanted.length > 0) steps.record('notifications', bucket, 'exists', summary);
    return;
  }
  await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: { TopicConfigurations: wanted } }));
  const hadAny = others > 0 || (current.TopicConfigurations?.length ?? 0) > 0;
  steps.record('notifications', bucket, hadAny ? 'updated' : 'created', summary);
}

/** Creates (or converges) every resource of the stack's local plan; returns one step per resource. */
export async function bootstrap(clients: LocalClients, stack: StackSpec = defaultStack, log: Log = console.log): Promise<BootstrapStep[]> {
  const plan = localPlan(topology(stack));
  const steps = new Steps(log);
  for (const bucket of plan.buckets) await ensureBucket(clients, bucket, steps);
  for (const { bucket, rules } of plan.cors) await ensureCors(clients, bucket, rules, steps);
  for (const table of plan.tables) await ensureTable(clients, table, steps);
  for (const topic of plan.topics) await ensureTopic(clients, topic, steps);
  for (const queue of plan.queues) await ensureQueue(clients, queue, steps);
  for (const subscription of plan.subscriptions) await ensureSubscription(clients, subscription, steps);
  for (const { bucket, topicConfigurations } of plan.notifications) await ensureNotifications(clients, bucket, topicConfigurations, steps);
  return steps.done;
}

async function main(): Promise<void> {
  const clients = localClients();
  const started = Date.now();
  try {
    const steps = await bootstrap(clients, defaultStack, (line) => console.log(`  ${line}`));
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
