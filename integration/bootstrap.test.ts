// The bootstrap against a real LocalStack: everything of the stack description exists once, a
// second run changes nothing, and S3 uploads reach exactly the function queues their keys match,
// through the same S3 -> SNS (raw delivery, filter policy on the key) -> SQS wiring AWS runs. This
// is also the proof by test that LocalStack 4.14 filters message bodies on the nested S3 key.
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetBucketCorsCommand, GetBucketNotificationConfigurationCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSubscriptionAttributesCommand, ListSubscriptionsCommand, ListTopicsCommand, PublishCommand } from '@aws-sdk/client-sns';
import { DeleteMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ListQueuesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { baseStack, functions } from '#stack';
import { dlqName, eventQueueName, inboxQueueName } from '#stack/topology';
import { bootstrap, type BootstrapStep } from '../scripts/bootstrap';
import { describeWithDocker, eventually } from './support/docker';
import { startLocalStack, type LocalStack } from './support/localstack';

const run = promisify(execFile);
const bootstrapCli = (endpoint: string) =>
  run('npx', ['tsx', 'scripts/bootstrap.ts'], { env: { ...process.env, AWS_ENDPOINT_URL: endpoint }, timeout: 120_000 });

const EXPECTED_QUEUES = [
  'upload-notifications-inbox',
  'processing-alerts-inbox',
  'daily-reports-inbox',
  ...functions.map(dlqName),
  ...functions.filter((f) => f.triggers.some((t) => t.type === 's3')).map(eventQueueName),
].sort();

describeWithDocker('bootstrap against LocalStack', () => {
  let ls: LocalStack;
  let firstRun: BootstrapStep[];
  let secondRun: BootstrapStep[];

  // Other suites clean up labelled leftovers; this one only stops the container it started.
  beforeAll(async () => {
    ls = await startLocalStack();
    firstRun = await bootstrap(ls.clients, baseStack, () => undefined);
    secondRun = await bootstrap(ls.clients, baseStack, () => undefined);
  }, 300_000);
  afterAll(async () => {
    await ls?.container.stop();
  });

  const queueUrl = async (name: string) => (await ls.clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
  const queueAttributes = async (name: string) =>
    (await ls.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: await queueUrl(name), AttributeNames: ['All'] }))).Attributes!;

  /** Decoded S3 object keys seen on a queue so far (S3 test events skipped), each message deleted once read. */
  const keysSeen = new Map<string, string[]>();
  async function s3KeysOn(queue: string): Promise<string[]> {
    const url = await queueUrl(queue);
    const out = await ls.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
    for (const message of out.Messages ?? []) {
      const body = JSON.parse(message.Body!) as { Records?: Array<{ s3: { object: { key: string } } }> };
      const keys = (body.Records ?? []).map((r) => decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')));
      keysSeen.set(queue, [...(keysSeen.get(queue) ?? []), ...keys]);
      await ls.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
    }
    return keysSeen.get(queue) ?? [];
  }
  const arrivesOn = (queue: string, key: string) =>
    eventually(async () => ((await s3KeysOn(queue)).includes(key) ? true : undefined), `${key} on ${queue}`, 30_000);

  it('creates every resource on the first run and finds every one of them on the second', () => {
    expect(firstRun.map((s) => s.outcome)).toEqual(firstRun.map(() => 'created'));
    expect(secondRun).toEqual(firstRun.map((s) => ({ ...s, outcome: 'exists' })));
    expect(firstRun.map((s) => `${s.kind} ${s.name}`)).toEqual(
      expect.arrayContaining(['bucket uploads', 'table processing-log', 'topic upload-notifications', 'topic uploads-object-created', 'queue notify-events', 'notifications uploads']),
    );
  });

  it('leaves exactly one of each bucket, table, topic, queue and subscription', async () => {
    const { s3, dynamodb, sns, sqs } = ls.clients;

    const bucketNames = (await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name);
    const tableNames = (await dynamodb.send(new ListTablesCommand({}))).TableNames!;
    const topicArns = (await sns.send(new ListTopicsCommand({}))).Topics!.map((t) => t.TopicArn!);
    const queueNames = ((await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? []).map((u) => u.split('/').pop()!);
    const subscriptions = (await sns.send(new ListSubscriptionsCommand({}))).Subscriptions!;

    expect(bucketNames.sort()).toEqual(['reports', 'thumbnails', 'uploads']);
    expect(tableNames.sort()).toEqual(['debian-releases', 'imported-rows', 'processing-log', 'report-runs']);
    expect(topicArns.map((a) => a.split(':').pop()).sort()).toEqual(['daily-reports', 'processing-alerts', 'upload-notifications', 'uploads-object-created']);
    expect(queueNames.sort()).toEqual(EXPECTED_QUEUES);
    expect(subscriptions.map((s) => `${s.TopicArn!.split(':').pop()} -> ${s.Protocol}:${s.Endpoint!.split(':').pop()}`).sort()).toEqual([
      'daily-reports -> sqs:daily-reports-inbox',
      'processing-alerts -> sqs:processing-alerts-inbox',
      'upload-notifications -> sqs:upload-notifications-inbox',
      'uploads-object-created -> sqs:csv-import-events',
      'uploads-object-created -> sqs:notify-events',
      'uploads-object-created -> sqs:thumbnail-events',
    ]);
  });

  it('points the uploads bucket at its fan-out topic with one rule per prefix, and the thumbnails bucket at nothing', async () => {
    const uploads = await ls.clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'uploads' }));
    const thumbnails = await ls.clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'thumbnails' }));

    const summary = uploads.TopicConfigurations!.map((c) => `${c.TopicArn!.split(':').pop()} ${c.Events!.join()} ${c.Filter!.Key!.FilterRules!.map((r) => `${r.Name}=${r.Value}`).join(' ')}`);
    expect(summary.sort()).toEqual(['uploads-object-created s3:ObjectCreated:* Prefix=images/', 'uploads-object-created s3:ObjectCreated:* Prefix=imports/']);
    expect(uploads.QueueConfigurations ?? []).toEqual([]);
    expect([...(thumbnails.TopicConfigurations ?? []), ...(thumbnails.QueueConfigurations ?? [])]).toEqual([]);
  });

  it("lets the dashboard's origin POST to the uploads bucket, and no origin anything on the others", async () => {
    const cors = await ls.clients.s3.send(new GetBucketCorsCommand({ Bucket: 'uploads' }));
    expect(cors.CORSRules).toEqual([expect.objectContaining({ AllowedMethods: ['POST'], AllowedOrigins: ['http://127.0.0.1:9080', 'http://localhost:9080'] })]);
    await expect(ls.clients.s3.send(new GetBucketCorsCommand({ Bucket: 'thumbnails' }))).rejects.toThrow(/CORS/);
  });

  it('subscribes each function queue with raw delivery and a filter policy on the S3 key in the message body', async () => {
    const subscriptions = (await ls.clients.sns.send(new ListSubscriptionsCommand({}))).Subscriptions!;
    const notify = subscriptions.find((s) => s.Endpoint!.endsWith(':notify-events'))!;
    const attributes = (await ls.clients.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: notify.SubscriptionArn }))).Attributes!;

    expect(attributes).toMatchObject({ RawMessageDelivery: 'true', FilterPolicyScope: 'MessageBody' });
    expect(JSON.parse(attributes.FilterPolicy!)).toEqual({ Records: { s3: { object: { key: [{ prefix: 'images/' }, { prefix: 'imports/' }] } } } });
  });

  it('gives each event queue a redrive policy to its DLQ, six times its function timeout as visibility, and a policy letting only its topic send', async () => {
    const events = await queueAttributes('thumbnail-events');
    const dlq = await queueAttributes('thumbnail-dlq');

    expect(JSON.parse(events.RedrivePolicy!)).toEqual({ deadLetterTargetArn: dlq.QueueArn, maxReceiveCount: 3 });
    expect(events.VisibilityTimeout).toBe('360');
    expect(JSON.parse(events.Policy!).Statement[0]).toMatchObject({
      Principal: { Service: 'sns.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: events.QueueArn,
      Condition: { ArnEquals: { 'aws:SourceArn': ['arn:aws:sns:us-east-1:000000000000:uploads-object-created'] } },
    });
    expect(dlq.MessageRetentionPeriod).toBe('1209600');
  });

  it('enables a NEW_IMAGE stream on the processing log only', async () => {
    const log = (await ls.clients.dynamodb.send(new DescribeTableCommand({ TableName: 'processing-log' }))).Table!;
    const rows = (await ls.clients.dynamodb.send(new DescribeTableCommand({ TableName: 'imported-rows' }))).Table!;

    expect([log.TableStatus, log.StreamSpecification, log.BillingModeSummary?.BillingMode]).toEqual([
      'ACTIVE',
      { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      'PAY_PER_REQUEST',
    ]);
    expect(rows.StreamSpecification?.StreamEnabled ?? false).toBe(false);
  });

  it('delivers an upload under images/ (a key with spaces and unicode too) to the thumbnail and notify queues only, the S3 event unchanged', async () => {
    await ls.clients.s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'images/x.jpg', Body: 'not really a jpeg' }));
    await ls.clients.s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'images/Été 2026/a + b.jpg', Body: 'x' }));

    await arrivesOn('thumbnail-events', 'images/x.jpg');
    await arrivesOn('notify-events', 'images/x.jpg');
    await arrivesOn('thumbnail-events', 'images/Été 2026/a + b.jpg');

    // SNS fans one upload out to every matching subscription in one pass: both arrived, so would a third.
    expect(await s3KeysOn('csv-import-events')).not.toContain('images/x.jpg');
  });

  it('delivers everything under imports/ to csv-import and notify, and nothing outside the prefixes to anyone', async () => {
    await ls.clients.s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'imports/people.csv', Body: 'id\n1\n' }));
    await ls.clients.s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'imports/notes.txt', Body: 'hello' }));
    await ls.clients.s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'reports/imports/people.csv.errors.csv', Body: 'line,reason' }));

    await arrivesOn('csv-import-events', 'imports/people.csv');
    await arrivesOn('notify-events', 'imports/people.csv');
    await arrivesOn('notify-events', 'imports/notes.txt');
    await arrivesOn('csv-import-events', 'imports/notes.txt');

    expect(await s3KeysOn('thumbnail-events')).not.toContain('imports/people.csv');
    for (const queue of ['thumbnail-events', 'notify-events', 'csv-import-events']) expect(await s3KeysOn(queue)).not.toContain('reports/imports/people.csv.errors.csv');
  });

  it('delivers what a topic publishes to its inbox in the SNS envelope, attributes kept', async () => {
    const [topic] = (await ls.clients.sns.send(new ListTopicsCommand({}))).Topics!.filter((t) => t.TopicArn!.endsWith(':upload-notifications'));
    await ls.clients.sns.send(
      new PublishCommand({ TopicArn: topic!.TopicArn, Message: '{"key":"images/x.jpg"}', MessageAttributes: { prefix: { DataType: 'String', StringValue: 'images/' } } }),
    );
    const url = await queueUrl(inboxQueueName('upload-notifications'));
    const subscription = (await ls.clients.sns.send(new ListSubscriptionsCommand({}))).Subscriptions!.find((s) => s.TopicArn === topic!.TopicArn)!;

    const envelope = await eventually(async () => {
      const out = await ls.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }));
      return out.Messages?.[0] && JSON.parse(out.Messages[0].Body!);
    }, 'the notification on the inbox');
    const attributes = (await ls.clients.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscription.SubscriptionArn }))).Attributes!;

    expect(envelope).toMatchObject({ Type: 'Notification', Message: '{"key":"images/x.jpg"}', MessageAttributes: { prefix: { Type: 'String', Value: 'images/' } } });
    expect(attributes.RawMessageDelivery).toBe('false');
  });

  it('as a command, reports every resource as existing and exits 0 on a bootstrapped stack', async () => {
    const { stdout } = await bootstrapCli(ls.endpoint);

    const lines = stdout.split('\n').filter((l) => l.startsWith('  '));
    expect(lines).toHaveLength(firstRun.length);
    expect(lines.every((l) => l.includes(': exists'))).toBe(true);
  });

  it('as a command, says in one sentence that LocalStack is not answering and exits 1', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const endpoint = `http://127.0.0.1:${closedPort}`;

    const failure = await bootstrapCli(endpoint).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );

    expect(failure?.code).toBe(1);
    expect(failure?.stderr.split('\n').filter((l) => l && !l.startsWith('npm warn'))).toEqual([`LocalStack is not answering at ${endpoint}: run make up`]);
  });
});
