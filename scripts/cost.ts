// `make cost`: what the run would cost on Lambda, from the REPORT lines the stack's functions wrote
// to CloudWatch Logs (LocalStack's): requests, billed duration (INIT included), memory, GB-s and
// the price on x86_64 and arm64, for the run and projected per million events, with and without
// the monthly free tier. Prices: toolkit/lambda-prices.ts (dated, source named).
//   npx tsx scripts/cost.ts            SINCE=30m (or an ISO time): only what ran since; EVENTS=n: the run stood for n events
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { logsClient } from '../toolkit/clients';
import { addUsage, billOf, NO_USAGE, parseReport, scaleUsage, usageOf, type ReportUsage, type Usage } from '../toolkit/lambda-cost';
import { LAMBDA_PRICES, type Architecture } from '../toolkit/lambda-prices';
import { logGroupEvents, sinceMs } from '../toolkit/log-group';
import { readStack, type StackFunction } from '../toolkit/stack';

/** The REPORT lines of a function's log group (each request once). */
export async function reportsOf(client: CloudWatchLogsClient, logGroup: string, startTime?: number): Promise<ReportUsage[]> {
  let events;
  try {
    // The pattern narrows what AWS sends; LocalStack sends every event, so each line is read here.
    events = await logGroupEvents(client, logGroup, { filterPattern: 'REPORT', ...(startTime !== undefined && { startTime }) });
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return []; // no invocation yet
    throw error;
  }
  const reports = new Map<string, ReportUsage>();
  for (const event of events) {
    const report = parseReport(event.message);
    if (report) reports.set(report.requestId, report);
  }
  return [...reports.values()];
}

const usd = (n: number, digits = 8) => `$${n.toFixed(digits)}`;
const num = (n: number, digits = 0) => n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function main(): Promise<void> {
  const startTime = sinceMs(process.env.SINCE);
  const view = await readStack();
  const client = logsClient();
  const rows: { fn: StackFunction; usage: Usage }[] = [];
  for (const fn of view.functions) rows.push({ fn, usage: usageOf(await reportsOf(client, fn.logGroup, startTime), fn.ephemeralStorageMb) });
  client.destroy();
  const total = rows.reduce((sum, r) => addUsage(sum, r.usage), NO_USAGE);
  const p = LAMBDA_PRICES;
  const arches: Architecture[] = ['x86_64', 'arm64'];

  console.log(`Lambda cost of ${startTime ? `what ran since ${new Date(startTime).toISOString()}` : 'this run'}, from the REPORT lines in CloudWatch Logs; prices ${p.region}, read ${p.read} (${p.source})`);
  console.log('');
  console.log(['function', 'arch', 'memory MB', 'requests', 'billed s', 'GB-s', ...arches.map((a) => `${a} USD`)].join(' | '));
  for (const { fn, usage } of rows) {
    console.log([fn.image.replace(/:[^:/]*$/, '').split('/').pop(), fn.architecture, String(fn.memoryMb), num(usage.requests), num(usage.billedMs / 1000, 3), usage.gbSeconds.toFixed(6), ...arches.map((a) => usd(billOf(usage, a, p).totalUsd))].join(' | '));
  }
  console.log(['total', '', '', num(total.requests), num(total.billedMs / 1000, 3), total.gbSeconds.toFixed(6), ...arches.map((a) => usd(billOf(total, a, p).totalUsd))].join(' | '));
  console.log('');
  for (const a of arches) console.log(`run total ${a}: ${usd(billOf(total, a, p).totalUsd)}`);
  if (total.requests === 0) {
    console.log('no invocation in the logs yet: make demo, then make cost');
    return;
  }
  const events = process.env.EVENTS ? Number(process.env.EVENTS) : total.requests;
  if (!Number.isInteger(events) || events <= 0) throw new Error(`EVENTS=${process.env.EVENTS}: give the number of events the run stood for (a whole number)`);
  const perMillion = scaleUsage(total, 1_000_000 / events);
  console.log('');
  console.log(`per 1,000,000 ${process.env.EVENTS ? 'events' : 'invocations'} at this run's mix (${num(events)} ${process.env.EVENTS ? 'events' : 'invocations'} in the run): ${num(perMillion.requests)} requests, ${num(perMillion.gbSeconds, 1)} GB-s in a month`);
  for (const a of arches) console.log(`  ${a}: ${usd(billOf(perMillion, a, p).totalUsd, 2)}, ${usd(billOf(perMillion, a, p, true).totalUsd, 2)} after the free tier (${num(p.freeTier.requests)} requests, ${num(p.freeTier.gbSeconds)} GB-s a month)`);
}

if (process.argv[1]?.endsWith('cost.ts')) {
  main().catch((error: unknown) => {
    console.error(`cost: ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
