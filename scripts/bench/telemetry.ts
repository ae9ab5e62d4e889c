// What CloudWatch costs an invocation locally: the local Lambda service's own time on a function's
// lines (into its log group, EMF lines into metrics, AWS/Lambda metrics), per invocation, p50/p95,
// beside the invocation's latency as the caller sees it; and how long after the last invocation
// its lines are all in CloudWatch Logs (they are put every second, off the invocation's path).
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { lambdaClient } from '../../toolkit/clients';
import { eventually } from '../../toolkit/eventually';
import { LAMBDA_API_URL } from '../../toolkit/ports';
import { functionOf, readStack } from '../../toolkit/stack';
import { percentile, table } from './stats';

interface CloudWatchHealth {
  logEvents: { shipped: number; held: number; dropped: number };
  metricSets: { published: number; held: number; dropped: number };
  microsPerInvocation: { samples: number; p50: number; p95: number };
}

const cloudwatch = async (): Promise<CloudWatchHealth> => {
  const health = (await (await fetch(`${LAMBDA_API_URL}/health`)).json()) as { cloudwatch: CloudWatchHealth | 'off' };
  if (health.cloudwatch === 'off') throw new Error('the local Lambda service runs with CLOUDWATCH=off');
  return health.cloudwatch;
};

export async function benchTelemetry(calls: number): Promise<{ markdown: string }> {
  const fn = functionOf(await readStack(), 'audit').name;
  const lambda = lambdaClient();
  const before = await cloudwatch();
  const latencies: number[] = [];
  try {
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      const out = await lambda.send(new InvokeCommand({ FunctionName: fn, Payload: Buffer.from('{"Records":[]}') }));
      if (out.FunctionError) throw new Error(`audit failed: ${Buffer.from(out.Payload ?? []).toString()}`);
      latencies.push(performance.now() - t0);
    }
  } finally {
    lambda.destroy();
  }
  const lastCall = Date.now();
  const after = await eventually(async () => {
    const h = await cloudwatch();
    return h.logEvents.held === 0 && h.logEvents.shipped > before.logEvents.shipped && h.metricSets.held === 0 && h.metricSets.published > before.metricSets.published ? h : undefined;
  }, 'every line in CloudWatch Logs and the metrics in CloudWatch', 60_000, 50);
  const drainedMs = Date.now() - lastCall;
  const shipped = after.logEvents.shipped - before.logEvents.shipped;
  const cost = after.microsPerInvocation;
  const p50 = percentile(latencies, 50) * 1000;
  const p95 = percentile(latencies, 95) * 1000;
  return {
    markdown: [
      `${calls} synchronous invocations of audit (an empty batch) through the Lambda API, one at a time; the service's time on each invocation's lines (its log stream until its REPORT line: put in the batch for CloudWatch Logs, read for EMF) from /health (the last ${cost.samples} invocations), beside the invocation's latency at the caller.`,
      '',
      table(
        ['', 'p50', 'p95'],
        [
          ['logs and metrics, service time per invocation (µs)', String(cost.p50), String(cost.p95)],
          ['invocation latency at the caller (µs)', p50.toFixed(0), p95.toFixed(0)],
          ['share of the latency', `${((cost.p50 / p50) * 100).toFixed(2)}%`, `${((cost.p95 / p95) * 100).toFixed(2)}%`],
        ],
      ),
      '',
      `${shipped} log events put (${(shipped / calls).toFixed(1)} per invocation), ${after.logEvents.dropped} dropped; ${after.metricSets.published - before.metricSets.published} metric statistic sets put (they are summed per flush, every 5 s); the lines and the metrics all delivered ${drainedMs} ms after the last invocation answered.`,
    ].join('\n'),
  };
}
