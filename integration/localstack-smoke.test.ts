// Proves the LocalStack image is real: the AWS behaviour the pipelines rely on, through the SDK.
import { CreateTableCommand, GetItemCommand, PutItemCommand, QueryCommand, ConditionalCheckFailedException, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateTopicCommand, PublishCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { decodeS3Key } from '#shared/s3-event';
import { describeWithDocker, eventually, removeLabelledContainers } from './support/docker';
import { startLocalStack, type LocalStack } from './support/localstack';

describeWithDocker('LocalStack smoke', () => {
  let ls: LocalStack;

  beforeAll(async () => {
    removeLabelledContainers();
    ls = await startLocalStack();
  });
  afterAll(async () => {
    await ls?.container.stop();
  });

  async function queue(name: string): Promise<{ url: string; arn: string }> {
    const url = (await ls.clients.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
    const arn = (await ls.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    return { url, arn };
  }

  const receiveOne = (url: string) =>
    eventually(async () => (await ls.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1, MaxNumberOfMessages: 1 }))).Messages?.[0], `a message on ${url}`);

  it('stores, lists and returns S3 objects byte for byte', async () => {
    const { s3 } = ls.clients;
    const bytes = Buffer.from([0, 1, 2, 250, 251, 255]);
    await s3.send(new CreateBucketCommand({ Bucket: 'smoke' }));
    await s3.send(new PutObjectCommand({ Bucket: 'smoke', Key: 'dir/a b+c.bin', Body: bytes, ContentType: 'application/x-test' }));

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'smoke', Prefix: 'dir/' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'smoke', Key: 'dir/a b+c.bin' }));

    expect(listed.Contents?.map((o) => o.Key)).toEqual(['dir/a b+c.bin']);
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(bytes);
    expect(got.ContentType).toBe('application/x-test');
  });

  it('delivers an S3 ObjectCreated notification to SQS in the S3 event shape, key URL-encoded', async () => {
    const { s3, sqs } = ls.clients;
    const q = await queue('smoke-s3-events');
    await s3.send(new CreateBucketCommand({ Bucket: 'smoke-notify' }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'smoke-notify',
        NotificationConfiguration: { QueueConfigurations: [{ QueueArn: q.arn, Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'in/' }] } } }] },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'smoke-notify', Key: 'in/red flower.jpg', Body: 'x' }));

    const message = await eventually(async () => {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.url, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
      return out.Messages?.find((m) => JSON.parse(m.Body!).Records);
    }, 'the S3 event on SQS');
    const record = JSON.parse(message.Body!).Records[0];
    expect(record).toMatchObject({ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'smoke-notify' }, object: { size: 1 } } });
    // AWS encodes the space as '+', LocalStack as '%20': the one decoder reads both right.
    expect(['in/red+flower.jpg', 'in/red%20flower.jpg']).toContain(record.s3.object.key);
    expect(decodeS3Key(record.s3.object.key)).toBe('in/red flower.jpg');
  });

  it('delivers an SNS message to a subscribed SQS queue with its attributes', async () => {
    const { sns } = ls.clients;
    const q = await queue('smoke-sns-inbox');
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'smoke-topic' }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: q.arn }));
    await sns.send(new PublishCommand({ TopicArn, Message: 'hello queue', Subject: 'greeting', MessageAttributes: { kind: { DataType: 'String', StringValue: 'smoke' } } }));

    const envelope = JSON.parse((await receiveOne(q.url)).Body!);
    expect(envelope).toMatchObject({ Type: 'Notification', TopicArn, Message: 'hello queue', Subject: 'greeting', MessageAttributes: { kind: { Type: 'String', Value: 'smoke' } } });
  });

  it('creates a table, puts, gets and queries items, and rejects a conditional put', async () => {
    const { dynamodb } = ls.clients;
    await dynamodb.send(
      new CreateTableCommand({
        TableName: 'smoke',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      }),
    );
    await waitUntilTableExists({ client: dynamodb, maxWaitTime: 60 }, { TableName: 'smoke' });
    const put = (sk: string, n: number, condition?: string) =>
      dynamodb.send(new PutItemCommand({ TableName: 'smoke', Item: { pk: { S: 'a' }, sk: { S: sk }, n: { N: String(n) } }, ConditionExpression: condition }));
    await put('1', 10);
    await put('2', 20);

    const got = await dynamodb.send(new GetItemCommand({ TableName: 'smoke', Key: { pk: { S: 'a' }, sk: { S: '2' } } }));
    const queried = await dynamodb.send(new QueryCommand({ TableName: 'smoke', KeyConditionExpression: 'pk = :a', ExpressionAttributeValues: { ':a': { S: 'a' } } }));

    expect(got.Item?.n).toEqual({ N: '20' });
    expect(queried.Items?.map((i) => i.sk?.S)).toEqual(['1', '2']);
    await expect(put('1', 99, 'attribute_not_exists(pk)')).rejects.toBeInstanceOf(ConditionalCheckFailedException);

    // DynamoDB Streams: the two writes are readable as INSERT records with their new images.
    const streams = new DynamoDBStreamsClient({ endpoint: ls.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const { DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
    const streamArn = (await dynamodb.send(new DescribeTableCommand({ TableName: 'smoke' }))).Table!.LatestStreamArn!;
    const shardId = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription!.Shards![0]!.ShardId!;
    const iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator!;
    const records = await eventually(async () => {
      const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      return (out.Records?.length ?? 0) >= 2 ? out.Records : undefined;
    }, 'two stream records');
    expect(records!.map((r) => [r.eventName, r.dynamodb?.NewImage?.n?.N])).toEqual([
      ['INSERT', '10'],
      ['INSERT', '20'],
    ]);
    streams.destroy();
  });
});
