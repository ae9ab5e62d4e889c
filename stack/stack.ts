// The ONE declarative description of the local stack: which resources exist, which functions
// exist and what triggers them. scripts/bootstrap creates the resources from it, the local
// Lambda service (bridge/) runs the functions and event sources from it, and
// docker-compose.yml must list one service per function named here (a unit test checks).
// Adding a function = a folder under functions/<name>/ and one entry in `functions` below.

export const REGION = 'us-east-1';
/** LocalStack's default account id; on real AWS the ARNs come from your own account. */
export const ACCOUNT_ID = '000000000000';

export interface BucketSpec {
  name: string;
}

export interface TableSpec {
  name: string;
  partitionKey: string;
  sortKey?: string;
  /** Enables DynamoDB Streams with this view type. */
  stream?: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES';
}

export interface TopicSpec {
  name: string;
}

/** S3 ObjectCreated notifications delivered through the function's own SQS queue. */
export interface S3Trigger {
  type: 's3';
  bucket: string;
  prefix?: string;
  suffix?: string;
}

/** DynamoDB Streams on a table, polled like an event source mapping. */
export interface StreamTrigger {
  type: 'dynamodb-stream';
  table: string;
  batchSize: number;
  /** Report partial batch failures (ReportBatchItemFailures). */
  reportBatchItemFailures: boolean;
}

export type Trigger = S3Trigger | StreamTrigger;

export interface FunctionSpec {
  /** Folder name under functions/ and the Lambda function name. */
  name: string;
  description: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** Only the thumbnail function carries sharp (and its libvips) in its image. */
  usesSharp: boolean;
  environment: Record<string, string>;
  triggers: Trigger[];
}

const arn = (service: string, resource: string): string => `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${resource}`;

export const buckets = {
  uploads: { name: 'uploads' },
  thumbnails: { name: 'thumbnails' },
} satisfies Record<string, BucketSpec>;

export const tables = {
  processingLog: { name: 'processing-log', partitionKey: 'pk', sortKey: 'sk', stream: 'NEW_IMAGE' },
  importedRows: { name: 'imported-rows', partitionKey: 'id' },
} satisfies Record<string, TableSpec>;

export const topics = {
  uploads: { name: 'upload-notifications' },
  alerts: { name: 'processing-alerts' },
} satisfies Record<string, TopicSpec>;

export const topicArn = (topic: TopicSpec): string => arn('sns', topic.name);

/** Prefixes of the uploads bucket that trigger the pipelines. */
export const prefixes = {
  images: 'images/',
  imports: 'imports/',
  /** Rejected-row reports of csv-import: outside imports/ so a report never triggers an import. */
  reports: 'reports/',
} as const;

export const functions: FunctionSpec[] = [
  {
    name: 'thumbnail',
    description: 'Resizes images uploaded under images/ into the thumbnails bucket',
    timeoutSeconds: 60,
    memoryMb: 1024,
    usesSharp: true,
    environment: {
      PROCESSING_LOG_TABLE: tables.processingLog.name,
      THUMBNAIL_BUCKET: buckets.thumbnails.name,
      THUMBNAIL_WIDTHS: '128,512,1024',
      THUMBNAIL_FORMAT: 'webp',
      MAX_INPUT_PIXELS: '50000000',
    },
    triggers: [{ type: 's3', bucket: buckets.uploads.name, prefix: prefixes.images }],
  },
  {
    name: 'notify',
    description: 'Publishes every upload to the upload-notifications SNS topic',
    timeoutSeconds: 15,
    memoryMb: 256,
    usesSharp: false,
    environment: {
      TOPIC_ARN: topicArn(topics.uploads),
    },
    // Every upload except the rejected-row reports csv-import writes back.
    triggers: [
      { type: 's3', bucket: buckets.uploads.name, prefix: prefixes.images },
      { type: 's3', bucket: buckets.uploads.name, prefix: prefixes.imports },
    ],
  },
  {
    name: 'csv-import',
    description: 'Imports CSV files uploaded under imports/ into the imported-rows table',
    timeoutSeconds: 300,
    memoryMb: 512,
    usesSharp: false,
    environment: {
      PROCESSING_LOG_TABLE: tables.processingLog.name,
      IMPORT_TABLE: tables.importedRows.name,
      IMPORT_KEY_COLUMN: 'id',
      IMPORT_SCHEMA: 'id:string,name:string,email:string,age:number,active:boolean',
      REPORT_PREFIX: prefixes.reports,
    },
    triggers: [{ type: 's3', bucket: buckets.uploads.name, prefix: prefixes.imports, suffix: '.csv' }],
  },
  {
    name: 'audit',
    description: 'Alerts on every FAILED processing-log record through the processing-alerts topic',
    timeoutSeconds: 30,
    memoryMb: 256,
    usesSharp: false,
    environment: {
      ALERTS_TOPIC_ARN: topicArn(topics.alerts),
    },
    triggers: [{ type: 'dynamodb-stream', table: tables.processingLog.name, batchSize: 10, reportBatchItemFailures: true }],
  },
];

/** The SQS queue that carries a function's S3 notifications (S3 -> SQS -> local Lambda service). */
export const eventQueueName = (fn: FunctionSpec): string => `${fn.name}-events`;
/** The on-failure destination of a function's async invocations (AWS destination record format). */
export const dlqName = (fn: FunctionSpec): string => `${fn.name}-dlq`;

export const findFunction = (name: string): FunctionSpec | undefined => functions.find((f) => f.name === name);
