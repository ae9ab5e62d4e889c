import type { LogEvent, LogsApi } from './cloudwatch-logs';
import type { MetricDatum, MetricsApi } from './cloudwatch-metrics';
import { FunctionTelemetry } from './telemetry';

function fakes() {
  const events: { group: string; stream: string; events: LogEvent[] }[] = [];
  const metrics: { namespace: string; data: MetricDatum[] }[] = [];
  const logs: LogsApi = { createLogStream: async () => undefined, createLogGroup: async () => undefined, putLogEvents: async (group, stream, e) => void events.push({ group, stream, events: e }) };
  const cw: MetricsApi = { putMetricData: async (namespace, data) => void metrics.push({ namespace, data }) };
  const warnings: string[] = [];
  return { logs, cw, events, metrics, warnings, warn: { warn: (_f: Record<string, unknown>, m: string) => void warnings.push(m) } };
}

const named = (metrics: { namespace: string; data: MetricDatum[] }[], name: string) => metrics.flatMap((m) => m.data.filter((d) => d.name === name).map((d) => ({ namespace: m.namespace, fn: d.dimensions[0]?.[1], ...d.stats })));

describe("a function's telemetry", () => {
  it("puts its lines in its group, its environment's stream, and turns EMF lines into metrics", async () => {
    const f = fakes();
    const telemetry = new FunctionTelemetry(f.logs, f.cw, f.warn, () => 120_000);
    telemetry.register('csv', '/aws/lambda/csv');
    telemetry.line('csv', '2026/11/29/[$LATEST]abc', 'START RequestId: r Version: $LATEST');
    telemetry.line('csv', '2026/11/29/[$LATEST]abc', JSON.stringify({ _aws: { Timestamp: 120_000, CloudWatchMetrics: [{ Namespace: 'LambdaPipelines', Dimensions: [['service']], Metrics: [{ Name: 'RowsImported', Unit: 'Count' }] }] }, service: 'csv-import', RowsImported: 42 }));
    telemetry.line('unknown', 's', 'a function the stack does not have');
    await telemetry.stop();
    expect(f.events.map((e) => [e.group, e.stream, e.events.length])).toEqual([['/aws/lambda/csv', '2026/11/29/[$LATEST]abc', 2]]);
    expect(named(f.metrics, 'RowsImported')).toEqual([{ namespace: 'LambdaPipelines', fn: 'csv-import', sampleCount: 1, sum: 42, min: 42, max: 42 }]);
  });

  it('publishes Invocations, Errors (0 or 1) and Duration for each invocation, Throttles and ConcurrentExecutions from samples', async () => {
    const f = fakes();
    const telemetry = new FunctionTelemetry(f.logs, f.cw, f.warn, () => 60_000);
    telemetry.invocation('fn', { requestId: 'a', durationMs: 100, billedDurationMs: 100, memoryMb: 128, failed: false });
    telemetry.invocation('fn', { requestId: 'b', durationMs: 300, billedDurationMs: 350, initDurationMs: 50, memoryMb: 128, failed: true });
    const gauge = { throttles: 3, busy: 2 };
    const runtimes = new Map([['fn', { get throttles() { return gauge.throttles; }, environmentCounts: () => ({ busy: gauge.busy }) }]]);
    telemetry.sample(runtimes);
    gauge.throttles = 5;
    gauge.busy = 0;
    telemetry.sample(runtimes);
    telemetry.sample(runtimes);
    await telemetry.stop();
    expect(named(f.metrics, 'Invocations')).toEqual([{ namespace: 'AWS/Lambda', fn: 'fn', sampleCount: 2, sum: 2, min: 1, max: 1 }]);
    expect(named(f.metrics, 'Errors')).toEqual([{ namespace: 'AWS/Lambda', fn: 'fn', sampleCount: 2, sum: 1, min: 0, max: 1 }]);
    expect(named(f.metrics, 'Duration')).toEqual([{ namespace: 'AWS/Lambda', fn: 'fn', sampleCount: 2, sum: 400, min: 100, max: 300 }]);
    expect(named(f.metrics, 'Throttles')).toEqual([{ namespace: 'AWS/Lambda', fn: 'fn', sampleCount: 2, sum: 5, min: 2, max: 3 }]);
    // 2 busy, then one 0 after activity, then nothing while idle.
    expect(named(f.metrics, 'ConcurrentExecutions')).toEqual([{ namespace: 'AWS/Lambda', fn: 'fn', sampleCount: 2, sum: 2, min: 0, max: 2 }]);
  });

  it('warns once while CloudWatch is away, not once a line', async () => {
    const f = fakes();
    const down: LogsApi = { ...f.logs, createLogStream: async () => Promise.reject(new Error('connect ECONNREFUSED')) };
    const telemetry = new FunctionTelemetry(down, f.cw, f.warn, () => 0);
    telemetry.register('fn', '/aws/lambda/fn');
    for (let i = 0; i < 3; i++) {
      telemetry.line('fn', `s${i}`, 'line');
      await telemetry.stop();
    }
    expect(f.warnings).toEqual(['function logs could not be delivered to CloudWatch; held and retried']);
    expect(telemetry.health().logEvents).toEqual({ shipped: 0, held: 3, dropped: 0 });
  });
});
