// The requests are made by the real SDK clients the functions use (their serializers and signers),
// caught before they leave, so the mapping is tested against what the functions really send.
import { BatchWriteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CopyObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DeleteMessageBatchCommand, GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { requiredPermissions, UnmappedRequestError, type ApiRequest } from './request-actions';
import { sentBy } from './test-support';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const config = { region: REGION, endpoint: 'http://checker:4566', credentials: { accessKeyId: 'AKIDFUNCTION', secretAccessKey: 'secret' } };

/** The request the client would send for `command`, as the checking endpoint receives it. */
async function sent(client: Parameters<typeof sentBy>[0], command: unknown): Promise<ApiRequest> {
  const r = await sentBy(client, command);
  return { service: r.service, region: r.region, account: ACCOUNT, method: r.method, path: r.path, query: new URLSearchParams(r.url.split('?')[1] ?? ''), headers: r.headers, body: r.body };
}

const s3 = () => new S3Client({ ...config, forcePathStyle: true });
const dynamodb = () => new DynamoDBClient(config);

describe('the IAM actions and resources of what the functions send', () => {
  it('S3: ranged and plain GetObject, HeadObject, PutObject of keys with spaces and slashes', async () => {
    const key = 'images/2026/my photo+1.png';
    expect(requiredPermissions(await sent(s3(), new GetObjectCommand({ Bucket: 'uploads', Key: key, Range: 'bytes=0-4194303' })))).toEqual([{ action: 's3:GetObject', resource: `arn:aws:s3:::uploads/${key}` }]);
    expect(requiredPermissions(await sent(s3(), new HeadObjectCommand({ Bucket: 'uploads', Key: key })))).toEqual([{ action: 's3:GetObject', resource: `arn:aws:s3:::uploads/${key}` }]);
    expect(requiredPermissions(await sent(s3(), new PutObjectCommand({ Bucket: 'thumbs', Key: 'a/b.webp', Body: 'x' })))).toEqual([{ action: 's3:PutObject', resource: 'arn:aws:s3:::thumbs/a/b.webp' }]);
  });

  it('S3: a copy needs GetObject on its source and PutObject on its target; DeleteObjects DeleteObject per key; a listing ListBucket with its prefix', async () => {
    expect(requiredPermissions(await sent(s3(), new CopyObjectCommand({ Bucket: 'b2', Key: 'to', CopySource: 'b1/from dir/x' })))).toEqual([
      { action: 's3:GetObject', resource: 'arn:aws:s3:::b1/from dir/x' },
      { action: 's3:PutObject', resource: 'arn:aws:s3:::b2/to' },
    ]);
    expect(requiredPermissions(await sent(s3(), new DeleteObjectsCommand({ Bucket: 'b', Delete: { Objects: [{ Key: 'x&y' }, { Key: 'z' }] } })))).toEqual([
      { action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/x&y' },
      { action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/z' },
    ]);
    expect(requiredPermissions(await sent(s3(), new ListObjectsV2Command({ Bucket: 'b', Prefix: 'imports/' })))).toEqual([{ action: 's3:ListBucket', resource: 'arn:aws:s3:::b', context: { 's3:prefix': 'imports/' } }]);
  });

  it('S3: a presigned POST upload is PutObject on the key of its form', () => {
    const boundary = '----x';
    const body = Buffer.from([`--${boundary}`, 'Content-Disposition: form-data; name="key"', '', 'images/2026-11-29/ab12-photo é.png', `--${boundary}`, 'Content-Disposition: form-data; name="file"; filename="p.png"', 'Content-Type: image/png', '', 'PNG…', `--${boundary}--`, ''].join('\r\n'));
    const request: ApiRequest = { service: 's3', region: REGION, account: ACCOUNT, method: 'POST', path: '/uploads', query: new URLSearchParams(), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body };
    expect(requiredPermissions(request)).toEqual([{ action: 's3:PutObject', resource: 'arn:aws:s3:::uploads/images/2026-11-29/ab12-photo é.png' }]);
  });

  it('DynamoDB: item operations on the table, a Query of an index on the index, batches and transactions per table', async () => {
    const table = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/People`;
    const item = { pk: { S: '1' } };
    expect(requiredPermissions(await sent(dynamodb(), new PutItemCommand({ TableName: 'People', Item: item })))).toEqual([{ action: 'dynamodb:PutItem', resource: table }]);
    expect(requiredPermissions(await sent(dynamodb(), new GetItemCommand({ TableName: 'People', Key: item })))).toEqual([{ action: 'dynamodb:GetItem', resource: table }]);
    expect(requiredPermissions(await sent(dynamodb(), new UpdateItemCommand({ TableName: 'People', Key: item, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': { N: '1' } } })))).toEqual([{ action: 'dynamodb:UpdateItem', resource: table }]);
    expect(requiredPermissions(await sent(dynamodb(), new QueryCommand({ TableName: 'People', IndexName: 'by-day', KeyConditionExpression: 'd = :d', ExpressionAttributeValues: { ':d': { S: 'x' } } })))).toEqual([{ action: 'dynamodb:Query', resource: `${table}/index/by-day` }]);
    expect(requiredPermissions(await sent(dynamodb(), new BatchWriteItemCommand({ RequestItems: { People: [{ PutRequest: { Item: item } }], Log: [{ DeleteRequest: { Key: item } }] } })))).toEqual([
      { action: 'dynamodb:BatchWriteItem', resource: table },
      { action: 'dynamodb:BatchWriteItem', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Log` },
    ]);
    expect(requiredPermissions(await sent(dynamodb(), new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: 'People', Item: item } }, { ConditionCheck: { TableName: 'Log', Key: item, ConditionExpression: 'attribute_exists(pk)' } }] })))).toEqual([
      { action: 'dynamodb:PutItem', resource: table },
      { action: 'dynamodb:ConditionCheckItem', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Log` },
    ]);
  });

  it('SNS Publish on its topic; SQS on the queue its URL names', async () => {
    const topic = `arn:aws:sns:${REGION}:${ACCOUNT}:Alerts`;
    expect(requiredPermissions(await sent(new SNSClient(config), new PublishCommand({ TopicArn: topic, Message: 'm' })))).toEqual([{ action: 'sns:Publish', resource: topic }]);
    const sqs = () => new SQSClient(config);
    const queue = `arn:aws:sqs:${REGION}:${ACCOUNT}:ImportWork`;
    expect(requiredPermissions(await sent(sqs(), new SendMessageCommand({ QueueUrl: `http://checker:4566/${ACCOUNT}/ImportWork`, MessageBody: 'm' })))).toEqual([{ action: 'sqs:SendMessage', resource: queue }]);
    expect(requiredPermissions(await sent(sqs(), new DeleteMessageBatchCommand({ QueueUrl: `http://checker:4566/${ACCOUNT}/ImportWork`, Entries: [{ Id: '1', ReceiptHandle: 'r' }] })))).toEqual([{ action: 'sqs:DeleteMessage', resource: queue }]);
    expect(requiredPermissions(await sent(sqs(), new GetQueueUrlCommand({ QueueName: 'ImportWork' })))).toEqual([{ action: 'sqs:GetQueueUrl', resource: queue }]);
  });

  it('what it cannot map is an error naming the API, never a silent pass', async () => {
    const { DescribeTableCommand, CreateTableCommand } = await import('@aws-sdk/client-dynamodb');
    expect(requiredPermissions(await sent(dynamodb(), new DescribeTableCommand({ TableName: 'People' })))).toEqual([{ action: 'dynamodb:DescribeTable', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/People` }]);
    const create = await sent(dynamodb(), new CreateTableCommand({ TableName: 'T', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));
    expect(() => requiredPermissions(create)).toThrow(UnmappedRequestError);
    expect(() => requiredPermissions(create)).toThrow(/^DynamoDB CreateTable is not mapped to an IAM action/);
    expect(() => requiredPermissions({ service: 's3', region: REGION, account: ACCOUNT, method: 'PUT', path: '/b', query: new URLSearchParams('policy='), headers: {}, body: Buffer.from('{}') })).toThrow(/S3 the bucket operation \(PUT \/b\?policy\)/);
    expect(() => requiredPermissions({ service: 'lambda', region: REGION, account: ACCOUNT, method: 'POST', path: '/', query: new URLSearchParams(), headers: {}, body: Buffer.alloc(0) })).toThrow(/a request to the lambda service/);
  });
});
