// Metrics into CloudWatch (LocalStack's): what Lambda publishes under AWS/Lambda for each function
// and what the functions emit in Embedded Metric Format. Samples are summed per metric and
// dimensions (per second for high resolution) and put every few seconds as statistic sets
// (SampleCount, Sum, Minimum, Maximum), which CloudWatch sums into its periods anyway; PutMetricData takes
// 1,000 of them a call. While CloudWatch is away they are held (a bounded number of sets; past
// it the oldest are dropped and counted) and merged with what comes meanwhile.
import type { MetricSample } from './emf';
import { PeriodicFlush } from './periodic-flush';
export interface StatisticSet {
  sampleCount: number;
  sum: number;
  min: number;
  max: number;
}

export interface MetricDatum {
  name: string;
  unit?: string;
  dimensions: [string, string][];
  /** Its latest sample's time (high resolution: the start of its second), epoch ms. */
  timestamp: number;
  stats: StatisticSet;
  storageResolution?: number;
}

/** What the publisher needs of CloudWatch (cloudWatchMetricsApi adapts the SDK's client). */
export interface MetricsApi {
  putMetricData(namespace: string, data: MetricDatum[]): Promise<void>;
}

const MAX_DATA_PER_CALL = 1_000;

interface Held {
  namespace: string;
  datum: MetricDatum;
}

export interface MetricPublisherOptions {
  flushMs?: number;
  /** Statistic sets held at most; past it the oldest are dropped. */
  maxHeld?: number;
  onError?: (error: unknown, namespace: string) => void;
}

export class MetricPublisher extends PeriodicFlush {
  private held = new Map<string, Held>();
  private published = 0;
  private dropped = 0;

  constructor(
    private readonly api: MetricsApi,
    private readonly options: MetricPublisherOptions = {},
  ) {
    super(options.flushMs ?? 5_000);
  }

  add(sample: MetricSample): void {
    // Standard resolution: one set per flush, stamped with its latest sample (an alarm looks at the
    // last Period seconds: a set stamped at its minute's start would fall out of a short one).
    // High resolution: one set per second.
    const second = sample.storageResolution === 1 ? Math.floor(sample.timestamp / 1_000) * 1_000 : undefined;
    const key = JSON.stringify([sample.namespace, sample.name, sample.unit ?? '', sample.dimensions, second ?? '', sample.storageResolution ?? 60]);
    const timestamp = second ?? sample.timestamp;
    const stats: StatisticSet = { sampleCount: sample.values.length, sum: 0, min: Infinity, max: -Infinity };
    for (const v of sample.values) {
      stats.sum += v;
      stats.min = Math.min(stats.min, v);
      stats.max = Math.max(stats.max, v);
    }
    const existing = this.held.get(key);
    if (existing) {
      merge(existing.datum.stats, stats);
      existing.datum.timestamp = Math.max(existing.datum.timestamp, timestamp);
    }
    else this.held.set(key, { namespace: sample.namespace, datum: { name: sample.name, ...(sample.unit && { unit: sample.unit }), dimensions: sample.dimensions, timestamp, stats, ...(sample.storageResolution && { storageResolution: sample.storageResolution }) } });
    const max = this.options.maxHeld ?? 50_000;
    while (this.held.size > max) {
      this.held.delete(this.held.keys().next().value!);
      this.dropped++;
    }
  }

  get stats(): { published: number; held: number; dropped: number } {
    return { published: this.published, held: this.held.size, dropped: this.dropped };
  }

  protected async flushOnce(): Promise<void> {
    const taken = this.held;
    this.held = new Map();
    const byNamespace = new Map<string, [string, Held][]>();
    for (const entry of taken) byNamespace.set(entry[1].namespace, [...(byNamespace.get(entry[1].namespace) ?? []), entry]);
    for (const [namespace, entries] of byNamespace) {
      for (let i = 0; i < entries.length; i += MAX_DATA_PER_CALL) {
        const chunk = entries.slice(i, i + MAX_DATA_PER_CALL);
        try {
          await this.api.putMetricData(namespace, chunk.map(([, h]) => h.datum));
          this.published += chunk.length;
        } catch (error) {
          // Back in, merged with what came meanwhile, for the next flush.
          for (const [key, h] of chunk) {
            const now = this.held.get(key);
            if (now) merge(now.datum.stats, h.datum.stats);
            else this.held.set(key, h);
          }
          this.options.onError?.(error, namespace);
        }
      }
    }
  }
}

function merge(into: StatisticSet, from: StatisticSet): void {
  into.sampleCount += from.sampleCount;
  into.sum += from.sum;
  into.min = Math.min(into.min, from.min);
  into.max = Math.max(into.max, from.max);
}
