// THE description of the stack: its resources, its functions and what triggers them, with
// event-source settings named as AWS names them. Two renderers read it and nothing else:
//   local (stack/local.ts): bootstrap creates the resources in LocalStack, the local Lambda
//         service (bridge/) runs the event source mappings, docker-compose.yml the containers;
//   AWS   (infra/): a CDK app synthesizes the same as CloudFormation (`make synth`, `make deploy`).
// The wiring between them (S3 -> SNS -> SQS per function -> mapping) is derived in topology.ts.
// Adding a function = a folder under functions/<name>/ and one entry in `functions` below.
import { BY_DAY_INDEX } from '../functions/shared/processing-log-reader';
import { bucket, datasetEnvironment, defineStack, overridesFromEnv, table, topic, type DatasetSpec, type FunctionSpec, type StackSpec, type TableSpec } from './model';

/** Prefixes of the uploads bucket that mean something to the pipelines. */
export const prefixes = {
  images: 'images/',
  imports: 'imports/',
  /** Rejected-row reports of csv-import: outside imports/ so a report never triggers an import. */
  reports: 'reports/',
} as const;

/**
 * Where a browser opens the dashboard of the api function: a proxy on the developer's machine that
 * signs each request to the api's AWS_IAM Function URL (bridge/signing-proxy.ts), locally against
 * the local Lambda service and against AWS alike. The uploads bucket lets this origin POST to it.
 */
export const DASHBOARD_PORT = 9080;
const dashboardOrigins = [`http://127.0.0.1:${DASHBOARD_PORT}`, `http://localhost:${DASHBOARD_PORT}`];

/** Lambda's own defaults for Event invocations, stated so both targets say the same. */
const asyncInvoke = { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21_600 };

const tables: TableSpec[] = [
  // by-day lists the log by time (the report, the API) without a Scan: partition = UTC date.
  { name: 'processing-log', partitionKey: 'pk', sortKey: 'sk', stream: 'NEW_IMAGE', indexes: [{ name: BY_DAY_INDEX, partitionKey: 'day', sortKey: 'createdAt' }] },
  { name: 'imported-rows', partitionKey: 'id' },
  { name: 'debian-releases', partitionKey: 'series' },
  // One marker per report period: the summary of a day goes out once however often it runs.
  { name: 'report-runs', partitionKey: 'period' },
];

/**
 * The kinds of CSV csv-import knows, each uploaded under `imports/<name>/` (see
 * functions/csv-import/datasets.ts for every field). A file under imports/ that matches none ends
 * FAILED with the list of these.
 */
const datasets: DatasetSpec[] = [
  {
    name: 'people',
    table: 'imported-rows',
    key: { partition: 'id' },
    columns: { id: 'string', name: 'string', email: 'string', age: 'number', active: 'boolean' },
    aliases: { 'E-mail': 'email', Email: 'email' },
    undeclared: 'keep',
    upsert: { mode: 'put' },
  },
  {
    // Debian's release table, as the distro-info-data package ships it (samples/debian-releases.csv).
    name: 'debian-releases',
    table: 'debian-releases',
    key: { partition: 'series' },
    columns: { version: 'string', codename: 'string', series: 'string', created: 'date', release: 'date', eol: 'date', 'eol-lts': 'date', 'eol-elts': 'date' },
    undeclared: 'reject',
    upsert: { mode: 'put' },
  },
];

export const baseStack: StackSpec = defineStack({
  buckets: [
    // Browsers upload straight to S3 with a presigned POST the api hands out.
    { name: 'uploads', cors: [{ allowedOrigins: dashboardOrigins, allowedMethods: ['POST'], allowedHeaders: ['*'], maxAgeSeconds: 3000 }] },
    { name: 'thumbnails' },
    { name: 'reports' },
  ],
  tables,
  datasets,
  topics: [
    { name: 'upload-notifications', inbox: true },
    { name: 'processing-alerts', inbox: true },
    { name: 'daily-reports', inbox: true },
  ],
  functions: [
    {
      name: 'thumbnail',
      description: 'Resizes images uploaded under images/ into the thumbnails bucket',
      timeoutSeconds: 60,
      memoryMb: 1024,
      environment: {
        PROCESSING_LOG_TABLE: table('processing-log').name('read-write'),
        THUMBNAIL_BUCKET: bucket('thumbnails').name('write'),
        THUMBNAIL_WIDTHS: '128,512,1024',
        THUMBNAIL_FORMAT: 'webp',
        MAX_INPUT_PIXELS: '50000000',
      },
      triggers: [
        // A few images per invocation: each takes up to a couple of seconds, well inside the timeout.
        { type: 's3', bucket: 'uploads', prefixes: [prefixes.images], batchSize: 5, maximumBatchingWindowInSeconds: 0, reportBatchItemFailures: true, maxReceiveCount: 3 },
      ],
      asyncInvoke,
    },
    {
      name: 'notify',
      description: 'Publishes every upload to the upload-notifications SNS topic',
      timeoutSeconds: 15,
      memoryMb: 256,
      environment: { TOPIC_ARN: topic('upload-notifications').arn() },
      // Every upload except the rejected-row reports csv-import writes back under reports/.
      triggers: [
        { type: 's3', bucket: 'uploads', prefixes: [prefixes.images, prefixes.imports], batchSize: 10, maximumBatchingWindowInSeconds: 0, reportBatchItemFailures: true, maxReceiveCount: 3 },
      ],
      asyncInvoke,
    },
    {
      name: 'csv-import',
      description: 'Imports CSV files uploaded under imports/<data set>/ into the data set\'s table',
      timeoutSeconds: 300,
      memoryMb: 512,
      environment: {
        PROCESSING_LOG_TABLE: table('processing-log').name('read-write'),
        ...datasetEnvironment(datasets, tables),
        REPORT_BUCKET: bucket('uploads').name('write', `${prefixes.reports}*`),
        REPORT_PREFIX: prefixes.reports,
      },
      // One file per invocation: an import can take minutes. Keys that are not .csv end FAILED
      // with a reason (an SNS filter cannot AND the prefix with a .csv suffix).
      triggers: [
        { type: 's3', bucket: 'uploads', prefixes: [prefixes.imports], batchSize: 1, maximumBatchingWindowInSeconds: 0, reportBatchItemFailures: true, maxReceiveCount: 3 },
      ],
      asyncInvoke,
    },
    {
      name: 'audit',
      description: 'Alerts on every FAILED processing-log record through the processing-alerts topic',
      timeoutSeconds: 30,
      memoryMb: 256,
      environment: { ALERTS_TOPIC_ARN: topic('processing-alerts').arn() },
      triggers: [
        {
          type: 'dynamodb-stream',
          table: 'processing-log',
          startingPosition: 'TRIM_HORIZON',
          batchSize: 10,
          maximumBatchingWindowInSeconds: 0,
          maximumRetryAttempts: 5,
          maximumRecordAgeInSeconds: -1,
          bisectBatchOnFunctionError: true,
          reportBatchItemFailures: true,
        },
      ],
      asyncInvoke,
    },
    {
      name: 'report',
      description: 'Writes the daily report (JSON and CSV) of the processing log and sends its summary',
      timeoutSeconds: 120,
      memoryMb: 512,
      environment: {
        PROCESSING_LOG_TABLE: table('processing-log').name('read'),
        PROCESSING_LOG_INDEX: BY_DAY_INDEX,
        REPORTS_BUCKET: bucket('reports').name('write', 'daily/*'),
        REPORT_PREFIX: 'daily/',
        REPORT_RUNS_TABLE: table('report-runs').name('read-write'),
        REPORT_TOPIC_ARN: topic('daily-reports').arn(),
        REPORT_PERIOD_HOURS: '24',
        REPORT_FUNCTIONS: 'thumbnail,csv-import',
      },
      // Every morning at 06:00 UTC, the report of the 24 hours before. A run that fails is retried
      // by the schedule, then lands in the function's DLQ.
      triggers: [{ type: 'schedule', expression: 'cron(0 6 * * ? *)', timezone: 'UTC', maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 }],
      asyncInvoke,
    },
    {
      name: 'api',
      description: 'The HTTP API and dashboard: presigned uploads, the processing log by time, alerts',
      timeoutSeconds: 15,
      memoryMb: 512,
      environment: {
        PROCESSING_LOG_TABLE: table('processing-log').name('read'),
        PROCESSING_LOG_INDEX: BY_DAY_INDEX,
        // Read: an upload's state (HEAD) and its rejected-rows report; writes only by presigned POST (grants).
        UPLOADS_BUCKET: bucket('uploads').name('read'),
        THUMBNAILS_BUCKET: bucket('thumbnails').name('read'),
        UPLOAD_DATASETS: datasets.map((d) => d.name).join(','),
        UPLOAD_MAX_IMAGE_BYTES: String(100 * 1024 * 1024),
        UPLOAD_MAX_CSV_BYTES: String(1024 * 1024 * 1024),
        URL_EXPIRES_SECONDS: '900',
      },
      // A presigned POST is S3 acting as the function: it may write exactly where uploads go.
      grants: [bucket('uploads').name('write', `${prefixes.images}*`), bucket('uploads').name('write', `${prefixes.imports}*`)],
      triggers: [],
      asyncInvoke,
      // Never open to the internet: callers sign with SigV4; a browser goes through the signing proxy.
      url: { authType: 'AWS_IAM', cors: { allowOrigins: dashboardOrigins, allowMethods: ['GET', 'POST'], allowHeaders: ['content-type'], maxAge: 300 } },
    },
  ],
});

/** The description as this process runs it: STACK_OVERRIDES (JSON) layered over it, when set. */
export const stack: StackSpec = overridesFromEnv(baseStack, process.env.STACK_OVERRIDES);
export const functions: FunctionSpec[] = stack.functions;
export const findFunction = (name: string): FunctionSpec | undefined => functions.find((f) => f.name === name);
