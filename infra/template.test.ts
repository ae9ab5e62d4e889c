// The synthesized CloudFormation template, resource by resource: what each function may touch, how
// each is triggered, where its failures go. This is the file `cdk deploy` sends to AWS and the local
// run deploys.
import { Match, Template } from 'aws-cdk-lib/assertions';
import { App } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { buildApp, scratchOutdir } from './app';
import { defaultConfig, testConfig, withChanges } from './config';
import { PLACEHOLDER_DIGEST } from './constructs/pipeline-function';
import { PipelinesStack } from './pipelines-stack';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const images = { thumbnail: { repository: 'lambda-pipelines/thumbnail', digest: DIGEST, registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', tag: 'abc' } };
const stack = new PipelinesStack(new App({ analyticsReporting: false }), 'Test', { config: defaultConfig, images });
const template = Template.fromStack(stack);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: any }>;
const idOf = (type: string, prefix: string) => {
  const ids = Object.keys(resources).filter((id) => resources[id]!.Type === type && id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
};
const fnId = (code: string) => idOf('AWS::Lambda::Function', code);

/** The statements of a role's policy, as `action -> resources`. */
function permissions(rolePrefix: string): Record<string, string[]> {
  const role = idOf('AWS::IAM::Role', rolePrefix);
  const policy = Object.values(resources).find((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: { Ref: string }) => x.Ref === role))!;
  const out: Record<string, string[]> = {};
  for (const s of policy.Properties.PolicyDocument.Statement) {
    const targets = [s.Resource].flat().map((r: unknown) => JSON.stringify(r).replace(/"/g, ''));
    for (const action of [s.Action].flat()) out[action] = [...(out[action] ?? []), ...targets].sort();
  }
  return out;
}

describe('the CloudFormation template', () => {
  it('has one container-image function per function folder, pinned to the pushed digest (a placeholder until pushed)', () => {
    template.resourceCountIs('AWS::Lambda::Function', 6);
    template.hasResourceProperties('AWS::Lambda::Function', {
      PackageType: 'Image',
      Code: { ImageUri: { 'Fn::Join': ['', Match.arrayWith([`/lambda-pipelines/thumbnail@${DIGEST}`])] } },
      Timeout: 60,
      MemorySize: 1024,
      Architectures: ['x86_64'],
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Code: { ImageUri: { 'Fn::Join': ['', Match.arrayWith([`/lambda-pipelines/notify@${PLACEHOLDER_DIGEST}`])] } } });
  });

  it('subscribes each reader queue to the upload topic with raw delivery and a body filter on the key', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      RawMessageDelivery: true,
      FilterPolicyScope: 'MessageBody',
      FilterPolicy: { Records: { s3: { object: { key: [{ prefix: 'images/' }, { prefix: 'imports/' }] } } } },
      Endpoint: { 'Fn::GetAtt': [idOf('AWS::SQS::Queue', 'NotifyEvents'), 'Arn'] },
    });
  });

  it('notifies the topic from the uploads bucket with non-overlapping prefix rules, allowed by the topic policy', () => {
    const topic = { Ref: idOf('AWS::SNS::Topic', 'UploadEvents') };
    template.hasResourceProperties('AWS::S3::Bucket', {
      NotificationConfiguration: {
        TopicConfigurations: [
          { Event: 's3:ObjectCreated:*', Topic: topic, Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'images/' }] } } },
          { Event: 's3:ObjectCreated:*', Topic: topic, Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'imports/' }] } } },
        ],
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 's3.amazonaws.com' }, Action: 'sns:Publish', Condition: Match.objectLike({ ArnLike: Match.anyValue() }) })]) },
    });
    // No CDK custom resource (a Lambda) to manage notifications.
    expect(Object.values(resources).some((r) => r.Type === 'Custom::S3BucketNotifications')).toBe(false);
  });

  it("redrives each event queue to its function's DLQ, with a visibility timeout six times the function timeout", () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [idOf('AWS::SQS::Queue', 'ThumbnailDeadLetterQueue'), 'Arn'] }, maxReceiveCount: 3 },
      SqsManagedSseEnabled: true,
    });
  });

  it('maps the SQS queues and the stream with their settings and failure destinations', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId('Thumbnail') },
      EventSourceArn: { 'Fn::GetAtt': [idOf('AWS::SQS::Queue', 'ThumbnailEvents'), 'Arn'] },
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId('Audit') },
      EventSourceArn: { 'Fn::GetAtt': [idOf('AWS::DynamoDB::GlobalTable', 'ProcessingLog'), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      MaximumRetryAttempts: 5,
      BisectBatchOnFunctionError: true,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [idOf('AWS::SQS::Queue', 'AuditDeadLetterQueue'), 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [idOf('AWS::SQS::Queue', 'CsvImportDeadLetterQueue'), 'Arn'] } } } });
  });

  it('grants each function exactly what it uses', () => {
    const ga = (id: string, attribute = 'Arn') => `{Fn::GetAtt:[${id},${attribute}]}`;
    const under = (id: string, keys: string) => `{Fn::Join:[,[${ga(id)},/${keys}]]}`;
    const uploads = idOf('AWS::S3::Bucket', 'Uploads');
    const log = idOf('AWS::DynamoDB::GlobalTable', 'ProcessingLog');
    const processingLog = [ga(log), `{Fn::Join:[,[${ga(log)},/index/*]]}`];

    const thumbnail = permissions('ThumbnailRole');
    expect(thumbnail['s3:GetObject*']).toEqual([ga(uploads), under(uploads, 'images/*')]);
    expect(thumbnail['s3:PutObject']).toEqual([under(idOf('AWS::S3::Bucket', 'Thumbnails'), '*')]);
    expect(thumbnail['dynamodb:PutItem']).toEqual(processingLog);
    expect(thumbnail['sns:Publish']).toBeUndefined();
    expect(thumbnail['sqs:ReceiveMessage']).toEqual([ga(idOf('AWS::SQS::Queue', 'ThumbnailEvents'))]);

    const csv = permissions('CsvImportRole');
    expect(csv['s3:PutObject']).toEqual([under(uploads, 'reports/*')]);
    expect(csv['dynamodb:BatchWriteItem']).toEqual([ga(idOf('AWS::DynamoDB::GlobalTable', 'DebianReleasesTable')), ga(idOf('AWS::DynamoDB::GlobalTable', 'PeopleTable')), ...processingLog].sort());

    const notify = permissions('NotifyRole');
    expect(notify['sns:Publish']).toEqual([`{Ref:${idOf('AWS::SNS::Topic', 'UploadNotifications')}}`]);
    expect(Object.keys(notify).filter((a) => a.startsWith('dynamodb:'))).toEqual([]);

    const audit = permissions('AuditRole');
    expect(audit['sns:Publish']).toEqual([`{Ref:${idOf('AWS::SNS::Topic', 'ProcessingAlerts')}}`]);
    expect(audit['dynamodb:GetRecords']).toEqual([ga(log, 'StreamArn')]);
    expect(audit['sqs:SendMessage']).toEqual([ga(idOf('AWS::SQS::Queue', 'AuditDeadLetterQueue'))]);
    expect(Object.keys(audit).some((a) => a.startsWith('s3:'))).toBe(false);

    // report: reads the log (no write), writes only under daily/ of the reports bucket.
    const report = permissions('ReportRole');
    expect(report['dynamodb:Query']).toEqual(expect.arrayContaining(processingLog));
    expect(report['dynamodb:PutItem']).toEqual([ga(idOf('AWS::DynamoDB::GlobalTable', 'ReportRuns'))]);
    expect(report['s3:PutObject']).toEqual([under(idOf('AWS::S3::Bucket', 'Reports'), 'daily/*')]);
  });

  it('gives the api a Function URL that only signed callers reach, and the upload keys it presigns for', () => {
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [fnId('Api'), 'Arn'] },
      Cors: { AllowOrigins: ['http://127.0.0.1:9080', 'http://localhost:9080'], AllowMethods: ['GET', 'POST'] },
    });
    template.resourcePropertiesCountIs('AWS::Lambda::Permission', { FunctionUrlAuthType: 'NONE' }, 0);
    const uploads = idOf('AWS::S3::Bucket', 'Uploads');
    const api = permissions('ApiRole');
    expect(api['s3:PutObject']).toEqual([`{Fn::Join:[,[{Fn::GetAtt:[${uploads},Arn]},/images/*]]}`, `{Fn::Join:[,[{Fn::GetAtt:[${uploads},Arn]},/imports/*]]}`]);
    expect(api['dynamodb:PutItem']).toBeUndefined();
  });

  it("runs the report on an EventBridge Scheduler schedule, with a retry policy and the function's DLQ", () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': [fnId('Report'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [idOf('AWS::SQS::Queue', 'ReportDeadLetterQueue'), 'Arn'] } },
        Input: Match.anyValue(),
      },
    });
    expect(permissions('ReportScheduleRole')['lambda:InvokeFunction']).toEqual([`{Fn::GetAtt:[${fnId('Report')},Arn]}`, `{Fn::Join:[,[{Fn::GetAtt:[${fnId('Report')},Arn]},:*]]}`]);
  });

  it("uses no AWS managed policy: logs go to each function's own log group with a retention", () => {
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('alarms on every dead-letter queue and on thumbnail errors, each change of state to the Alarms topic', () => {
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').map((r) => r.Properties);
    const topic = { Ref: idOf('AWS::SNS::Topic', 'AlarmsTopic') };
    const dlq = alarms.filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible');
    expect(dlq).toHaveLength(6);
    const queues = Object.keys(resources).filter((id) => resources[id]!.Type === 'AWS::SQS::Queue' && /DeadLetterQueue[0-9A-F]{8}$/.test(id));
    expect(dlq.map((a) => a.Dimensions[0].Value['Fn::GetAtt'][0]).sort()).toEqual(queues.sort());
    for (const a of dlq) expect(a).toMatchObject({ Namespace: 'AWS/SQS', Statistic: 'Maximum', Threshold: 1, Period: 60, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching', AlarmActions: [topic], OKActions: [topic] });
    const errors = alarms.filter((a) => a.MetricName === 'Errors');
    expect(errors).toEqual([expect.objectContaining({ Namespace: 'AWS/Lambda', Statistic: 'Sum', Threshold: 3, Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId('Thumbnail') } }], AlarmActions: [topic], OKActions: [topic] })]);
  });

  it('outputs the names a user needs: buckets, tables, queues, functions, the URL', () => {
    expect(Object.keys(template.toJSON().Outputs)).toEqual(
      expect.arrayContaining(['UploadsBucketName', 'ProcessingLogTableName', 'PeopleTableName', 'ThumbnailFunctionName', 'ThumbnailEventQueueUrl', 'ThumbnailDeadLetterQueueUrl', 'UploadNotificationsInboxUrl', 'AlarmsInboxUrl', 'ApiFunctionUrl']),
    );
  });

  it('is another stack with other settings, never another description: the test stack shortens timeouts', () => {
    const test = Template.fromStack(new PipelinesStack(new App({ analyticsReporting: false }), 'T', { config: testConfig({ notify: { trigger: { maxReceiveCount: 2 } } }) }));
    test.hasResourceProperties('AWS::Lambda::Function', { Timeout: 5, MemorySize: 256, Code: { ImageUri: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/notify@')])] } } });
    test.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 10, RedrivePolicy: Match.objectLike({ maxReceiveCount: 2 }) });
  });

  it('refuses at synth what AWS would refuse at deploy, with a sentence', () => {
    expect(() => new PipelinesStack(new App(), 'Long', { config: withChanges(defaultConfig, { project: 'a-project-name-that-is-far-too-long' }) })).toThrow(/bucket "uploads": .* can be longer than S3's 63 characters/);
    expect(() => new PipelinesStack(new App(), 'Vis', { config: withChanges(defaultConfig, { notify: { trigger: { visibilityTimeoutSeconds: 5 } } }) })).toThrow(/visibilityTimeoutSeconds 5 is shorter than the function timeout \(15 s\)/);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the stack', () => {
    expect(() => buildApp({ images: {}, outdir: scratchOutdir() }).app.synth()).not.toThrow();
  });

  it('does run: a queue without SSL enforcement or DLQ fails the synth', () => {
    const { app, pipelines } = buildApp({ images: {}, outdir: scratchOutdir() });
    new sqs.Queue(pipelines, 'Unguarded');
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});
