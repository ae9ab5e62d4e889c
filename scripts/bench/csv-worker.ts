// One CSV import measured in its own process (so its peak RSS is its own), against the DynamoDB
// and S3 at AWS_ENDPOINT_URL, with the csv-import function's environment as the running stack gives
// it (CSV_IMPORT_ENVIRONMENT, JSON). Prints one line `RESULT {"rows":..,"ms":..,"peakRssMb":..}`.
//   csv-worker.ts ours  <table> <bucket> <key>          the csv-import function's handler, unchanged
//   csv-worker.ts naive <table> <bucket> <key> <rows>   parse + validate, then one PutItem per row, in turn
//   csv-worker.ts raw   <table> <file>                  BatchWriteItem of items built beforehand (untimed), 25 per call, 4 in flight
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { BatchWriteItemCommand, DynamoDBClient, PutItemCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { marshall } from '@aws-sdk/util-dynamodb';
import { parse } from 'csv-parse';
import { loadConfig } from '#shared/config';
import { csvImportConfigSchema } from '../../functions/csv-import/config';
import { readHeader, rowToItem, type Header } from '../../functions/csv-import/row-schema';

const [mode, table, ...args] = process.argv.slice(2);
const stackEnv = JSON.parse(process.env.CSV_IMPORT_ENVIRONMENT ?? '{}') as Record<string, string>;
// The stack's data sets, the people data set writing to the bench's own table.
const datasets = (JSON.parse(stackEnv.IMPORT_DATASETS ?? '[]') as Array<Record<string, unknown>>).map((d) => (d.name === 'people' ? { ...d, table } : d));
const env = { ...stackEnv, IMPORT_DATASETS: JSON.stringify(datasets) };
const people = loadConfig(csvImportConfigSchema, env).IMPORT_DATASETS.find((d) => d.name === 'people')!;
const dynamodb = new DynamoDBClient({});

/** The items of a CSV of the people data set, typed by the function's own row code. */
async function* itemsOf(input: Readable) {
  let header: Header | undefined;
  for await (const cells of input.pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true })) as AsyncIterable<string[]>) {
    if (!header) {
      header = readHeader(cells, people);
      continue;
    }
    const result = rowToItem(header, cells, people, people.tableKeys);
    if (result.ok) yield result.item;
  }
}

async function ours(bucket: string, key: string): Promise<number> {
  Object.assign(process.env, env, { LOG_LEVEL: 'warn', AWS_LAMBDA_FUNCTION_NAME: 'csv-import' });
  const { handler } = await import('../../functions/csv-import/handler');
  const event = { Records: [{ eventName: 'ObjectCreated:Put', eventSource: 'aws:s3', s3: { bucket: { name: bucket }, object: { key, size: 0, sequencer: String(Date.now()), eTag: 'bench' } } }] };
  const out = await handler(event, { awsRequestId: 'bench' } as never);
  const outcome = 'results' in out ? out.results[0]! : undefined;
  if (!outcome) throw new Error(`the import answered ${JSON.stringify(out)}`);
  if (outcome.status !== 'PROCESSED') throw new Error(`the import ended ${outcome.status}: ${'reason' in outcome ? outcome.reason : ''}`);
  return outcome.rowsWritten;
}

async function naive(bucket: string, key: string, limit: number): Promise<number> {
  const s3 = new S3Client({ forcePathStyle: true });
  const body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as Readable;
  let rows = 0;
  for await (const item of itemsOf(body)) {
    await dynamodb.send(new PutItemCommand({ TableName: table, Item: marshall(item) }));
    if (++rows >= limit) break;
  }
  body.destroy();
  return rows;
}

async function raw(file: string): Promise<{ rows: number; started: number }> {
  const requests: WriteRequest[] = [];
  for await (const item of itemsOf(createReadStream(file))) requests.push({ PutRequest: { Item: marshall(item) } });
  const started = performance.now();
  let next = 0;
  const writer = async () => {
    while (next < requests.length) {
      let chunk = requests.slice(next, (next += 25));
      while (chunk.length > 0) {
        const out = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [table!]: chunk } }));
        chunk = out.UnprocessedItems?.[table!] ?? [];
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, writer));
  return { rows: requests.length, started };
}

async function main(): Promise<void> {
  let started = performance.now();
  let rows: number;
  if (mode === 'ours') rows = await ours(args[0]!, args[1]!);
  else if (mode === 'naive') rows = await naive(args[0]!, args[1]!, Number(args[2]));
  else if (mode === 'raw') ({ rows, started } = await raw(args[0]!));
  else throw new Error(`unknown mode ${mode}`);
  const ms = performance.now() - started;
  console.log(`RESULT ${JSON.stringify({ rows, ms, peakRssMb: process.resourceUsage().maxRSS / 1024 })}`);
}

main().catch((error: unknown) => {
  console.error(`csv-worker ${mode}: ${(error as Error).message}`);
  process.exitCode = 1;
});
