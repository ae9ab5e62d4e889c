// The synthesized CloudFormation template, resource by resource: what each function may touch, how
// each is triggered, where its failures go.
import { Match, Template } from 'aws-cdk-lib/assertions';
import { App } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { baseStack } from '#stack';
import { buildApp } from './app';
import { PipelinesStack, PLACEHOLDER_DIGEST } from './pipelines-stack';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const images = { thumbnail: { repository: 'lambda-pipelines/thumbnail', digest: DIGEST, registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', tag: 'abc' } };
const template = Template.fromStack(new PipelinesStack(new App(), 'Test', { spec: baseStack, project: 'lambda-pipelines', images }));
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: any }>;

/** The statements of a function's role policy, as `action -> resources`. */
function permissions(fn: string): Record<string, string[]> {
  const role = Object.keys(resources).find((id) => id.startsWith(`Role${fn}`) && resources[id]!.Type === 'AWS::IAM::Role')!;
  const policy = Object.values(resources).find((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: { Ref: string }) => x.Ref === role))!;
  const out: Record<string, string[]> = {};
  for (const s of policy.Properties.PolicyDocument.Statement) {
    const targets = [s.Resource].flat().map((r: unknown) => JSON.stringify(r).replace(/"/g, ''));
    for (const action of [s.Action].flat()) out[action] = [...(out[action] ?? []), ...targets].sort();
  }
  return out;
}

describe('the CloudFormation template', () => {
  it('has one container-image function per function, pinned to the pushed digest (a placeholder until pushed)', () => {
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

  it('subscribes each function queue to the upload topic with raw delivery and a body filter on the key', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      RawMessageDelivery: true,
      FilterPolicyScope: 'MessageBody',
      FilterPolicy: { Records: { s3: { object: { key: [{ prefix: 'images/' }, { prefix: 'imports/' }] } } } },
      Endpoint: { 'Fn::GetAtt': ['QueueNotifyEvents', 'Arn'] },
      TopicArn: { Ref: 'TopicUploadsObjectCreated' },
    });
  });

  it('notifies the topic from the uploads bucket with non-overlapping prefix rules, allowed by the topic policy', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      NotificationConfiguration: {
        TopicConfigurations: [
          { Event: 's3:ObjectCreated:*', Topic: { Ref: 'TopicUploadsObjectCreated' }, Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'images/' }] } } },
          { Event: 's3:ObjectCreated:*', Topic: { Ref: 'TopicUploadsObjectCreated' }, Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'imports/' }] } } },
        ],
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 's3.amazonaws.com' }, Action: 'sns:Publish', Condition: Match.objectLike({ ArnLike: Match.anyValue() }) })]) },
    });
    // No CDK custom resource (a Lambda) to manage notifications.
    expect(Object.values(resources).some((r) => r.Type === 'Custom::S3BucketNotifications')).toBe(false);
  });

  it('redrives each event queue to its function DLQ, with a visibility timeout six times the function timeout', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['QueueThumbnailDlq', 'Arn'] }, maxReceiveCount: 3 },
      SqsManagedSseEnabled: true,
    });
  });

  it('maps the SQS queues and the stream with AWS settings and failure destinations', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: 'FunctionThumbnail' },
      EventSourceArn: { 'Fn::GetAtt': ['QueueThumbnailEvents', 'Arn'] },
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: 'FunctionAudit' },
      EventSourceArn: { 'Fn::GetAtt': ['TableProcessingLog', 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      MaximumRetryAttempts: 5,
      BisectBatchOnFunctionError: true,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['QueueAuditDlq', 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['QueueCsvImportDlq', 'Arn'] } } } });
  });

  it('grants each function exactly what its configuration names', () => {
    const thumbnail = permissions('Thumbnail');
    // CDK's read grant: the objects under images/ and the bucket itself (listing).
    expect(thumbnail['s3:GetObject*']).toEqual(['{Fn::GetAtt:[BucketUploads,Arn]}', '{Fn::Join:[,[{Fn::GetAtt:[BucketUploads,Arn]},/images/*]]}']);
    expect(thumbnail['s3:PutObject']).toEqual(['{Fn::Join:[,[{Fn::GetAtt:[BucketThumbnails,Arn]},/*]]}']);
    // The processing log's grant covers its by-day index too (CDK's table grants include the indexes).
    const processingLog = ['{Fn::GetAtt:[TableProcessingLog,Arn]}', '{Fn::Join:[,[{Fn::GetAtt:[TableProcessingLog,Arn]},/index/*]]}'];
    expect(thumbnail['dynamodb:PutItem']).toEqual(processingLog);
    expect(thumbnail['dynamodb:GetItem']).toEqual(processingLog);
    expect(thumbnail['sns:Publish']).toBeUndefined();
    expect(thumbnail['sqs:ReceiveMessage']).toEqual(['{Fn::GetAtt:[QueueThumbnailEvents,Arn]}']);

    const csv = permissions('CsvImport');
    expect(csv['s3:PutObject']).toEqual(['{Fn::Join:[,[{Fn::GetAtt:[BucketUploads,Arn]},/reports/*]]}']);
    expect(csv['dynamodb:BatchWriteItem']).toEqual(['{Fn::GetAtt:[TableDebianReleases,Arn]}', '{Fn::GetAtt:[TableImportedRows,Arn]}', ...processingLog]);
    expect(csv['dynamodb:Scan']).toEqual(processingLog);

    const notify = permissions('Notify');
    expect(notify['sns:Publish']).toEqual(['{Ref:TopicUploadNotifications}']);
    expect(Object.keys(notify).filter((a) => a.startsWith('dynamodb:'))).toEqual([]);

    const audit = permissions('Audit');
    expect(audit['sns:Publish']).toEqual(['{Ref:TopicProcessingAlerts}']);
    expect(audit['dynamodb:GetRecords']).toEqual(['{Fn::GetAtt:[TableProcessingLog,StreamArn]}']);
    expect(audit['sqs:SendMessage']).toEqual(['{Fn::GetAtt:[QueueAuditDlq,Arn]}']);
    expect(Object.keys(audit).some((a) => a.startsWith('s3:'))).toBe(false);

    // report: reads the log (no write), writes only under daily/ of the reports bucket.
    const report = permissions('Report');
    expect(report['dynamodb:Query']).toEqual(expect.arrayContaining(processingLog));
    expect(report['dynamodb:PutItem']).toEqual(['{Fn::GetAtt:[TableReportRuns,Arn]}']);
    expect(report['s3:PutObject']).toEqual(['{Fn::Join:[,[{Fn::GetAtt:[BucketReports,Arn]},/daily/*]]}']);
    expect(report['sns:Publish']).toEqual(['{Ref:TopicDailyReports}']);
  });

  it('gives the api a Function URL that only signed callers reach, and the upload keys it presigns for', () => {
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': ['FunctionApi', 'Arn'] },
      Cors: { AllowOrigins: ['http://127.0.0.1:9080', 'http://localhost:9080'], AllowMethods: ['GET', 'POST'] },
    });
    // No resource policy opening it: a NONE URL would need lambda:InvokeFunctionUrl for "*".
    template.resourcePropertiesCountIs('AWS::Lambda::Permission', { FunctionUrlAuthType: 'NONE' }, 0);
    const api = permissions('Api');
    expect(api['s3:PutObject']).toEqual(['{Fn::Join:[,[{Fn::GetAtt:[BucketUploads,Arn]},/images/*]]}', '{Fn::Join:[,[{Fn::GetAtt:[BucketUploads,Arn]},/imports/*]]}']);
    expect(api['dynamodb:PutItem']).toBeUndefined();
    template.hasResourceProperties('AWS::S3::Bucket', { CorsConfiguration: { CorsRules: [{ AllowedMethods: ['POST'], AllowedOrigins: ['http://127.0.0.1:9080', 'http://localhost:9080'] }] } });
  });

  it('runs the report on an EventBridge Scheduler schedule, with a retry policy and the function\'s DLQ', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': ['FunctionReport', 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['QueueReportDlq', 'Arn'] } },
        Input: Match.anyValue(),
      },
    });
    const role = permissions('ReportSchedule');
    expect(role['lambda:InvokeFunction']).toEqual(['{Fn::GetAtt:[FunctionReport,Arn]}', '{Fn::Join:[,[{Fn::GetAtt:[FunctionReport,Arn]},:*]]}']);
    expect(role['sqs:SendMessage']).toEqual(['{Fn::GetAtt:[QueueReportDlq,Arn]}']);
  });

  it('uses no AWS managed policy: logs go to each function\'s own log group with a retention', () => {
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('outputs the name of every function', () => {
    expect(Object.keys(template.toJSON().Outputs)).toEqual(expect.arrayContaining(['ThumbnailFunctionName', 'NotifyFunctionName', 'CsvImportFunctionName', 'AuditFunctionName']));
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the stack', () => {
    expect(() => buildApp({}).app.synth()).not.toThrow();
  });

  it('does run: a queue without SSL enforcement or DLQ fails the synth', () => {
    const { app, pipelines } = buildApp({});
    new sqs.Queue(pipelines, 'Unguarded');
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});
