// An import longer than one invocation, through the running stack (make up) end to end: a CSV the
// api would accept (1,000,000 rows by default) uploaded under imports/people/, imported by
// csv-import at the stack's own timeout, carried across invocations from its checkpoints. Beside
// it, a file small enough for one invocation, for the rows/s it must keep (at least 0.9x).
import { createReadStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetFunctionConfigurationCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { lambdaClient, type LocalClients } from '../../toolkit/clients';
import { functionLogLines } from '../../toolkit/function-logs';
import { logItems } from '../../toolkit/processing-log';
import { functionOf, output, readStack } from '../../toolkit/stack';
import { writeCsv } from './csv-import';
import { table, verdict } from './stats';

export interface LongImportOptions {
  rows: number;
  /** csv-import's timeout for the run (UpdateFunctionConfiguration), then the stack's again; default: the stack's own. */
  timeoutSeconds?: number;
}

interface Run {
  rows: number;
  bytes: number;
  seconds: number;
  invocations: number;
  peakMb: number | undefined;
}

/** Uploads `rows` rows, waits for the final item, reads the REPORT lines of the run. */
async function importThrough(clients: LocalClients, names: { uploads: string; table: string; fn: string }, rows: number, label: string, timeoutMs: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-long-'));
  const file = join(dir, `${label}.csv`);
  const prefix = `bench-${label}-${Date.now()}`;
  const bytes = await writeCsv(file, rows, 60, prefix);
  const key = `imports/people/bench/${prefix}.csv`;
  const before = new Set(functionLogLines(names.fn, 20_000).map((l) => `${l.time}${l.message}`));
  const started = Date.now();
  await clients.s3.send(new PutObjectCommand({ Bucket: names.uploads, Key: key, Body: createReadStream(file), ContentLength: bytes, ContentType: 'text/csv' }));
  let shown = 0;
  for (;;) {
    const [item] = await logItems(clients.dynamodb, names.table, names.uploads, key, 'csv-import');
    if (item && item.status !== 'IN_PROGRESS') {
      if (item.status !== 'PROCESSED' || item.details?.rowsWritten !== rows) throw new Error(`${label}: ${item.status} ${item.reason ?? ''} (${item.details?.rowsWritten} of ${rows} rows written)`);
      const seconds = (Date.now() - started) / 1000;
      const reports = functionLogLines(names.fn, 20_000).filter((l) => !before.has(`${l.time}${l.message}`) && l.message.startsWith('REPORT '));
      const peaks = reports.map((l) => Number(/Max Memory Used: (\d+) MB/.exec(l.message)?.[1])).filter((n) => Number.isFinite(n));
      return { rows, bytes, seconds, invocations: Number(item.details?.invocations ?? 1), peakMb: peaks.length > 0 ? Math.max(...peaks) : undefined };
    }
    if (item?.status === 'IN_PROGRESS' && Number(item.details?.rowsRead) > shown + rows / 10) {
      shown = Number(item.details?.rowsRead);
      console.log(`    ${label}: ${shown} rows after ${((Date.now() - started) / 1000).toFixed(0)} s (invocation ${item.details?.invocations})`);
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${label}: not imported after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export async function benchLongImport(clients: LocalClients, options: LongImportOptions): Promise<{ markdown: string }> {
  const view = await readStack();
  const fn = functionOf(view, 'csv-import').name;
  const names = { uploads: output(view, 'UploadsBucketName'), table: output(view, 'ProcessingLogTableName'), fn };
  const lambda = lambdaClient();
  const stackTimeout = (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn }))).Timeout ?? 300;
  const timeout = options.timeoutSeconds ?? stackTimeout;
  try {
    // The figure to keep: a tenth of the file (10,000 to 100,000 rows) in one invocation, at the stack's own timeout.
    const singleRows = Math.max(10_000, Math.min(Math.round(options.rows / 10), 100_000));
    const single = await importThrough(clients, names, singleRows, 'single', stackTimeout * 1000 * 2);
    if (single.invocations !== 1) throw new Error(`the one-invocation import took ${single.invocations} invocations: lower BENCH_LONG_ROWS`);
    if (timeout !== stackTimeout) await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, Timeout: timeout }));
    const long = await importThrough(clients, names, options.rows, 'long', Math.max(600_000, (options.rows / 200) * 1000));
    const rate = (r: Run) => r.rows / r.seconds;
    const ratio = rate(long) / rate(single);
    const row = (what: string, r: Run) => [what, r.rows.toLocaleString('en'), `${(r.bytes / 2 ** 20).toFixed(0)} MB`, r.seconds.toFixed(0), String(r.invocations), String(r.invocations - 1), rate(r).toFixed(0), r.peakMb === undefined ? '-' : String(r.peakMb)];
    return {
      markdown: [
        `csv-import across invocations at a ${timeout} s timeout${timeout === stackTimeout ? " (the stack's own)" : ` (the stack's is ${stackTimeout} s)`}, in one invocation at the stack's ${stackTimeout} s: each CSV uploaded to the uploads bucket under imports/people/, timed until its final processing-log item; peak memory from the REPORT lines (Max Memory Used) of its invocations.`,
        '',
        table(['import', 'rows', 'size', 'seconds', 'invocations', 'continuations', 'rows/s', 'peak MB'], [row('one invocation', single), row('across invocations', long)]),
        '',
        `rows/s across invocations vs in one: ${verdict(ratio, 0.9)}`,
      ].join('\n'),
    };
  } finally {
    if (timeout !== stackTimeout) await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, Timeout: stackTimeout })).catch(() => undefined);
    lambda.destroy();
  }
}
