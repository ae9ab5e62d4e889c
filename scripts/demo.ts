// `make demo`: uploads samples/photo.jpg and the sample CSVs to the uploads bucket, then waits
// (polling, one deadline for the whole run) for what the pipelines produce and prints it:
// thumbnails measured with sharp, processing-log items, imported rows, the SNS notification. Every
// name comes from the running stack (its outputs, its functions' environment).
//   npx tsx scripts/demo.ts                  uploads with the SDK (no AWS CLI needed)
//   DEMO_ID=<id> npx tsx scripts/demo.ts     the caller already uploaded images/demo-<id>.jpg and
//                                            imports/<data set>/demo-<id>.csv (the Makefile does, with awslocal)
import { readFileSync } from 'node:fs';
import { BatchGetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import sharp from 'sharp';
import { csvImportConfigSchema } from '../functions/csv-import/config';
import { loadConfig } from '#shared/config';
import { destroyClients, isUnreachable, lambdaClient, localClients } from '../toolkit/clients';
import { logItems } from '../toolkit/processing-log';
import { functionOf, output, readStack, StackLookupError, type StackView } from '../toolkit/stack';
import { csvKeyValues, demoKeys, expectedThumbnailWidths, formatAttributes, formatRow, keyColumnOf, uploadNotificationFor, type DemoCsv, type SnsEnvelope } from './demo-report';

const PHOTO_FILE = 'samples/photo.jpg';
/** The first invocation of a fresh function container can take a while on a cold machine. */
const DEADLINE_MS = Number(process.env.DEMO_DEADLINE_MS ?? 120_000);
const POLL_MS = 500;

class DemoFailure extends Error {}

const clients = localClients();
const lambda = lambdaClient();
const started = Date.now();
const deadline = started + DEADLINE_MS;

/** The names the demo needs, from the running stack. */
interface Names {
  uploads: string;
  thumbnails: string;
  table: string;
  widths: string;
  inbox: string;
}

async function environmentOf(view: StackView, folder: string): Promise<Record<string, string>> {
  const out = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionOf(view, folder).name }));
  return out.Environment?.Variables ?? {};
}

/** Polls `check` until it returns a value; fails the demo once the run's deadline has passed. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new DemoFailure(`no ${what} after ${DEADLINE_MS / 1000} s: is the stack up (make ps) and are the functions healthy (make logs)?`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

const processingLogItem = async (names: Names, key: string, fn: string): Promise<Record<string, any> | undefined> => (await logItems(clients.dynamodb, names.table, names.uploads, key, fn))[0];

async function objectBytes(bucket: string, key: string): Promise<Buffer> {
  const out = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

function processed(item: Record<string, any>, what: string): void {
  console.log(`  ${item.function} ${item.status} in ${item.durationMs} ms  (pk=${item.pk} sk=${item.sk})`);
  if (item.status !== 'PROCESSED') throw new DemoFailure(`${what} was recorded ${item.status}: ${item.reason ?? 'no reason given'}`);
}

async function upload(names: Names, keys: ReturnType<typeof demoKeys>): Promise<void> {
  for (const [file, key, contentType] of [[PHOTO_FILE, keys.photo, 'image/jpeg'] as const, ...keys.csvs.map((c) => [c.file, c.key, 'text/csv'] as const)]) {
    await clients.s3.send(new PutObjectCommand({ Bucket: names.uploads, Key: key, Body: readFileSync(file), ContentType: contentType }));
    console.log(`uploaded ${file} -> s3://${names.uploads}/${key}   (the same as: awslocal s3 cp ${file} s3://${names.uploads}/${key})`);
  }
}

async function showThumbnails(names: Names, key: string): Promise<void> {
  console.log(`\n== thumbnail: s3://${names.uploads}/${key}`);
  const item = await waitFor(`processing-log item for ${key}`, () => processingLogItem(names, key, 'thumbnail'));
  processed(item, key);
  const source = await sharp(PHOTO_FILE).metadata();
  const uprightWidth = (source.orientation ?? 1) >= 5 ? source.height : source.width;
  const outputs = (item.details?.outputs ?? []) as Array<{ key: string }>;
  const measured = [];
  for (const output of outputs) {
    const bytes = await objectBytes(names.thumbnails, output.key);
    const meta = await sharp(bytes).metadata();
    measured.push(meta.width);
    console.log(`  s3://${names.thumbnails}/${output.key}  ${meta.format} ${meta.width}x${meta.height}  ${bytes.length} bytes`);
  }
  const expected = expectedThumbnailWidths(uprightWidth, names.widths);
  if (measured.join() !== expected.join()) throw new DemoFailure(`thumbnail widths ${measured.join(',')} are not the configured ${expected.join(',')}`);
}

async function showImport(names: Names, { key, file, dataset }: DemoCsv): Promise<void> {
  console.log(`\n== csv-import: s3://${names.uploads}/${key}  (data set ${dataset.name})`);
  // A file larger than one invocation is IN_PROGRESS first, its rows so far in the item: shown as they grow.
  let shown: unknown;
  const item = await waitFor(`processing-log item for ${key}`, async () => {
    const found = await processingLogItem(names, key, 'csv-import');
    if (found?.status !== 'IN_PROGRESS') return found;
    if (found.details?.rowsRead !== shown) console.log(`  importing: ${(shown = found.details?.rowsRead)} rows so far (invocation ${found.details?.invocations})`);
    return undefined;
  });
  processed(item, key);
  const { rowsRead, rowsWritten, rowsRejected, reportKey, table } = item.details ?? {};
  console.log(`  ${rowsRead} rows read, ${rowsWritten} written to table ${table}, ${rowsRejected} rejected`);
  if (reportKey) {
    console.log(`  rejected rows (s3://${names.uploads}/${reportKey}):`);
    for (const line of (await objectBytes(names.uploads, reportKey)).toString('utf8').trimEnd().split('\n')) console.log(`    ${line}`);
  }

  const keyColumn = keyColumnOf(dataset);
  const keyAttribute = dataset.tableKeys.partitionKey;
  const ids = [...new Set(csvKeyValues(readFileSync(file, 'utf8'), keyColumn))];
  const rows = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < ids.length; i += 100) {
    const out = await clients.dynamodb.send(
      new BatchGetItemCommand({ RequestItems: { [table]: { Keys: ids.slice(i, i + 100).map((id) => ({ [keyAttribute]: { S: id } })), ConsistentRead: true } } }),
    );
    for (const r of (out.Responses?.[table] ?? []).map((x) => unmarshall(x))) rows.set(String(r[keyAttribute]), r);
  }
  console.log(`  imported rows (${table}):`);
  for (const id of ids) if (rows.has(id)) console.log(`    ${formatRow(rows.get(id)!, dataset)}`);
  if (rows.size !== rowsWritten) throw new DemoFailure(`${rowsWritten} rows were written but ${rows.size} are in ${table}`);
}

async function showNotification(names: Names, key: string): Promise<void> {
  console.log(`\n== notify: SNS upload notifications, read from the SQS queue ${names.inbox}`);
  const url = names.inbox;
  // The inbox is a viewer: every message read is deleted, so older demos' notifications drain away.
  const note = await waitFor<SnsEnvelope>(`SNS notification for ${key}`, async () => {
    const out = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const m of out.Messages ?? []) await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    return out.Messages?.map((m) => uploadNotificationFor(m.Body, key)).find(Boolean);
  });
  console.log(`  subject:    ${note.Subject}\n  message:    ${note.Message}\n  attributes: ${formatAttributes(note.MessageAttributes)}`);
}

async function main(): Promise<void> {
  const view = await readStack();
  const thumbnailEnv = await environmentOf(view, 'thumbnail');
  const datasets = loadConfig(csvImportConfigSchema, await environmentOf(view, 'csv-import')).IMPORT_DATASETS;
  const names: Names = {
    uploads: output(view, 'UploadsBucketName'),
    thumbnails: thumbnailEnv.THUMBNAIL_BUCKET!,
    table: thumbnailEnv.PROCESSING_LOG_TABLE!,
    widths: thumbnailEnv.THUMBNAIL_WIDTHS!,
    inbox: output(view, 'UploadNotificationsInboxUrl'),
  };
  const given = process.env.DEMO_ID;
  const keys = demoKeys(given ?? String(Date.now()), datasets);
  if (!given) await upload(names, keys);
  await showThumbnails(names, keys.photo);
  for (const csv of keys.csvs) await showImport(names, csv);
  await showNotification(names, keys.photo);
  console.log(`\ndemo: every pipeline answered in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main()
  .catch((error: unknown) => {
    if (isUnreachable(error)) console.error(`demo: LocalStack is not answering at ${clients.endpoint}: run make up`);
    else if (error instanceof DemoFailure || error instanceof StackLookupError) console.error(`demo: ${error.message}`);
    else console.error(`demo failed: ${(error as Error).name}: ${(error as Error).message}`);
    process.exitCode = 1;
  })
  .finally(() => {
    destroyClients(clients);
    lambda.destroy();
  });
