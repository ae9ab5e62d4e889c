// The settings of the stack: what differs between the stack you deploy and a test stack. Each
// function's settings are props of the construct that owns it and reach the function as its
// environment. A test stack is this app with other settings (shorter timeouts, a schedule every
// minute), never a local deviation: `make up` and the suites deploy the template it synthesizes.
import type { DatasetInput } from '../functions/csv-import/datasets';

/** Lambda's own settings of a function. */
export interface FunctionSettings {
  timeoutSeconds: number;
  memoryMb: number;
  /** Reserved concurrency; unset: the account's unreserved pool. */
  reservedConcurrency?: number;
}

/** An SQS queue feeding a function through an event source mapping. */
export interface QueueTriggerSettings {
  /** BatchSize (1-10; up to 10000 with a batching window). */
  batchSize: number;
  /** MaximumBatchingWindowInSeconds (0-300). */
  maxBatchingWindowSeconds: number;
  /** Receives of one message before SQS moves it to the function's DLQ (redrive policy). */
  maxReceiveCount: number;
  /** The queue's VisibilityTimeout; default six times the function timeout (AWS's advice). */
  visibilityTimeoutSeconds?: number;
}

/** A CSV data set: its columns and checks (functions/csv-import/datasets.ts) and the table it fills. */
export interface DatasetSettings extends Omit<DatasetInput, 'prefix'> {
  /** The table's partition key attribute (a string). */
  tableKey: string;
}

export interface ScheduleSettings {
  /** `cron(minutes hours day-of-month month day-of-week year)` or `rate(...)`, as EventBridge Scheduler writes them. */
  expression: string;
  timezone: string;
  /** The schedule's retry policy (0-185). */
  retryAttempts: number;
  /** Seconds (60-86400). */
  maxEventAgeSeconds: number;
}

export interface PipelinesConfig {
  /** Image repositories are `<project>/<function>` (what `make push` creates); bucket names start with it. */
  project: string;
  /** Days to keep each function's logs. */
  logRetentionDays: 1 | 3 | 5 | 7 | 14 | 30 | 60 | 90;
  /** Origins of the dashboard (the signing proxy on the developer's machine): CORS of the uploads bucket and the api's URL. */
  dashboardOrigins: string[];
  thumbnail: FunctionSettings & { widths: number[]; format: 'webp' | 'jpeg' | 'avif'; maxInputPixels: number; trigger: QueueTriggerSettings };
  notify: FunctionSettings & { trigger: QueueTriggerSettings };
  csvImport: FunctionSettings & { datasets: DatasetSettings[]; trigger: QueueTriggerSettings };
  audit: FunctionSettings & {
    stream: { batchSize: number; maxBatchingWindowSeconds: number; retryAttempts: number; bisectBatchOnError: boolean };
  };
  report: FunctionSettings & { schedule: ScheduleSettings; periodHours: number };
  api: FunctionSettings & { maxImageBytes: number; maxCsvBytes: number; urlExpiresSeconds: number };
  /** CloudWatch alarms (to the Alarms topic): each dead-letter queue, and the errors of the functions named. */
  alarms: { periodSeconds: number; errorThresholds: Record<string, number> };
  /** Every function's failed invocations, from its log (a subscription filter), alerted by audit. */
  errorLineAlerts: boolean;
}

/** Where the dashboard runs: the signing proxy of the local Lambda service, or the same proxy pointed at AWS. */
export const DASHBOARD_PORT = 9080;

export const defaultConfig: PipelinesConfig = {
  project: 'lambda-pipelines',
  logRetentionDays: 30,
  // A minute: the shortest period of the standard-resolution metrics (SQS, AWS/Lambda) on AWS.
  alarms: { periodSeconds: 60, errorThresholds: { thumbnail: 3 } },
  errorLineAlerts: true,
  dashboardOrigins: [`http://127.0.0.1:${DASHBOARD_PORT}`, `http://localhost:${DASHBOARD_PORT}`],
  // A few images per invocation: each takes up to a couple of seconds, well inside the timeout.
  thumbnail: {
    timeoutSeconds: 60,
    memoryMb: 1024,
    widths: [128, 512, 1024],
    format: 'webp',
    maxInputPixels: 50_000_000,
    trigger: { batchSize: 5, maxBatchingWindowSeconds: 0, maxReceiveCount: 3 },
  },
  notify: { timeoutSeconds: 15, memoryMb: 256, trigger: { batchSize: 10, maxBatchingWindowSeconds: 0, maxReceiveCount: 3 } },
  // One file per invocation: an import can take minutes.
  csvImport: {
    timeoutSeconds: 300,
    memoryMb: 512,
    trigger: { batchSize: 1, maxBatchingWindowSeconds: 0, maxReceiveCount: 3 },
    datasets: [
      {
        name: 'people',
        tableKey: 'id',
        key: { partition: 'id' },
        columns: { id: 'string', name: 'string', email: 'string', age: 'number', active: 'boolean' },
        aliases: { 'E-mail': 'email', Email: 'email' },
        undeclared: 'keep',
        upsert: { mode: 'put' },
      },
      {
        // Debian's release table, as the distro-info-data package ships it (samples/debian-releases.csv).
        name: 'debian-releases',
        tableKey: 'series',
        key: { partition: 'series' },
        columns: { version: 'string', codename: 'string', series: 'string', created: 'date', release: 'date', eol: 'date', 'eol-lts': 'date', 'eol-elts': 'date' },
        undeclared: 'reject',
        upsert: { mode: 'put' },
      },
    ],
  },
  audit: { timeoutSeconds: 30, memoryMb: 256, stream: { batchSize: 10, maxBatchingWindowSeconds: 0, retryAttempts: 5, bisectBatchOnError: true } },
  // Every morning at 06:00 UTC, the report of the 24 hours before.
  report: { timeoutSeconds: 120, memoryMb: 512, periodHours: 24, schedule: { expression: 'cron(0 6 * * ? *)', timezone: 'UTC', retryAttempts: 3, maxEventAgeSeconds: 3600 } },
  api: { timeoutSeconds: 15, memoryMb: 512, maxImageBytes: 100 * 1024 * 1024, maxCsvBytes: 1024 * 1024 * 1024, urlExpiresSeconds: 900 },
};

/** Settings changed for one stack, function by function and field by field. */
export type ConfigChanges = { [K in keyof PipelinesConfig]?: PipelinesConfig[K] extends Array<unknown> ? PipelinesConfig[K] : PipelinesConfig[K] extends object ? Partial<{ [F in keyof PipelinesConfig[K]]: PipelinesConfig[K][F] extends Array<unknown> ? PipelinesConfig[K][F] : PipelinesConfig[K][F] extends object ? Partial<PipelinesConfig[K][F]> : PipelinesConfig[K][F] }> : PipelinesConfig[K] };

/** `base` with `changes` laid over it (two levels deep: a function's settings, then its trigger's). */
export function withChanges(base: PipelinesConfig, changes: ConfigChanges = {}): PipelinesConfig {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    const current = (base as unknown as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (Array.isArray(value) || typeof value !== 'object' || value === null || typeof current !== 'object' || Array.isArray(current)) {
      out[key] = value;
      continue;
    }
    const merged: Record<string, unknown> = { ...(current as Record<string, unknown>) };
    for (const [field, v] of Object.entries(value)) {
      const inner = (current as Record<string, unknown>)[field];
      merged[field] = v !== null && typeof v === 'object' && !Array.isArray(v) && typeof inner === 'object' && inner !== null ? { ...inner, ...v } : v;
    }
    out[key] = merged;
  }
  return out as unknown as PipelinesConfig;
}

/**
 * The stack the integration suites run: timeouts of seconds (and so visibility timeouts of
 * seconds), so that a failed delivery comes back quickly, and the report every minute.
 */
export const TEST_CHANGES: ConfigChanges = {
  thumbnail: { timeoutSeconds: 10, trigger: { visibilityTimeoutSeconds: 20 } },
  notify: { timeoutSeconds: 5, trigger: { visibilityTimeoutSeconds: 10 } },
  csvImport: { timeoutSeconds: 20, trigger: { visibilityTimeoutSeconds: 40 } },
  audit: { timeoutSeconds: 10 },
  // Retention 1 day: test stacks keep nothing.
  logRetentionDays: 1,
  // Alarms evaluated every 10 s (a suite that waits on a queue's alarm has its LocalStack report queue metrics every 10 s too).
  alarms: { periodSeconds: 10 },
  // Off: the suites count invocations and environments of audit; the pipelines suite turns them on.
  errorLineAlerts: false,
};

/** The test stack's settings, with a suite's own changes on top. */
export const testConfig = (changes: ConfigChanges = {}): PipelinesConfig => withChanges(withChanges(defaultConfig, TEST_CHANGES), changes);
