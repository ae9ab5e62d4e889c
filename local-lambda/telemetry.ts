// What Lambda tells CloudWatch about each function, done by the service: every log line of the
// function (its environments' output and Lambda's START/END/REPORT) into its log group, the
// AWS/Lambda metrics of each invocation, and the metrics its Embedded Metric Format lines carry.
import { LogShipper, type LogShipperStats, type LogsApi } from './cloudwatch-logs';
import { MetricPublisher, type MetricsApi } from './cloudwatch-metrics';
import { emfMetrics, type MetricSample } from './emf';
import type { InvocationRecord } from './function-runtime';
import type { SubscriptionDelivery } from './logs-subscription';

export interface TelemetryEvents {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** What the sampler reads of a function every few seconds. */
export interface RuntimeGauge {
  throttles: number;
  environmentCounts(): { busy: number };
}

const LAMBDA = 'AWS/Lambda';

export class FunctionTelemetry {
  private readonly logs: LogShipper;
  private readonly metrics: MetricPublisher;
  private readonly groups = new Map<string, string>();
  private readonly lastThrottles = new Map<string, number>();
  private readonly lastBusy = new Map<string, number>();
  private sampler: NodeJS.Timeout | undefined;
  private lastWarning = -Infinity;
  // What it costs an invocation (make bench): the service's time on its lines, per stream until
  // its REPORT line, in microseconds; the last 1,000 invocations.
  private readonly pending = new Map<string, number>();
  private readonly costs: number[] = [];
  private subscriptions: SubscriptionDelivery | undefined;

  constructor(
    logsApi: LogsApi,
    metricsApi: MetricsApi,
    private readonly events: TelemetryEvents,
    private readonly now: () => number = Date.now,
  ) {
    // One warning a minute while CloudWatch is unreachable, not one a line.
    const onError = (what: string) => (error: unknown) => {
      if (this.now() - this.lastWarning < 60_000) return;
      this.lastWarning = this.now();
      this.events.warn({ err: (error as Error)?.message, ...this.health() }, `${what} could not be delivered to CloudWatch; held and retried`);
    };
    this.logs = new LogShipper(logsApi, { onError: onError('function logs') });
    this.metrics = new MetricPublisher(metricsApi, { onError: onError('metrics') });
  }

  /** The log group a function writes to (the template's LoggingConfig.LogGroup, else /aws/lambda/<name>). */
  register(fn: string, logGroup: string): void {
    this.groups.set(fn, logGroup);
  }

  /** The template's subscription filters: matching lines of their groups go to their functions. */
  subscribe(delivery: SubscriptionDelivery): void {
    this.subscriptions = delivery;
    delivery.start();
  }

  /** A line of the function's log, in its environment's stream. */
  line(fn: string, logStream: string | undefined, line: string): void {
    const group = this.groups.get(fn);
    if (!group || !logStream) return;
    const t0 = process.hrtime.bigint();
    this.logs.add(group, logStream, line);
    for (const sample of emfMetrics(line)) this.metrics.add(sample);
    this.subscriptions?.add(group, logStream, line);
    const micros = (this.pending.get(logStream) ?? 0) + Number(process.hrtime.bigint() - t0) / 1_000;
    if (line.startsWith('REPORT RequestId: ')) {
      this.pending.delete(logStream);
      this.costs.push(micros);
      if (this.costs.length > 1_000) this.costs.shift();
    } else if (this.pending.size < 10_000) this.pending.set(logStream, micros);
  }

  /** An invocation an environment ran: Invocations, Errors (0 or 1, as AWS counts them) and Duration. */
  invocation(fn: string, record: InvocationRecord): void {
    const at = this.now();
    const sample = (name: string, unit: string, value: number): MetricSample => ({ namespace: LAMBDA, name, unit, dimensions: [['FunctionName', fn]], values: [value], timestamp: at });
    this.metrics.add(sample('Invocations', 'Count', 1));
    this.metrics.add(sample('Errors', 'Count', record.failed ? 1 : 0));
    this.metrics.add(sample('Duration', 'Milliseconds', record.durationMs));
  }

  /** What an event source reports of the function (IteratorAge, AsyncEventAge in ms; the rest counts). */
  sourceMetric(fn: string, name: string, value: number): void {
    const unit = name.endsWith('Age') ? 'Milliseconds' : 'Count';
    this.metrics.add({ namespace: LAMBDA, name, unit, dimensions: [['FunctionName', fn]], values: [value], timestamp: this.now() });
  }

  /** Throttles since the last sample and the environments busy now (ConcurrentExecutions, its Maximum). */
  sample(runtimes: ReadonlyMap<string, RuntimeGauge>): void {
    const at = this.now();
    for (const [fn, runtime] of runtimes) {
      const dimensions: [string, string][] = [['FunctionName', fn]];
      const throttles = runtime.throttles - (this.lastThrottles.get(fn) ?? 0);
      this.lastThrottles.set(fn, runtime.throttles);
      if (throttles > 0) this.metrics.add({ namespace: LAMBDA, name: 'Throttles', unit: 'Count', dimensions, values: [throttles], timestamp: at });
      const busy = runtime.environmentCounts().busy;
      // While a function runs, and once more when it stops (a 0 after activity), as a gauge.
      if (busy > 0 || (this.lastBusy.get(fn) ?? 0) > 0) this.metrics.add({ namespace: LAMBDA, name: 'ConcurrentExecutions', unit: 'Count', dimensions, values: [busy], timestamp: at });
      this.lastBusy.set(fn, busy);
    }
  }

  start(runtimes: ReadonlyMap<string, RuntimeGauge>): void {
    this.logs.start();
    this.metrics.start();
    this.sampler ??= setInterval(() => this.sample(runtimes), 5_000);
    this.sampler.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.sampler);
    await Promise.all([this.logs.stop(), this.metrics.stop(), this.subscriptions?.stop()]);
  }

  health(): { logEvents: LogShipperStats; metricSets: MetricPublisher['stats']; microsPerInvocation: { samples: number; p50: number; p95: number } } {
    const sorted = [...this.costs].sort((a, b) => a - b);
    const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
    return { logEvents: this.logs.stats, metricSets: this.metrics.stats, microsPerInvocation: { samples: sorted.length, p50: at(0.5), p95: at(0.95) } };
  }
}
