// LocalStack's half of the stack's template, deployed by LocalStack's own CloudFormation as the
// local Lambda service deploys it: everything exists once, a second deploy changes nothing, a
// changed template is applied (or refused, with a sentence, where LocalStack would silently not
// apply it), and S3 uploads reach exactly the queues their keys match, through the same
// S3 -> SNS (raw delivery, filter policy on the key) -> SQS wiring AWS runs.
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetBucketCorsCommand, GetBucketNotificationConfigurationCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSubscriptionAttributesCommand, ListSubscriptionsCommand } from '@aws-sdk/client-sns';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { CfnTemplate } from '../local-lambda/template/template';
import { deployTemplate } from '../toolkit/template-plan';
import { describeWithDocker, eventually, removeLabelledContainers } from './support/docker';
import { startLocalStack, type LocalStack } from './support/localstack';
import { STACK_NAME, synthTestStack } from './support/stack';

describeWithDocker("the stack's template deployed by LocalStack's CloudFormation", () => {
  let ls: LocalStack;
  let template: CfnTemplate;
  let outputs: Record<string, string>;
  const log: string[] = [];
  const deploy = (t: CfnTemplate) => deployTemplate(ls.clients, t, STACK_NAME, (line) => log.push(line));

  beforeAll(async () => {
    removeLabelledContainers();
    ls = await startLocalStack();
    template = synthTestStack().template;
    const started = Date.now();
    outputs = (await deploy(template)).outputs;
    console.log(`LocalStack's CloudFormation created ${Object.values(template.Resources).length} resources' half in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 300_000);
  afterAll(async () => {
    await ls?.container.stop();
  });

  const queueAttributes = async (outputKey: string) => (await ls.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: outputs[outputKey], AttributeNames: ['All'] }))).Attributes!;

  /** Decoded S3 object keys seen on a queue so far (S3 test events skipped), each message deleted once read. */
  const keysSeen = new Map<string, string[]>();
  async function s3KeysOn(outputKey: string): Promise<string[]> {
    const url = outputs[outputKey]!;
    const out = await ls.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
    for (const message of out.Messages ?? []) {
      const body = JSON.parse(message.Body!) as { Records?: Array<{ s3: { object: { key: string } } }> };
      const keys = (body.Records ?? []).map((r) => decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')));
      keysSeen.set(outputKey, [...(keysSeen.get(outputKey) ?? []), ...keys]);
      await ls.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
    }
    return keysSeen.get(outputKey) ?? [];
  }
  const arrivesOn = (queue: string, key: string) => eventually(async () => ((await s3KeysOn(queue)).includes(key) ? true : undefined), `${key} on ${queue}`, 30_000);

  it('creates each bucket, table, queue and subscription once, with the names the template makes; a second deploy changes nothing', async () => {
    const { s3, dynamodb, sns } = ls.clients;
    const buckets = (await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name!);
    expect(buckets.filter((b) => b.startsWith('lambda-pipelines-')).sort()).toEqual(['reports', 'thumbnails', 'uploads'].map((n) => `lambda-pipelines-${n}-000000000000-us-east-1`));
    const tables = (await dynamodb.send(new ListTablesCommand({}))).TableNames!;
    // LocalStack lists a global table's replica in the stack's own region as a second entry of the same name.
    expect(new Set(tables.filter((t) => t.startsWith(`${STACK_NAME}-`))).size).toBe(4);
    expect(tables).toEqual(expect.arrayContaining([outputs.ProcessingLogTableName, outputs.PeopleTableName]));
    // Three queues on the upload events topic, an inbox on each of the four topics people read (alerts, notifications, reports, alarms).
    expect((await sns.send(new ListSubscriptionsCommand({}))).Subscriptions).toHaveLength(7);

    expect((await deploy(template)).outputs).toEqual(outputs);
    expect(log.filter((l) => l.includes('updating'))).toEqual([]);
  });

  it('points the uploads bucket at its event topic with one rule per prefix, and lets the dashboard POST to it', async () => {
    const uploads = await ls.clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: outputs.UploadsBucketName }));
    expect(uploads.TopicConfigurations!.map((c) => `${c.Events!.join()} ${c.Filter!.Key!.FilterRules!.map((r) => `${r.Name?.toLowerCase()}=${r.Value}`).join(' ')}`).sort()).toEqual([
      's3:ObjectCreated:* prefix=images/',
      's3:ObjectCreated:* prefix=imports/',
    ]);
    const cors = await ls.clients.s3.send(new GetBucketCorsCommand({ Bucket: outputs.UploadsBucketName }));
    expect(cors.CORSRules).toEqual([expect.objectContaining({ AllowedMethods: ['POST'], AllowedOrigins: ['http://127.0.0.1:9080', 'http://localhost:9080'] })]);
  });

  it('subscribes each reader queue with raw delivery and a filter policy on the S3 key in the message body; redrives to its DLQ', async () => {
    const subscriptions = (await ls.clients.sns.send(new ListSubscriptionsCommand({}))).Subscriptions!;
    const notifyArn = (await queueAttributes('NotifyEventQueueUrl')).QueueArn!;
    const notify = subscriptions.find((s) => s.Endpoint === notifyArn)!;
    const attributes = (await ls.clients.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: notify.SubscriptionArn }))).Attributes!;
    expect(attributes).toMatchObject({ RawMessageDelivery: 'true', FilterPolicyScope: 'MessageBody' });
    expect(JSON.parse(attributes.FilterPolicy!)).toEqual({ Records: { s3: { object: { key: [{ prefix: 'images/' }, { prefix: 'imports/' }] } } } });
    const thumbnail = await queueAttributes('ThumbnailEventQueueUrl');
    expect(thumbnail.VisibilityTimeout).toBe('20');
    expect(JSON.parse(thumbnail.RedrivePolicy!)).toEqual({ deadLetterTargetArn: (await queueAttributes('ThumbnailDeadLetterQueueUrl')).QueueArn, maxReceiveCount: 3 });
  });

  it('delivers each upload to exactly the queues its key selects', async () => {
    const put = (key: string) => ls.clients.s3.send(new PutObjectCommand({ Bucket: outputs.UploadsBucketName, Key: key, Body: 'x' }));
    await put('images/cat photo+1.jpg');
    await put('imports/people/team.csv');
    await put('reports/imports/people/team.csv.errors.csv');

    await arrivesOn('ThumbnailEventQueueUrl', 'images/cat photo+1.jpg');
    await arrivesOn('NotifyEventQueueUrl', 'images/cat photo+1.jpg');
    await arrivesOn('CsvImportEventQueueUrl', 'imports/people/team.csv');
    await arrivesOn('NotifyEventQueueUrl', 'imports/people/team.csv');
    // Whatever was going to arrive has: one more poll of each queue, then the exact lists.
    for (const q of ['ThumbnailEventQueueUrl', 'NotifyEventQueueUrl', 'CsvImportEventQueueUrl']) await s3KeysOn(q);
    expect((keysSeen.get('ThumbnailEventQueueUrl') ?? []).sort()).toEqual(['images/cat photo+1.jpg']);
    expect((keysSeen.get('CsvImportEventQueueUrl') ?? []).sort()).toEqual(['imports/people/team.csv']);
    expect((keysSeen.get('NotifyEventQueueUrl') ?? []).sort()).toEqual(['images/cat photo+1.jpg', 'imports/people/team.csv']);
  });

  it('applies a changed template as an update: a new trigger prefix reaches the bucket, a new queue exists, a changed visibility timeout holds', async () => {
    const changed = synthTestStack({
      config: { thumbnail: { trigger: { visibilityTimeoutSeconds: 25 } } },
      extend: (stack) => {
        const queue = new sqs.Queue(stack, 'ArchiveQueue', { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED, visibilityTimeout: Duration.seconds(30) });
        Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'a test queue' });
        stack.uploadEvents.subscribe(queue, ['archive/']);
      },
    }).template;
    const result = await deploy(changed);
    expect(log.some((l) => l.includes('updating'))).toBe(true);
    expect((await queueAttributes('ThumbnailEventQueueUrl')).VisibilityTimeout).toBe('25');
    // LocalStack's bucket update is a no-op: the deployer applied the new rule through S3 itself.
    const uploads = await ls.clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: result.outputs.UploadsBucketName }));
    expect(uploads.TopicConfigurations!.map((c) => c.Filter!.Key!.FilterRules![0]!.Value).sort()).toEqual(['archive/', 'images/', 'imports/']);
    expect(log).toEqual(expect.arrayContaining([expect.stringMatching(/applied the notification configuration of Uploads\w+ .* through S3/)]));
    template = changed;
  });

  it('refuses a change LocalStack would not apply (a new index on an existing table), saying what to do', async () => {
    const withIndex = structuredClone(template);
    const table = Object.values(withIndex.Resources).find((r) => r.Type === 'AWS::DynamoDB::GlobalTable' && JSON.stringify(r.Properties).includes('"period"'))!;
    table.Properties!.AttributeDefinitions = [...(table.Properties!.AttributeDefinitions as object[]), { AttributeName: 'sent', AttributeType: 'S' }];
    table.Properties!.GlobalSecondaryIndexes = [{ IndexName: 'by-sent', KeySchema: [{ AttributeName: 'sent', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }];
    await expect(deploy(withIndex)).rejects.toThrow(/AWS::DynamoDB::GlobalTable\): (AttributeDefinitions|GlobalSecondaryIndexes) changed, and LocalStack cannot change it on an existing resource[\s\S]*make down, then make up/);
  });
});
