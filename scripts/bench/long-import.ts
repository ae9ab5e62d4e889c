// An import longer than one invocation, through the running stack (make up) end to end: a CSV the
// api would accept (1,000,000 rows by default) uploaded under imports/people/, imported by
// csv-import at the stack's own timeout, carried across invocations from its checkpoints.
//
// What going across invocations costs is the time between them (the hand-over: a message to the
// function's own queue, the poll, the next environment) and what a continuation does before its
// first row (the lease, a HEAD, the header read again, a ranged read). The yardstick is therefore
// the same import's rows/s inside its own invocations (the rows over the sum of their REPORT
// durations): the same rows, the same table, the same minutes of this machine. A separate file in
// one invocation cannot be that yardstick here: a 1,000,000-row import outlasts Lambda's 900 s
// maximum at LocalStack's pace, and on a 2-core machine the pace of two imports minutes apart
// differs by more than the 10% to be shown (LocalStack's JVM warming up, the table growing). Such
// a file is still imported before and after, as a reference.
import { createReadStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetFunctionConfigurationCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { lambdaClient, type LocalClients } from '../../toolkit/clients';
import { eventually } from '../../toolkit/eventually';
import { functionLogLines, type FunctionLogLine } from '../../toolkit/function-logs';
import { logItems } from '../../toolkit/processing-log';
import { functionOf, output, readStack } from '../../toolkit/stack';
import { writeCsv } from './csv-import';
import { table, verdict } from './stats';

export interface LongImportOptions {
  rows: number;
  /** csv-import's timeout for the run (UpdateFunctionConfiguration), then the stack's again; default: the stack's own. */
  timeoutSeconds?: number;
}

/** One invocation of an import, from its log: rows read by the end of it, its REPORT line. */
interface Leg {
  rowsRead: number;
  durationMs: number;
  maxMemoryMb: number;
}

interface Run {
  rows: number;
  bytes: number;
  /** From the upload's end to the final processing-log item. */
  seconds: number;
  legs: Leg[];
}

const LOG_TAIL = 200_000;
const rate = (r: Run) => r.rows / r.seconds;
const insideSeconds = (r: Run) => r.legs.reduce((sum, l) => sum + l.durationMs, 0) / 1000;

/** The invocations that imported `key` (BUSY or duplicate deliveries left out), in order, once each has its REPORT line. */
function legsOf(lines: readonly FunctionLogLine[], key: string): Leg[] | undefined {
  const progress = new Map<string, number>();
  for (const line of lines) {
    if (!line.message.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line.message) as { requestId?: string; key?: string; msg?: string; message?: string; rowsRead?: number };
      const what = entry.msg ?? entry.message;
      if (entry.key === key && entry.requestId && typeof entry.rowsRead === 'number' && (what === 'csv import continues in another invocation' || what === 'csv import done')) {
        progress.set(entry.requestId, entry.rowsRead);
      }
    } catch {
      // not one of the function's JSON lines
    }
  }
  const reports = new Map<string, Leg>();
  for (const line of lines) {
    const id = /^REPORT RequestId: (\S+)/.exec(line.message)?.[1];
    if (!id || !progress.has(id)) continue;
    const durationMs = Number(/\tDuration: ([\d.]+) ms/.exec(line.message)?.[1]);
    const maxMemoryMb = Number(/Max Memory Used: (\d+) MB/.exec(line.message)?.[1]);
    reports.set(id, { rowsRead: progress.get(id)!, durationMs, maxMemoryMb });
  }
  if (reports.size < progress.size) return undefined; // a REPORT line follows the handler's return
  return [...reports.values()].sort((a, b) => a.rowsRead - b.rowsRead);
}

/** Uploads `rows` rows, waits for the final item, reads its invocations from the function's log. */
async function importThrough(clients: LocalClients, names: { uploads: string; table: string; fn: string }, rows: number, label: string, timeoutMs: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-long-'));
  const file = join(dir, `${label}.csv`);
  const prefix = `bench-${label}-${Date.now()}`;
  const bytes = await writeCsv(file, rows, 60, prefix);
  const key = `imports/people/bench/${prefix}.csv`;
  await clients.s3.send(new PutObjectCommand({ Bucket: names.uploads, Key: key, Body: createReadStream(file), ContentLength: bytes, ContentType: 'text/csv' }));
  const started = Date.now();
  let shown = 0;
  const item = await eventually(
    async () => {
      const [found] = await logItems(clients.dynamodb, names.table, names.uploads, key, 'csv-import');
      if (found?.status === 'IN_PROGRESS' && Number(found.details?.rowsRead) > shown + rows / 10) {
        shown = Number(found.details?.rowsRead);
        console.log(`    ${label}: ${shown} rows after ${((Date.now() - started) / 1000).toFixed(0)} s (invocation ${found.details?.invocations})`);
      }
      return found && found.status !== 'IN_PROGRESS' ? found : undefined;
    },
    `${label}: the import of ${rows} rows`,
    timeoutMs,
    500,
  );
  const seconds = (Date.now() - started) / 1000;
  if (item.status !== 'PROCESSED' || item.details?.rowsWritten !== rows) throw new Error(`${label}: ${item.status} ${item.reason ?? ''} (${item.details?.rowsWritten} of ${rows} rows written)`);
  const legs = await eventually(async () => legsOf(functionLogLines(names.fn, LOG_TAIL), key), `${label}: the REPORT lines of its invocations`, 30_000, 500);
  if (legs.length !== Number(item.details?.invocations ?? 1)) throw new Error(`${label}: ${legs.length} invocations in the log, ${item.details?.invocations ?? 1} in the processing log`);
  return { rows, bytes, seconds, legs };
}

export async function benchLongImport(clients: LocalClients, options: LongImportOptions): Promise<{ markdown: string }> {
  const view = await readStack();
  const fn = functionOf(view, 'csv-import').name;
  const names = { uploads: output(view, 'UploadsBucketName'), table: output(view, 'ProcessingLogTableName'), fn };
  const lambda = lambdaClient();
  const stackTimeout = (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn }))).Timeout ?? 300;
  const timeout = options.timeoutSeconds ?? stackTimeout;
  try {
    // The reference: a file for one invocation at the stack's own timeout, before and after.
    const referenceRows = Math.max(10_000, Math.min(Math.round(options.rows / 10), 60_000));
    const reference = async (label: string) => {
      const run = await importThrough(clients, names, referenceRows, label, stackTimeout * 1000 * 2);
      if (run.legs.length !== 1) throw new Error(`the reference import took ${run.legs.length} invocations: lower BENCH_LONG_ROWS`);
      return run;
    };
    const before = await reference('one-before');
    if (timeout !== stackTimeout) await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, Timeout: timeout }));
    const long = await importThrough(clients, names, options.rows, 'long', Math.max(600_000, (options.rows / 200) * 1000));
    if (timeout !== stackTimeout) await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, Timeout: stackTimeout }));
    const after = await reference('one-after');

    const inside = long.rows / insideSeconds(long);
    const handOver = long.seconds - insideSeconds(long);
    const peak = (r: Run) => String(Math.max(...r.legs.map((l) => l.maxMemoryMb)));
    const summary = (what: string, r: Run) => [what, r.rows.toLocaleString('en'), `${(r.bytes / 2 ** 20).toFixed(0)} MB`, r.seconds.toFixed(0), String(r.legs.length), String(r.legs.length - 1), rate(r).toFixed(0), peak(r)];
    const legRows = long.legs.map((leg, i) => {
      const rows = leg.rowsRead - (i === 0 ? 0 : long.legs[i - 1]!.rowsRead);
      return [String(i + 1), rows.toLocaleString('en'), (leg.durationMs / 1000).toFixed(1), (rows / (leg.durationMs / 1000)).toFixed(0), String(leg.maxMemoryMb)];
    });
    return {
      markdown: [
        `csv-import, ${options.rows.toLocaleString('en')} rows at a ${timeout} s timeout${timeout === stackTimeout ? " (the stack's own)" : ` (the stack's is ${stackTimeout} s)`}: each CSV uploaded to the uploads bucket under imports/people/, timed from the upload's end to its final processing-log item; its invocations, durations and peak memory from the function's log (REPORT lines, Max Memory Used). The reference files are imported in one invocation at the stack's ${stackTimeout} s, before and after.`,
        '',
        table(['import', 'rows', 'size', 'seconds', 'invocations', 'continuations', 'rows/s', 'peak MB'], [summary('one invocation, before', before), summary('across invocations', long), summary('one invocation, after', after)]),
        '',
        'The import across invocations, invocation by invocation:',
        '',
        table(['invocation', 'rows', 'seconds (REPORT Duration)', 'rows/s', 'peak MB'], legRows),
        '',
        `Inside its invocations: ${insideSeconds(long).toFixed(0)} s, ${inside.toFixed(0)} rows/s; between them (hand-overs, the event's delivery, the final item's poll): ${handOver.toFixed(1)} s over ${long.legs.length - 1} continuations.`,
        `rows/s end to end vs inside its invocations (the one-invocation figure on the same rows and table): ${verdict(rate(long) / inside, 0.9)}`,
        `rows/s end to end vs the reference files (context, minutes apart): ${(rate(long) / rate(before)).toFixed(2)}x before, ${(rate(long) / rate(after)).toFixed(2)}x after`,
      ].join('\n'),
    };
  } finally {
    if (timeout !== stackTimeout) await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, Timeout: stackTimeout })).catch(() => undefined);
    lambda.destroy();
  }
}
