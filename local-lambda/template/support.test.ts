// The "nothing ignored" check on the app's own templates, and on templates a user could write.
import { Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { buildApp, scratchOutdir, synthesize } from '../../infra/app';
import { defaultConfig, testConfig } from '../../infra/config';
import { SUPPORT, unsupportedParts } from './support';
import type { CfnTemplate } from './template';

const synth = (config = defaultConfig, extend?: (stack: Stack) => void): CfnTemplate => {
  const built = buildApp({ config, images: {}, outdir: scratchOutdir() });
  extend?.(built.pipelines);
  return synthesize(built) as unknown as CfnTemplate;
};

describe('what the local run does with every part of a template', () => {
  let template: CfnTemplate;
  beforeAll(() => {
    template = synth();
  });

  it('implements every resource type and property of the stack, and of the test stack', () => {
    expect(unsupportedParts(template)).toEqual([]);
    expect(unsupportedParts(synth(testConfig()))).toEqual([]);
    // Not an empty check: the template holds both owners' resources.
    const types = new Set(Object.values(template.Resources).map((r) => r.Type));
    expect([...types].filter((t) => SUPPORT[t]!.owner === 'local-lambda').sort()).toEqual([
      'AWS::Lambda::EventInvokeConfig',
      'AWS::Lambda::EventSourceMapping',
      'AWS::Lambda::Function',
      'AWS::Lambda::Permission',
      'AWS::Lambda::Url',
      'AWS::Logs::SubscriptionFilter',
      'AWS::Scheduler::Schedule',
    ]);
    expect(types.has('AWS::DynamoDB::GlobalTable') && types.has('AWS::S3::Bucket')).toBe(true);
  });

  it('names a property the local side does not implement, added to a function', () => {
    const broken = structuredClone(template);
    const fn = Object.values(broken.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
    fn.Properties!.VpcConfig = { SubnetIds: ['subnet-1'], SecurityGroupIds: ['sg-1'] };
    const id = Object.entries(broken.Resources).find(([, r]) => r === fn)![0];
    expect(unsupportedParts(broken)).toEqual([`Resources.${id} (AWS::Lambda::Function): the property VpcConfig is not implemented locally`]);
  });

  it('names a resource type neither LocalStack nor the local service creates', () => {
    const withApi: CfnTemplate = { ...template, Resources: { ...template.Resources, Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'api' } } } };
    expect(unsupportedParts(withApi)).toEqual([
      "Resources.Api (AWS::ApiGateway::RestApi): the resource type AWS::ApiGateway::RestApi is not implemented locally (neither LocalStack's CloudFormation nor the local Lambda service creates it)",
    ]);
  });

  it('refuses what LocalStack would drop without a word: a Lambda bucket notification, an SQS filter on a mapping, a provisioned global table', () => {
    const broken = structuredClone(template);
    const [bucketId, bucket] = Object.entries(broken.Resources).find(([, r]) => r.Type === 'AWS::S3::Bucket' && (r.Properties?.NotificationConfiguration as object | undefined))!;
    (bucket.Properties!.NotificationConfiguration as Record<string, unknown>).LambdaConfigurations = [{ Event: 's3:ObjectCreated:*', Function: 'arn' }];
    const [mappingId, mapping] = Object.entries(broken.Resources).find(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping')!;
    mapping.Properties!.FilterCriteria = { Filters: [{ Pattern: '{}' }] };
    const [tableId, table] = Object.entries(broken.Resources).find(([, r]) => r.Type === 'AWS::DynamoDB::GlobalTable')!;
    table.Properties!.BillingMode = 'PROVISIONED';
    expect(unsupportedParts(broken).sort()).toEqual(
      [
        `Resources.${bucketId} (AWS::S3::Bucket): NotificationConfiguration.LambdaConfigurations is not supported locally: S3 would invoke a function LocalStack does not run; send the events to SNS or SQS (as the pipelines do) and map the queue to the function`,
        `Resources.${mappingId} (AWS::Lambda::EventSourceMapping): the property FilterCriteria is not implemented locally`,
        `Resources.${tableId} (AWS::DynamoDB::GlobalTable): BillingMode PROVISIONED is not supported locally: LocalStack creates global tables without throughput (use on-demand billing)`,
      ].sort(),
    );
  });

  it("leaves out CDK's bootstrap check by name, and refuses other rules, macros and parameters it cannot give a value", () => {
    expect(template.Parameters?.BootstrapVersion).toBeDefined();
    const broken: CfnTemplate = { ...template, Transform: 'AWS::Serverless-2016-10-31', Rules: { ...template.Rules, Mine: {} }, Parameters: { ...template.Parameters, Size: { Type: 'Number' } } };
    expect(unsupportedParts(broken)).toEqual([
      'Transform: template macros are not expanded locally (synthesize plain CloudFormation)',
      'Parameters.Size: has no Default, and the local run passes no parameter values',
      'Rules.Mine: template rules are not evaluated locally',
    ]);
  });

  it('accepts a queue of a user\'s own with the properties LocalStack implements, and names one it does not', () => {
    const withQueue = synth(defaultConfig, (stack) => {
      const queue = new sqs.Queue(stack, 'Mine', { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED });
      Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'a test queue' });
    });
    expect(unsupportedParts(withQueue)).toEqual([]);
    const id = Object.keys(withQueue.Resources).find((k) => k.startsWith('Mine') && withQueue.Resources[k]!.Type === 'AWS::SQS::Queue')!;
    withQueue.Resources[id]!.Properties!.Shape = 'round';
    expect(unsupportedParts(withQueue)).toEqual([`Resources.${id} (AWS::SQS::Queue): the property Shape is not implemented locally`]);
  });
});
