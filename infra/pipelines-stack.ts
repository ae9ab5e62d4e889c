// THE stack: everything the pipelines are, as one CloudFormation stack. `make synth` writes its
// template to cdk.out/; `make deploy` sends that file to AWS; `make up` deploys the very same file
// locally (LocalStack creates the resources, the local Lambda service runs the functions).
//
//   uploads bucket --ObjectCreated--> SNS topic --(key filter)--> one SQS queue per reader --> function
//     images/*  -> thumbnail -> thumbnails bucket + processing log
//     images/*, imports/*  -> notify -> SNS upload notifications
//     imports/<data set>/*.csv -> csv-import -> the data set's table (+ rejected rows under reports/)
//   processing log --DynamoDB Streams--> audit -> SNS processing alerts (one per FAILED item)
//   EventBridge Scheduler (daily) -> report -> reports bucket + SNS daily reports
//   Function URL (AWS_IAM) -> api: the dashboard, presigned uploads, status, alerts
// Each function's failures end in its own dead-letter queue.
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, TimeZone, Validations, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type { Construct } from 'constructs';
import type { FunctionSettings, PipelinesConfig } from './config';
import { BucketEvents } from './constructs/bucket-events';
import { BucketTrigger } from './constructs/bucket-trigger';
import { ErrorLineSubscriptions } from './constructs/error-lines';
import { FunctionAlarms } from './constructs/function-alarms';
import { PipelineFunction } from './constructs/pipeline-function';
import { TopicInbox } from './constructs/topic-inbox';
import type { PushedImage } from './images';

/** Prefixes of the uploads bucket that mean something to the pipelines. */
export const PREFIXES = {
  images: 'images/',
  imports: 'imports/',
  /** Rejected-row reports of csv-import: outside imports/ so a report never triggers an import. */
  reports: 'reports/',
} as const;

/** The processing log's index by UTC day: the report and the api list by time without a Scan. */
export const BY_DAY_INDEX = 'by-day';

/** S3's limit on a bucket name. */
const MAX_BUCKET_NAME = 63;
/** The longest `-<account>-<region>` a bucket name can end with (12 digits, the longest region names). */
const BUCKET_SUFFIX_MAX = 1 + 12 + 1 + 'ap-southeast-7'.length + 2;

export interface PipelinesStackProps extends StackProps {
  config: PipelinesConfig;
  /** The digests `make push` recorded, by function folder; a function without one gets a placeholder. */
  images?: Record<string, PushedImage>;
  /** A function's image and handler replaced (a suite's stand-in handler in a production image). */
  handlers?: Record<string, { image: string; command: string[] }>;
}

const pascal = (name: string): string =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');

export class PipelinesStack extends Stack {
  /** The pipelines' functions by folder name (functions/<name>/), for tests and for stacks built on this one. */
  readonly functions = new Map<string, PipelineFunction>();
  readonly uploads: s3.Bucket;
  readonly uploadEvents: BucketEvents;
  readonly processingLog: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: PipelinesStackProps) {
    super(scope, id, props);
    const { config } = props;
    // Server access logs delivered through a bucket policy, not the legacy LogDeliveryWrite ACL.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

    // Server access logs of every bucket go here (cdk-nag AwsSolutions-S1).
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
    });
    // Bucket names are fixed by the stack (not generated) so that a topic policy can name a bucket
    // before it exists: S3 checks that it may publish when its notification is created.
    const bucket = (name: string, extra: Partial<s3.BucketProps> = {}): { bucket: s3.Bucket; name: string } => {
      const literal = `${config.project}-${name}`;
      if (literal.length + BUCKET_SUFFIX_MAX > MAX_BUCKET_NAME) {
        throw new Error(`bucket "${name}": "${literal}-<account>-<region>" can be longer than S3's ${MAX_BUCKET_NAME} characters: shorten the project or the bucket name (at most ${MAX_BUCKET_NAME - BUCKET_SUFFIX_MAX} characters together)`);
      }
      const bucketName = `${literal}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
      const b = new s3.Bucket(this, pascal(name), {
        bucketName,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: `${name}/`,
        removalPolicy: RemovalPolicy.RETAIN,
        ...extra,
      });
      new CfnOutput(this, `${pascal(name)}BucketName`, { value: b.bucketName });
      return { bucket: b, name: bucketName };
    };
    const table = (id: string, partitionKey: string, extra: Partial<dynamodb.TablePropsV2> = {}): dynamodb.TableV2 => {
      const t = new dynamodb.TableV2(this, id, {
        partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
        billing: dynamodb.Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        removalPolicy: RemovalPolicy.RETAIN,
        ...extra,
      });
      new CfnOutput(this, `${id}Name`, { value: t.tableName });
      return t;
    };
    const inbox = (id: string): TopicInbox => {
      const t = new TopicInbox(this, id);
      new CfnOutput(this, `${id}TopicArn`, { value: t.topic.topicArn });
      new CfnOutput(this, `${id}InboxUrl`, { value: t.inbox.queueUrl, description: `An SQS queue subscribed to the ${id} topic, to read its messages` });
      return t;
    };
    const pipelineFunction = (code: string, description: string, settings: FunctionSettings, environment: Record<string, string>): PipelineFunction => {
      const handler = props.handlers?.[code];
      const image = handler ? undefined : props.images?.[code];
      const fn = new PipelineFunction(this, pascal(code), {
        code,
        project: config.project,
        description,
        timeoutSeconds: settings.timeoutSeconds,
        memoryMb: settings.memoryMb,
        ...(settings.reservedConcurrency !== undefined && { reservedConcurrency: settings.reservedConcurrency }),
        environment,
        logRetentionDays: config.logRetentionDays,
        ...(image && { image }),
        ...(handler && { repository: handler.image, command: handler.command }),
      });
      this.functions.set(code, fn);
      new CfnOutput(this, `${pascal(code)}FunctionName`, { value: fn.function.functionName, description: `${code}: ${description}` });
      new CfnOutput(this, `${pascal(code)}DeadLetterQueueUrl`, { value: fn.deadLetterQueue.queueUrl });
      return fn;
    };

    // ---- storage and topics
    const uploads = bucket('uploads', {
      // Browsers upload straight to S3 with a presigned POST the api hands out.
      cors: [{ allowedOrigins: config.dashboardOrigins, allowedMethods: [s3.HttpMethods.POST], allowedHeaders: ['*'], maxAge: 3000 }],
    });
    this.uploads = uploads.bucket;
    const thumbnails = bucket('thumbnails').bucket;
    const reports = bucket('reports').bucket;
    // by-day lists the log by time (the report, the api) without a Scan: partition = UTC date.
    this.processingLog = table('ProcessingLogTable', 'pk', {
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      dynamoStream: dynamodb.StreamViewType.NEW_IMAGE,
      globalSecondaryIndexes: [{ indexName: BY_DAY_INDEX, partitionKey: { name: 'day', type: dynamodb.AttributeType.STRING }, sortKey: { name: 'createdAt', type: dynamodb.AttributeType.STRING } }],
    });
    // One marker per report period: the summary of a day goes out once however often it runs.
    const reportRuns = table('ReportRunsTable', 'period');
    const notifications = inbox('UploadNotifications');
    const alerts = inbox('ProcessingAlerts');
    const dailyReports = inbox('DailyReports');
    this.uploadEvents = new BucketEvents(this, 'UploadEvents', { bucket: uploads.bucket, bucketName: uploads.name });
    const byDayGrant = (fn: PipelineFunction, table: dynamodb.TableV2) =>
      fn.acknowledge(`Resource::<${this.getLogicalId(table.node.defaultChild as dynamodb.CfnGlobalTable)}.Arn>/index/*`, `CDK's grant on a table covers its indexes (${fn.node.id} queries ${BY_DAY_INDEX} by name).`);
    const bucketGrant = (fn: PipelineFunction, b: s3.Bucket, keys: string, actions: string[]) => {
      fn.acknowledge(`Resource::<${this.getLogicalId(b.node.defaultChild as s3.CfnBucket)}.Arn>/${keys}`, `${fn.node.id} may touch the objects under ${keys} of this bucket, no other.`);
      for (const action of actions) fn.acknowledge(`Action::s3:${action}`, `CDK's grant on the bucket (its ${action} actions).`);
    };

    // ---- thumbnail: images/* -> resized WebP in the thumbnails bucket, a processing-log item each
    const t = config.thumbnail;
    const thumbnail = pipelineFunction('thumbnail', 'Resizes images uploaded under images/ into the thumbnails bucket', t, {
      PROCESSING_LOG_TABLE: this.processingLog.tableName,
      THUMBNAIL_BUCKET: thumbnails.bucketName,
      THUMBNAIL_WIDTHS: t.widths.join(','),
      THUMBNAIL_FORMAT: t.format,
      MAX_INPUT_PIXELS: String(t.maxInputPixels),
    });
    this.processingLog.grantReadWriteData(thumbnail.function);
    byDayGrant(thumbnail, this.processingLog);
    thumbnails.grantPut(thumbnail.function);
    bucketGrant(thumbnail, thumbnails, '*', ['Abort*']);
    this.bucketTrigger('Thumbnail', thumbnail, [PREFIXES.images], t);

    // ---- notify: every upload -> SNS with filterable attributes (not the reports csv-import writes back)
    const notify = pipelineFunction('notify', 'Publishes every upload to the upload-notifications SNS topic', config.notify, { TOPIC_ARN: notifications.topic.topicArn });
    notifications.topic.grantPublish(notify.function);
    this.bucketTrigger('Notify', notify, [PREFIXES.images, PREFIXES.imports], config.notify);

    // ---- csv-import: imports/<data set>/*.csv -> the data set's own table
    const c = config.csvImport;
    const datasetTables = c.datasets.map((d) => ({ dataset: d, table: table(`${pascal(d.name)}Table`, d.tableKey) }));
    const datasets = datasetTables.map(({ dataset: { tableKey, ...d }, table: tbl }) => ({ ...d, table: tbl.tableName, tableKeys: { partitionKey: tableKey } }));
    const csvImport = pipelineFunction('csv-import', "Imports CSV files uploaded under imports/<data set>/ into the data set's table", c, {
      PROCESSING_LOG_TABLE: this.processingLog.tableName,
      IMPORT_DATASETS: this.toJsonString(datasets),
      REPORT_BUCKET: uploads.bucket.bucketName,
      REPORT_PREFIX: PREFIXES.reports,
    });
    this.processingLog.grantReadWriteData(csvImport.function);
    byDayGrant(csvImport, this.processingLog);
    for (const { table: tbl } of datasetTables) tbl.grantWriteData(csvImport.function);
    uploads.bucket.grantPut(csvImport.function, `${PREFIXES.reports}*`);
    // A long import's report is stored in parts (one per checkpoint), put together and removed at the end.
    uploads.bucket.grantRead(csvImport.function, `${PREFIXES.reports}*`);
    uploads.bucket.grantDelete(csvImport.function, `${PREFIXES.reports}*`);
    bucketGrant(csvImport, uploads.bucket, `${PREFIXES.reports}*`, ['Abort*', 'GetObject*', 'GetBucket*', 'List*', 'DeleteObject*']);
    // One file per invocation; keys that are not .csv end FAILED with a reason (an SNS filter
    // cannot AND the prefix with a .csv suffix). An import that would outlast its invocation hands
    // the rest to its own queue (the same event again) and carries on from its checkpoint.
    const csvEvents = this.bucketTrigger('CsvImport', csvImport, [PREFIXES.imports], c);
    csvImport.function.addEnvironment('CONTINUATION_QUEUE_URL', csvEvents.queue.queueUrl);
    csvEvents.queue.grantSendMessages(csvImport.function);

    // ---- audit: the processing log's stream -> one SNS alert per FAILED item
    const a = config.audit;
    const audit = pipelineFunction('audit', 'Alerts on every FAILED processing-log record through the processing-alerts topic', a, { ALERTS_TOPIC_ARN: alerts.topic.topicArn });
    alerts.topic.grantPublish(audit.function);
    audit.function.addEventSource(
      new DynamoEventSource(this.processingLog, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: a.stream.batchSize,
        maxBatchingWindow: Duration.seconds(a.stream.maxBatchingWindowSeconds),
        retryAttempts: a.stream.retryAttempts,
        bisectBatchOnError: a.stream.bisectBatchOnError,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(audit.deadLetterQueue),
      }),
    );

    // ---- report: daily, the processing log of the period -> JSON + CSV and one SNS summary
    const r = config.report;
    const report = pipelineFunction('report', 'Writes the daily report (JSON and CSV) of the processing log and sends its summary', r, {
      PROCESSING_LOG_TABLE: this.processingLog.tableName,
      PROCESSING_LOG_INDEX: BY_DAY_INDEX,
      REPORTS_BUCKET: reports.bucketName,
      REPORT_PREFIX: 'daily/',
      REPORT_RUNS_TABLE: reportRuns.tableName,
      REPORT_TOPIC_ARN: dailyReports.topic.topicArn,
      REPORT_PERIOD_HOURS: String(r.periodHours),
      REPORT_FUNCTIONS: 'thumbnail,csv-import',
    });
    this.processingLog.grantReadData(report.function);
    byDayGrant(report, this.processingLog);
    reportRuns.grantReadWriteData(report.function);
    reports.grantPut(report.function, 'daily/*');
    bucketGrant(report, reports, 'daily/*', ['Abort*']);
    dailyReports.topic.grantPublish(report.function);
    this.schedule('Report', report, r.schedule);

    // ---- api: the dashboard and the HTTP API behind a Function URL only signed callers reach
    const p = config.api;
    const api = pipelineFunction('api', 'The HTTP API and dashboard: presigned uploads, the processing log by time, alerts', p, {
      PROCESSING_LOG_TABLE: this.processingLog.tableName,
      PROCESSING_LOG_INDEX: BY_DAY_INDEX,
      UPLOADS_BUCKET: uploads.bucket.bucketName,
      THUMBNAILS_BUCKET: thumbnails.bucketName,
      UPLOAD_DATASETS: c.datasets.map((d) => d.name).join(','),
      UPLOAD_MAX_IMAGE_BYTES: String(p.maxImageBytes),
      UPLOAD_MAX_CSV_BYTES: String(p.maxCsvBytes),
      URL_EXPIRES_SECONDS: String(p.urlExpiresSeconds),
    });
    this.processingLog.grantReadData(api.function);
    byDayGrant(api, this.processingLog);
    // Read: an upload's state (HEAD) and its rejected-rows report; thumbnails to presign.
    uploads.bucket.grantRead(api.function);
    thumbnails.grantRead(api.function);
    // A presigned POST is S3 acting as the function: it may write exactly where uploads go.
    for (const prefix of [PREFIXES.images, PREFIXES.imports]) {
      uploads.bucket.grantPut(api.function, `${prefix}*`);
      bucketGrant(api, uploads.bucket, `${prefix}*`, ['Abort*']);
    }
    bucketGrant(api, uploads.bucket, '*', ['GetObject*', 'GetBucket*', 'List*']);
    bucketGrant(api, thumbnails, '*', []);
    // Never open to the internet: callers sign with SigV4; a browser goes through the signing proxy.
    const url = api.function.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.AWS_IAM,
      cors: { allowedOrigins: config.dashboardOrigins, allowedMethods: [lambda.HttpMethod.GET, lambda.HttpMethod.POST], allowedHeaders: ['content-type'], maxAge: Duration.seconds(300) },
    });
    new CfnOutput(this, 'ApiFunctionUrl', { value: url.url, description: "The api's Function URL (AWS_IAM); browsers: the signing proxy (npx tsx local-lambda/signing-proxy.ts <this url>)" });

    // ---- alarms: every dead-letter queue, the errors of the functions named; state changes to a topic
    new FunctionAlarms(this, 'FunctionAlarms', { topic: inbox('Alarms').topic, functions: this.functions, ...config.alarms });
    // ---- every function's failed invocations, from its log, to audit (alerted on the processing-alerts topic)
    if (config.errorLineAlerts) new ErrorLineSubscriptions(this, 'ErrorLines', { functions: this.functions, destination: this.functions.get('audit')! });
  }

  /** A function fed by the uploads bucket's events under `prefixes` (a queue of its own, its DLQ). */
  bucketTrigger(id: string, target: PipelineFunction, prefixes: string[], settings: PipelinesConfig['notify']): BucketTrigger {
    const trigger = new BucketTrigger(this, `${id}Events`, { events: this.uploadEvents, target, prefixes, timeoutSeconds: settings.timeoutSeconds, ...settings.trigger });
    new CfnOutput(this, `${id}EventQueueUrl`, { value: trigger.queue.queueUrl });
    return trigger;
  }

  /** An EventBridge Scheduler schedule invoking `target` (asynchronously) with the scheduled-event shape. */
  private schedule(id: string, target: PipelineFunction, s: PipelinesConfig['report']['schedule']): void {
    // Its own role, as each function has: Scheduler may invoke this function and write to its DLQ.
    const role = new iam.Role(this, `${id}ScheduleRole`, {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: `Lets EventBridge Scheduler invoke ${target.node.id}`,
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(target.function.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
      reason: `The LambdaInvoke target's grant: ${target.node.id} and its versions, no other function.`,
    });
    new scheduler.Schedule(this, `${id}Schedule`, {
      description: `${s.expression} ${s.timezone} -> ${target.node.id}`,
      schedule: scheduler.ScheduleExpression.expression(s.expression, TimeZone.of(s.timezone)),
      target: new schedulerTargets.LambdaInvoke(target.function, {
        role,
        retryAttempts: s.retryAttempts,
        maxEventAge: Duration.seconds(s.maxEventAgeSeconds),
        deadLetterQueue: target.deadLetterQueue,
        // The event EventBridge Scheduler's console sends, with its context attributes where runs differ.
        input: scheduler.ScheduleTargetInput.fromObject({
          version: '0',
          id: scheduler.ContextAttribute.executionId,
          'detail-type': 'Scheduled Event',
          source: 'aws.scheduler',
          account: Aws.ACCOUNT_ID,
          time: scheduler.ContextAttribute.scheduledTime,
          region: Aws.REGION,
          resources: [scheduler.ContextAttribute.scheduleArn],
          detail: {},
        }),
      }),
    });
  }
}
