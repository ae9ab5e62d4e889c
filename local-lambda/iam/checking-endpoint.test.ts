// The checking endpoint between real SDK clients (signed with a function's credentials) and a
// stand-in for LocalStack on 127.0.0.1 that records what reaches it.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import pino from 'pino';
import { checkingEndpointHandler, type CheckingEndpointDeps, type IamMode } from './checking-endpoint';
import { FunctionCredentials } from './function-credentials';
import type { PolicyDocument } from './policy-evaluation';
import { sentBy } from './test-support';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const TABLE = 'People';
const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${TABLE}`;
const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:Alerts`;

// csv-import may write its table and the uploads bucket's rejects; it may not publish.
const csvImportPolicy: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: ['dynamodb:PutItem', 'dynamodb:BatchWriteItem'], Resource: TABLE_ARN },
    { Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::uploads/rejects/*' },
    { Effect: 'Allow', Action: 's3:GetObject', Resource: ['arn:aws:s3:::uploads/*', 'arn:aws:s3:::thumbs/*'] },
    { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::thumbs' },
  ],
};

interface Received {
  method: string;
  url: string;
  body: Buffer;
  complete: boolean;
}

let upstream: Server;
let received: Received[];
let endpoint: Server;
let endpointUrl: string;
let mode: IamMode;
let warnings: string[];
const credentials = new FunctionCredentials();
const csvImport = credentials.credentialsFor('csv-import');

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const entry: Received = { method: req.method!, url: req.url!, body: Buffer.alloc(0), complete: false };
    received.push(entry);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      entry.body = Buffer.concat(chunks);
      entry.complete = true;
      if (String(req.headers['x-amz-target'] ?? '').startsWith('DynamoDB')) {
        res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0' }).end('{}');
      } else if (req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
        res.writeHead(200, { 'Content-Type': 'text/xml' }).end('<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>');
      } else if (req.url!.includes('missing')) {
        res.writeHead(404, { 'Content-Type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
      } else {
        res.writeHead(req.method === 'POST' ? 204 : 200, { ETag: '"etag"' }).end();
      }
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
  const deps = (): CheckingEndpointDeps => ({
    upstream: new URL(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`),
    region: REGION,
    account: ACCOUNT,
    mode,
    credentials,
    roleOf: (fn) => (fn === 'csv-import' ? { roleArn: `arn:aws:iam::${ACCOUNT}:role/CsvImportRole`, roleName: 'CsvImportRole', policies: [csvImportPolicy] } : undefined),
    resourcePolicy: () => undefined,
    logger,
  });
  endpoint = createServer((req, res) => void checkingEndpointHandler(deps())(req, res));
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => endpoint.close(r));
  await new Promise((r) => upstream.close(r));
});

beforeEach(() => {
  received = [];
  warnings = [];
  mode = 'enforce';
});

const config = (creds = csvImport) => ({ region: REGION, endpoint: endpointUrl, credentials: creds, maxAttempts: 1 });

describe('the checking endpoint', () => {
  it('forwards what the role allows, as sent, and hands back the answer', async () => {
    await new DynamoDBClient(config()).send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'ada' } } }));
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]!.body.toString())).toEqual({ TableName: TABLE, Item: { pk: { S: 'ada' } } });
  });

  it("refuses what it does not allow with the service's own error and AWS's message; nothing reaches LocalStack", async () => {
    const denied = new SNSClient(config()).send(new PublishCommand({ TopicArn: TOPIC, Message: 'hi' }));
    await expect(denied).rejects.toMatchObject({
      name: 'AuthorizationErrorException',
      message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/CsvImportRole/csv-import is not authorized to perform: sns:Publish on resource: ${TOPIC} because no identity-based policy allows the sns:Publish action`,
      $metadata: { httpStatusCode: 403 },
    });
    const s3 = new S3Client({ ...config(), forcePathStyle: true });
    await expect(s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'images/x.png', Body: 'x' }))).rejects.toMatchObject({ name: 'AccessDenied', message: expect.stringContaining('s3:PutObject on resource: arn:aws:s3:::uploads/images/x.png because') });
    await expect(new DynamoDBClient(config()).send(new PutItemCommand({ TableName: 'Other', Item: { pk: { S: '1' } } }))).rejects.toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    expect(received).toEqual([]);
  });

  it('streams an allowed upload through whole, and cuts off one whose bytes are not the ones signed', async () => {
    const s3 = new S3Client({ ...config(), forcePathStyle: true });
    const bytes = Buffer.alloc(3 * 1024 * 1024, 7);
    await s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'rejects/a.csv', Body: bytes }));
    expect(received).toHaveLength(1);
    expect(received[0]!.body.equals(bytes)).toBe(true);

    received = [];
    const signed = await sentBy(new S3Client({ region: REGION, endpoint: endpointUrl, credentials: csvImport, forcePathStyle: true }), new PutObjectCommand({ Bucket: 'uploads', Key: 'rejects/b.csv', Body: Buffer.alloc(1024, 1) }));
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(endpointUrl);
      const req = request({ host: url.hostname, port: url.port, method: 'PUT', path: signed.url, headers: signed.headers }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end(Buffer.alloc(1024, 2));
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('<Code>XAmzContentSHA256Mismatch</Code>');
    expect(received.filter((r) => r.complete)).toEqual([]);
  });

  it("refuses a key that is not one of this run's functions, and a request signed with another secret", async () => {
    const stranger = { accessKeyId: 'ASIASTRANGER0000000', secretAccessKey: 'x', sessionToken: 't' };
    await expect(new DynamoDBClient(config(stranger)).send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: '1' } } }))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    const forged = { ...csvImport, secretAccessKey: 'guessed' };
    await expect(new S3Client({ ...config(forged), forcePathStyle: true }).send(new PutObjectCommand({ Bucket: 'uploads', Key: 'rejects/c.csv', Body: 'x' }))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    expect(received).toEqual([]);
  });

  it("a presigned POST upload is the signer's PutObject: allowed under its grant, refused elsewhere", async () => {
    const s3 = new S3Client({ region: REGION, endpoint: endpointUrl, credentials: csvImport, forcePathStyle: true });
    const post = async (key: string) => {
      const { url, fields } = await createPresignedPost(s3, { Bucket: 'uploads', Key: key, Expires: 60 });
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      form.append('file', new Blob([Buffer.from('a,b\n1,2\n')]), 'people.csv');
      return fetch(url, { method: 'POST', body: form });
    };
    expect((await post('rejects/d.csv')).status).toBe(204);
    expect(received).toHaveLength(1);
    expect(received[0]!.body.toString()).toContain('a,b\n1,2\n');
    const refused = await post('images/e.png');
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::uploads/images/e.png');
    expect(received).toHaveLength(1);
  });

  it('a missing key is 404 to a role that may list the bucket, 403 AccessDenied to one that may not (as S3 answers)', async () => {
    const s3 = new S3Client({ ...config(), forcePathStyle: true });
    await expect(s3.send(new GetObjectCommand({ Bucket: 'thumbs', Key: 'missing.webp' }))).rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    await expect(s3.send(new GetObjectCommand({ Bucket: 'uploads', Key: 'missing.png' }))).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
  });

  it('IAM_MODE=warn lets a denied request through and says what AWS would refuse', async () => {
    mode = 'warn';
    await new SNSClient(config()).send(new PublishCommand({ TopicArn: TOPIC, Message: 'hi' }));
    expect(received).toHaveLength(1);
    expect(warnings).toEqual([expect.stringContaining('is not authorized to perform: sns:Publish')]);
  });
});
