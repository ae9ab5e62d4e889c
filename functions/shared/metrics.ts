// The functions' own metrics, in CloudWatch's Embedded Metric Format through Powertools Metrics: one
// JSON log line a call, which CloudWatch Logs turns into metrics on AWS (and the local Lambda
// service locally). Namespace and service come from POWERTOOLS_METRICS_NAMESPACE and
// POWERTOOLS_SERVICE_NAME, which the stack sets on every function.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

let metrics: Metrics | undefined;

/** Counts of one outcome as metrics (dimension: service), published at once; nothing when all are absent. */
export function publishCounts(counts: Record<string, number | undefined>): void {
  const entries = Object.entries(counts).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]));
  if (entries.length === 0) return;
  metrics ??= new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'LambdaPipelines' });
  for (const [name, value] of entries) metrics.addMetric(name, MetricUnit.Count, value);
  metrics.publishStoredMetrics();
}
