// `make demo`, after the Makefile uploaded samples/photo.jpg and samples/people.csv with awslocal:
// waits (polling, with a deadline) for what the pipelines produce and prints it.
//   DEMO_ID=<suffix of the uploaded keys> npx tsx scripts/demo.ts
import { QueryCommand, BatchGetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import sharp from 'sharp';
import { inboxQueueName } from './bootstrap-plan';
import { destroyClients, localClients } from './local-clients';

const DEADLINE_MS = Number(process.env.DEMO_DEADLINE_MS ?? 90_000);
const id = process.env.DEMO_ID;
if (!id) {
  console.error('demo: DEMO_ID is required (run `make demo`)');
  process.exit(2);
}
const photoKey = `images/demo-${id}.jpg`;
const csvKey = `imports/demo-${id}.csv`;
const clients = localClients();

async function waitFor<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`no ${what} after ${DEADLINE_MS / 1000} s: see \`make logs\``);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function logItem(key: string) {
  const out = await clients.dynamodb.send(
    new QueryCommand({ TableName: 'processing-log', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `uploads/${key}` } } }),
  );
  return out.Items?.[0] && unmarshall(out.Items[0]);
}

async function main(): Promise<void> {
  const photo = await waitFor('processing-log item for the photo', () => logItem(photoKey));
  console.log(`\nprocessing-log: ${photoKey} -> ${photo.status} in ${photo.durationMs} ms${photo.reason ? ` (${photo.reason})` : ''}`);
  const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: 'thumbnails', Prefix: `${photoKey}/` }));
  console.log('thumbnails (decoded and measured):');
  for (const obj of listed.Contents ?? []) {
    const body = await clients.s3.send(new GetObjectCommand({ Bucket: 'thumbnails', Key: obj.Key }));
    const meta = await sharp(Buffer.from(await body.Body!.transformToByteArray())).metadata();
    console.log(`  s3://thumbnails/${obj.Key}  ${meta.format} ${meta.width}x${meta.height}  ${obj.Size} bytes`);
  }

  const csv = await waitFor('processing-log item for the CSV', () => logItem(csvKey));
  const details = csv.details as Record<string, unknown>;
  console.log(`\nprocessing-log: ${csvKey} -> ${csv.status}: ${details.rowsRead} rows read, ${details.rowsWritten} written, ${details.rowsRejected} rejected`);
  if (details.reportKey) console.log(`  rejected rows: s3://uploads/${details.reportKey}`);
  const rows = await clients.dynamodb.send(
    new BatchGetItemCommand({ RequestItems: { 'imported-rows': { Keys: ['u-001', 'u-002', 'u-003'].map((k) => ({ id: { S: k } })) } } }),
  );
  console.log('imported rows (first three):');
  for (const row of rows.Responses?.['imported-rows'] ?? []) console.log(`  ${JSON.stringify(unmarshall(row))}`);

  const inbox = (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: inboxQueueName('upload-notifications') }))).QueueUrl!;
  const note = await waitFor('SNS notification for the photo', async () => {
    const out = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: inbox, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const m of out.Messages ?? []) await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: inbox, ReceiptHandle: m.ReceiptHandle }));
    return out.Messages?.map((m) => JSON.parse(m.Body!)).find((b) => JSON.parse(b.Message).key === photoKey);
  });
  console.log(`\nSNS notification (via the ${inboxQueueName('upload-notifications')} queue):`);
  console.log(`  subject: ${note.Subject}\n  message: ${note.Message}\n  attributes: ${JSON.stringify(note.MessageAttributes)}`);
}

main()
  .catch((error: unknown) => {
    console.error(`demo: ${(error as Error).message}`);
    process.exitCode = 1;
  })
  .finally(() => destroyClients(clients));
