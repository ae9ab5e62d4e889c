// One model, two renderings: the local run (bootstrap's plan, compose's containers, the local Lambda
// service's mappings) and the CloudFormation template must create the same topology. Any difference
// in queues, filters, DLQs, retries, batch sizes, timeouts, memory or environment fails here.
import { baseStack } from '#stack';
import { localPlan } from '#stack/local';
import { withOverrides, type StackSpec } from '#stack/model';
import { topology } from '#stack/topology';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { servicePlan } from '../bridge/service-plan';
import { composeDocument } from '../scripts/generate-compose';
import { localShape, templateShape, type Shape } from './parity';
import { PipelinesStack } from './pipelines-stack';

const namesOf = (spec: StackSpec) => {
  const t = topology(spec);
  return { buckets: t.buckets.map((b) => b.name), tables: t.tables.map((x) => x.name), topics: t.topics.map((x) => x.name), queues: t.queues.map((q) => q.name), functions: t.functions.map((f) => f.name), schedules: t.schedules.map((s) => s.name) };
};

function renderings(spec: StackSpec): { local: Shape; aws: Shape; template: Record<string, any> } {
  const t = topology(spec);
  const app = new App();
  const template = Template.fromStack(new PipelinesStack(app, 'Parity', { spec, project: 'lambda-pipelines', images: {} })).toJSON();
  const names = namesOf(spec);
  return { local: localShape(localPlan(t), servicePlan(spec), composeDocument(spec) as { services: Record<string, any> }), aws: templateShape(template as Parameters<typeof templateShape>[0], names), template };
}

describe('parity: the local run and the CloudFormation template', () => {
  it('create the same topology from stack/stack.ts', () => {
    const { local, aws } = renderings(baseStack);
    expect(aws).toEqual(local);
    // Not an empty comparison: the shapes hold the whole wiring.
    expect(Object.keys(local.mappings)).toHaveLength(4);
    expect(local.subscriptions).toHaveLength(6);
    expect(Object.keys(local.queues)).toHaveLength(12);
    expect(local.urls).toEqual({ api: { authType: 'AWS_IAM', cors: expect.objectContaining({ AllowOrigins: ['http://127.0.0.1:9080', 'http://localhost:9080'] }) } });
    expect(local.bucketCors.uploads).toEqual([expect.objectContaining({ AllowedMethods: ['POST'] })]);
    expect(local.schedules['report-schedule']).toMatchObject({ function: 'report', expression: 'cron(0 6 * * ? *)', timezone: 'UTC', deadLetterQueue: 'report-dlq' });
  });

  it('create the same topology from a test stack (short timeouts, fewer receives)', () => {
    const spec = withOverrides(baseStack, { functions: { notify: { timeoutSeconds: 3, triggers: [{ maxReceiveCount: 2, batchSize: 4 }] }, audit: { triggers: [{ maximumRetryAttempts: 1 }] } } });
    const { local, aws } = renderings(spec);
    expect(aws).toEqual(local);
    expect(local.queues['notify-events']).toEqual({ visibilityTimeoutSeconds: 18, retentionSeconds: 345_600, deadLetterQueue: 'notify-dlq', maxReceiveCount: 2 });
  });

  it('has nothing on AWS beyond the stack description but the access-log bucket', () => {
    const { template, aws } = renderings(baseStack);
    const count = (type: string) => Object.values(template.Resources as Record<string, { Type: string }>).filter((r) => r.Type === type).length;
    expect(count('AWS::SQS::Queue')).toBe(Object.keys(aws.queues).length);
    expect(count('AWS::SNS::Topic')).toBe(aws.topics.length);
    expect(count('AWS::Lambda::Function')).toBe(Object.keys(aws.functions).length);
    expect(count('AWS::DynamoDB::GlobalTable')).toBe(Object.keys(aws.tables).length);
    expect(count('AWS::Scheduler::Schedule')).toBe(Object.keys(aws.schedules).length);
    expect(count('AWS::S3::Bucket')).toBe(aws.buckets.length + 1);
  });

  it('catches a difference: a mapping whose batch size differs on one side', () => {
    const { local, template } = renderings(baseStack);
    const esm = Object.values(template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>).find(
      (r) => r.Type === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(r.Properties.FunctionName).includes('FunctionNotify'),
    )!;
    esm.Properties.BatchSize = 7;
    const aws = templateShape(template as never, namesOf(baseStack));
    expect(aws.mappings['notify <- queue:notify-events']).not.toEqual(local.mappings['notify <- queue:notify-events']);
  });

  it('catches a difference: a Function URL open to anyone on one side', () => {
    const { local, template } = renderings(baseStack);
    const url = Object.values(template.Resources as Record<string, { Type: string; Properties: any }>).find((r) => r.Type === 'AWS::Lambda::Url')!;
    url.Properties.AuthType = 'NONE';
    const aws = templateShape(template as never, namesOf(baseStack));
    expect(aws.urls.api).not.toEqual(local.urls.api);
  });

  it('catches a difference: a schedule whose retry policy or event differs on one side', () => {
    const { local, template } = renderings(baseStack);
    const schedule = Object.values(template.Resources as Record<string, { Type: string; Properties: any }>).find((r) => r.Type === 'AWS::Scheduler::Schedule')!;
    schedule.Properties.Target.RetryPolicy.MaximumRetryAttempts = 4;
    schedule.Properties.Target.Input['Fn::Join'][1][0] = schedule.Properties.Target.Input['Fn::Join'][1][0].replace('Scheduled Event', 'Scheduled event');
    const aws = templateShape(template as never, namesOf(baseStack));
    expect(aws.schedules['report-schedule']).not.toEqual(local.schedules['report-schedule']);
    expect(aws.schedules['report-schedule']!.maximumRetryAttempts).toBe(4);
    expect((aws.schedules['report-schedule']!.input as Record<string, string>)['detail-type']).toBe('Scheduled event');
  });
});
