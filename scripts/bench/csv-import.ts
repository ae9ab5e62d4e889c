// CSV import into LocalStack DynamoDB, side by side: the csv-import function's handler vs a naive
// PutItem loop (the common peer) vs raw BatchWriteItem of items built beforehand with the same
// parallelism (the limit). Each runs in its own process (csv-worker.ts) for its peak RSS. Then a
// 100 MB CSV through the function, for its peak RSS against the 256 MB bound.
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { CreateTableCommand, DeleteTableCommand, ScanCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { lambdaClient, type LocalClients } from '../../toolkit/clients';
import { functionOf, readStack } from '../../toolkit/stack';
import { formatSummary, summarize, table, verdict } from './stats';

/** A bucket of the bench's own: no notification, so the stack's functions never see these files. */
const BUCKET = 'bench-csv';

/** Writes `rows` rows of the stack's schema (id,name,email,age,active), ids `<prefix>-<n>`, padded to about `rowBytes`. */
export async function writeCsv(file: string, rows: number, rowBytes = 60, prefix = 'r'): Promise<number> {
  const out = createWriteStream(file);
  out.write('id,name,email,age,active\n');
  const pad = 'x'.repeat(Math.max(0, rowBytes - 50));
  for (let i = 0; i < rows; i++) {
    if (!out.write(`${prefix}-${i},"Person ${i}${pad}",p${i}@example.com,${20 + (i % 60)},${i % 2 === 0}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return readFileSync(file).length;
}

interface WorkerResult {
  rows: number;
  ms: number;
  peakRssMb: number;
}

/** The csv-import function's own variables, as the running stack gives them. */
let csvImportEnvironment: Record<string, string> | undefined;
async function stackEnvironment(): Promise<Record<string, string>> {
  if (csvImportEnvironment) return csvImportEnvironment;
  const lambda = lambdaClient();
  try {
    const out = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionOf(await readStack(), 'csv-import').name }));
    // Only the function's own variables: the worker runs beside LocalStack, not in a container.
    csvImportEnvironment = Object.fromEntries(Object.entries(out.Environment?.Variables ?? {}).filter(([k]) => !k.startsWith('AWS_') && k !== 'LOCAL_PUBLIC_ENDPOINT_URL'));
    return csvImportEnvironment;
  } finally {
    lambda.destroy();
  }
}

/** One import in its own process; a failure says which import and why. */
function worker(mode: string, args: string[], endpoint: string): WorkerResult {
  let out: string;
  try {
    out = execFileSync('npx', ['tsx', 'scripts/bench/csv-worker.ts', mode, ...args], {
      encoding: 'utf8',
      env: { ...process.env, AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', CSV_IMPORT_ENVIRONMENT: JSON.stringify(csvImportEnvironment ?? {}) },
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim().split('\n').filter((l) => !l.includes('npm warn')).slice(-3).join(' ');
    throw new Error(`csv-worker ${mode} failed: ${stderr || (error as Error).message}`);
  }
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`csv-worker ${mode} printed no result:\n${out.slice(-2000)}`);
  return JSON.parse(line.slice(7)) as WorkerResult;
}

async function withTable<T>(clients: LocalClients, name: string, body: () => Promise<T>): Promise<T> {
  await clients.dynamodb.send(
    new CreateTableCommand({ TableName: name, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }] }),
  );
  await waitUntilTableExists({ client: clients.dynamodb, maxWaitTime: 60 }, { TableName: name });
  try {
    return await body();
  } finally {
    await clients.dynamodb.send(new DeleteTableCommand({ TableName: name }));
  }
}

async function countRows(clients: LocalClients, name: string): Promise<number> {
  let count = 0;
  let start: Record<string, any> | undefined;
  do {
    const out = await clients.dynamodb.send(new ScanCommand({ TableName: name, Select: 'COUNT', ExclusiveStartKey: start }));
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return count;
}

/** A CSV of `rows` rows uploaded to the bench's bucket; returns its key, its local file and its size. */
async function stageCsv(clients: LocalClients, dir: string, name: string, rows: number, rowBytes?: number) {
  const file = join(dir, `${name}.csv`);
  const bytes = await writeCsv(file, rows, rowBytes);
  // Under the people data set's prefix, so the function takes it for one of its files.
  const key = `imports/people/bench-${Date.now()}/${name}.csv`;
  await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(file) }));
  return { file, key, bytes, rows };
}

/** One import into a fresh table; the table's row count is checked against what was expected. */
async function measured(clients: LocalClients, mode: 'ours' | 'naive' | 'raw', csv: { file: string; key: string; rows: number }, naiveRows = 0): Promise<WorkerResult> {
  const name = `bench-${mode}-${Date.now()}`;
  const result = await withTable(clients, name, async () => {
    const args = mode === 'raw' ? [name, csv.file] : mode === 'naive' ? [name, BUCKET, csv.key, String(naiveRows)] : [name, BUCKET, csv.key];
    const r = worker(mode, args, clients.endpoint);
    const expected = mode === 'naive' ? Math.min(naiveRows, csv.rows) : csv.rows;
    const stored = await countRows(clients, name);
    if (r.rows !== expected || stored !== expected) throw new Error(`${mode}: ${r.rows} rows reported, ${stored} in the table, ${expected} expected`);
    return r;
  });
  console.log(`  ${mode}: ${result.rows} rows in ${(result.ms / 1000).toFixed(1)} s = ${((result.rows / result.ms) * 1000).toFixed(0)} rows/s, peak RSS ${result.peakRssMb.toFixed(0)} MB`);
  return result;
}

export interface CsvBenchOptions {
  /** The import at scale, through the function once. */
  rows: number;
  /** The side-by-side runs (ours, raw, naive), `runs` times each, interleaved. */
  ratioRows: number;
  naiveRows: number;
  runs: number;
  bigMb: number;
}

export async function benchCsvImport(clients: LocalClients, opts: CsvBenchOptions): Promise<{ markdown: string }> {
  await stackEnvironment();
  await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((error: { name?: string }) => {
    if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
  });
  const dir = mkdtempSync(join(tmpdir(), 'bench-csv-'));
  const ratioCsv = await stageCsv(clients, dir, `rows-${opts.ratioRows}`, opts.ratioRows);
  const results: Record<'ours' | 'naive' | 'raw', WorkerResult[]> = { ours: [], naive: [], raw: [] };
  for (let run = 0; run < opts.runs; run++) {
    console.log(`  side by side, run ${run + 1}/${opts.runs}, ${opts.ratioRows} rows`);
    for (const mode of ['ours', 'raw', 'naive'] as const) results[mode].push(await measured(clients, mode, ratioCsv, opts.naiveRows));
  }
  console.log(`  at scale: ${opts.rows} rows through the function`);
  const scaleCsv = await stageCsv(clients, dir, `rows-${opts.rows}`, opts.rows);
  const scale = await measured(clients, 'ours', scaleCsv);
  // About 100 MB in rows of about 2 KB: the size bound is on memory, so fewer, fatter rows keep it quick.
  console.log(`  memory: a ${opts.bigMb} MB CSV through the function`);
  const bigCsv = await stageCsv(clients, dir, `big-${opts.bigMb}mb`, Math.round((opts.bigMb * 1e6) / 2000), 2000);
  const big = await measured(clients, 'ours', bigCsv);

  const rate = (rs: WorkerResult[]) => summarize(rs.map((r) => (r.rows / r.ms) * 1000));
  const rss = (rs: WorkerResult[]) => summarize(rs.map((r) => r.peakRssMb));
  const ours = rate(results.ours);
  const naive = rate(results.naive);
  const raw = rate(results.raw);
  const n = (x: number) => x.toLocaleString('en');
  const markdown = [
    `Side by side: ${n(opts.ratioRows)} rows (${(ratioCsv.bytes / 1e6).toFixed(1)} MB, the stack's schema) from S3 into a fresh LocalStack DynamoDB table per run, ${opts.runs} interleaved runs, median (min-max);`,
    `the naive loop writes the first ${n(opts.naiveRows)} rows of the same file (rows/s compare; at its rate ${n(opts.rows)} rows would take ${(opts.rows / naive.median / 60).toFixed(0)} minutes).`,
    `At scale: ${n(opts.rows)} rows (${(scaleCsv.bytes / 1e6).toFixed(1)} MB) and a ${(bigCsv.bytes / 1e6).toFixed(0)} MB file (${n(bigCsv.rows)} rows of ~2 KB) through the function once each: one run takes minutes at LocalStack's pace.`,
    'Every import is checked by counting the rows in its table. Each runs in its own Node process; peak RSS is that whole process (`maxRSS`).',
    '',
    table(
      ['import', 'rows/s', 'peak RSS MB', 'ours vs it'],
      [
        [`ours: the csv-import handler (stream, validate, BatchWriter 25 x 4 in flight), ${n(opts.ratioRows)} rows`, formatSummary(ours, 0), formatSummary(rss(results.ours), 0), '-'],
        ['naive PutItem loop (parse, validate, one PutItem at a time)', formatSummary(naive, 0), formatSummary(rss(results.naive), 0), verdict(ours.median / naive.median, 10)],
        ['raw BatchWriteItem of items built beforehand, 25 x 4 in flight (the limit)', formatSummary(raw, 0), formatSummary(rss(results.raw), 0), verdict(ours.median / raw.median, 0.8)],
        [`ours, ${n(opts.rows)} rows`, ((scale.rows / scale.ms) * 1000).toFixed(0), scale.peakRssMb.toFixed(0), '-'],
        [`ours, ${(bigCsv.bytes / 1e6).toFixed(0)} MB CSV`, ((big.rows / big.ms) * 1000).toFixed(0), `${big.peakRssMb.toFixed(0)} (target <= 256: ${big.peakRssMb <= 256 ? 'met' : 'MISSED'})`, '-'],
      ],
    ),
  ].join('\n');
  return { markdown };
}
