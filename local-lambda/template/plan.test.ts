// From the app's synthesized template to what each side receives: the template LocalStack's
// CloudFormation gets, and what the local Lambda service runs once LocalStack reported its names.
import { buildApp, scratchOutdir, synthesize } from '../../infra/app';
import { testConfig } from '../../infra/config';
import { generatedName, serviceIdentities, type StackInfo } from './identities';
import { buildPlan, repositoryOf } from './plan';
import { localStackTemplate, referenceKey, referencesIntoLocalStack, referenceOutput } from './split';
import type { CfnTemplate } from './template';

const stack: StackInfo = { name: 'LambdaPipelines', region: 'us-east-1', accountId: '000000000000' };
const urlOf = (i: number) => `http://127.0.0.1:${9010 + i}/`;

describe('the template, split between LocalStack and the local Lambda service', () => {
  let template: CfnTemplate;
  beforeAll(() => {
    template = synthesize(buildApp({ config: testConfig({ errorLineAlerts: true }), images: {}, outdir: scratchOutdir() })) as unknown as CfnTemplate;
  });
  const logicalIdOf = (type: string, pathPart: string) =>
    Object.entries(template.Resources).find(([id, r]) => r.Type === type && id.startsWith(pathPart))![0];

  it('names the functions as CloudFormation does, the same on every start', () => {
    const identities = serviceIdentities(template, stack, urlOf);
    const thumbnail = logicalIdOf('AWS::Lambda::Function', 'Thumbnail');
    const name = identities.get(thumbnail)!.ref;
    expect(name).toMatch(new RegExp(`^LambdaPipelines-${thumbnail}-[A-Z0-9]{12}$`));
    expect(serviceIdentities(template, stack, urlOf).get(thumbnail)!.ref).toBe(name);
    expect(identities.get(thumbnail)!.attributes.Arn).toBe(`arn:aws:lambda:us-east-1:000000000000:function:${name}`);
    expect(generatedName('S'.repeat(60), 'L'.repeat(60))).toHaveLength(64);
  });

  it('gives LocalStack its own half: no Lambda resource, references to them as literals, one output per reference back', () => {
    const identities = serviceIdentities(template, stack, urlOf);
    const local = localStackTemplate(template, identities);
    const types = new Set(Object.values(local.Resources).map((r) => r.Type));
    expect([...types].filter((t) => t.startsWith('AWS::Lambda::') || t === 'AWS::Scheduler::Schedule')).toEqual([]);
    expect(local.Parameters).toBeUndefined();
    expect(local.Rules).toBeUndefined();
    expect(JSON.stringify(local)).not.toContain('aws:cdk:path');
    // The schedule's role may invoke the report function: named by the ARN the service gives it.
    const report = identities.get(logicalIdOf('AWS::Lambda::Function', 'Report'))!;
    expect(JSON.stringify(local)).toContain(report.attributes.Arn);
    // The api's URL output is the service's URL.
    expect(local.Outputs!.ApiFunctionUrl!.Value).toBe('http://127.0.0.1:9010/');
    // Every reference of the service's half comes back as an output of its own.
    const references = referencesIntoLocalStack(template);
    const streamRef = references.find((r) => r.attribute === 'StreamArn')!;
    expect(local.Outputs![referenceOutput(streamRef)]!.Value).toEqual({ 'Fn::GetAtt': [streamRef.id, 'StreamArn'] });
    expect(references.length).toBeGreaterThan(20);
  });

  it('runs the functions with every intrinsic resolved to what LocalStack reported, and AWS defaults filled in', () => {
    const identities = serviceIdentities(template, stack, urlOf);
    // What LocalStack would report: ARNs shaped as ARNs, names as <LogicalId>.
    const fake = (id: string, attribute?: string): string => {
      const type = template.Resources[id]!.Type;
      if (attribute === 'Arn' && type === 'AWS::SQS::Queue') return `arn:aws:sqs:us-east-1:000000000000:${id}`;
      if (attribute === 'StreamArn') return `arn:aws:dynamodb:us-east-1:000000000000:table/${id}/stream/2026-11-28T00:00:00.000`;
      return attribute ? `<${id}.${attribute}>` : `<${id}>`;
    };
    const values = new Map(referencesIntoLocalStack(template).map((r) => [referenceKey(r), fake(r.id, r.attribute)]));
    const plan = buildPlan({ template, stack, identities, localStackValues: values });
    expect(plan.functions.map((f) => f.repository).sort()).toEqual(['api', 'audit', 'csv-import', 'notify', 'report', 'thumbnail'].map((f) => `lambda-pipelines/${f}`));
    const thumbnail = plan.functions.find((f) => f.repository.endsWith('/thumbnail'))!;
    const table = logicalIdOf('AWS::DynamoDB::GlobalTable', 'ProcessingLog');
    expect(thumbnail).toMatchObject({ memoryMb: 1024, timeoutSeconds: 10, architecture: 'x86_64', ephemeralStorageMb: 512 });
    expect(thumbnail.environment).toMatchObject({ PROCESSING_LOG_TABLE: `<${table}>`, THUMBNAIL_WIDTHS: '128,512,1024' });
    // csv-import's data sets carry their tables: JSON with the names resolved inside it.
    const csv = plan.functions.find((f) => f.repository.endsWith('/csv-import'))!;
    const datasets = JSON.parse(csv.environment.IMPORT_DATASETS!) as Array<{ name: string; table: string }>;
    expect(datasets.map((d) => [d.name, d.table])).toEqual([['people', `<${logicalIdOf('AWS::DynamoDB::GlobalTable', 'PeopleTable')}>`], ['debian-releases', `<${logicalIdOf('AWS::DynamoDB::GlobalTable', 'DebianReleasesTable')}>`]]);

    const stream = plan.mappings.find((m) => m.kind === 'dynamodb-stream')!;
    expect(stream).toMatchObject({ streamArn: fake(table, 'StreamArn'), batchSize: 10, maximumRetryAttempts: 5, maximumRecordAgeInSeconds: -1, bisectBatchOnFunctionError: true, reportBatchItemFailures: true, enabled: true });
    expect(plan.mappings.filter((m) => m.kind === 'sqs').map((m) => m.batchSize).sort()).toEqual([1, 10, 5]);
    expect(plan.asyncInvokes).toHaveLength(6);
    expect(plan.asyncInvokes.map((a) => [a.maximumRetryAttempts, a.maximumEventAgeInSeconds, a.onFailure?.split(':')[2]])).toEqual(Array(6).fill([2, 21_600, 'sqs']));
    expect(plan.urls).toEqual([expect.objectContaining({ url: 'http://127.0.0.1:9010/', authType: 'AWS_IAM', cors: expect.objectContaining({ allowMethods: ['GET', 'POST'] }) })]);
    const [schedule] = plan.schedules;
    expect(schedule).toMatchObject({ expression: 'cron(0 6 * * ? *)', timezone: 'UTC', maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600, enabled: true });
    expect(JSON.parse(schedule!.input!)).toMatchObject({ 'detail-type': 'Scheduled Event', account: '000000000000', time: '<aws.scheduler.scheduled-time>' });
    // Every function's log group but audit's has a subscription filter to audit, for its errors.
    const audit = plan.functions.find((f) => f.repository.endsWith('/audit'))!.name;
    expect(plan.subscriptions).toHaveLength(5);
    for (const s of plan.subscriptions) expect(s).toMatchObject({ function: audit, filterPattern: '?ERROR ?"Status: error" ?"Status: timeout"', logGroup: expect.stringMatching(/^<.*Logs.*>$/) });
    expect(new Set(plan.subscriptions.map((s) => s.logGroup))).toEqual(new Set(plan.functions.filter((f) => f.name !== audit).map((f) => f.logGroup)));
  });

  it('reads the image repository out of an ECR URI with a digest or a tag', () => {
    expect(repositoryOf(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/lambda-pipelines/thumbnail@sha256:${'0'.repeat(64)}`, 'x')).toBe('lambda-pipelines/thumbnail');
    expect(repositoryOf('localhost:5000/team/fn:v1', 'x')).toBe('team/fn');
    expect(() => repositoryOf('not an image', 'Resources.F.Properties.Code.ImageUri')).toThrow('Resources.F.Properties.Code.ImageUri: "not an image" does not name an image repository');
  });

  it("refuses what Lambda refuses: settings outside its ranges, a variable it reserves", () => {
    const identities = serviceIdentities(template, stack, urlOf);
    const values = new Map(referencesIntoLocalStack(template).map((r) => [referenceKey(r), r.attribute === 'Arn' ? `arn:aws:sqs:us-east-1:000000000000:${r.id}` : `${r.id}`]));
    const fn = logicalIdOf('AWS::Lambda::Function', 'Notify');
    const broken = (change: (p: Record<string, any>) => void) => {
      const t = structuredClone(template);
      change(t.Resources[fn]!.Properties!);
      return () => buildPlan({ template: t, stack, identities, localStackValues: values });
    };
    expect(broken((p) => (p.MemorySize = 64))).toThrow(`Resources.${fn}.Properties: MemorySize 64 is outside Lambda's 128-10240`);
    expect(broken((p) => (p.Timeout = 901))).toThrow(`Resources.${fn}.Properties: Timeout 901 is outside Lambda's 1-900`);
    expect(broken((p) => (p.Environment.Variables.AWS_REGION = 'eu-west-1'))).toThrow(`Resources.${fn}.Properties.Environment.Variables.AWS_REGION: Lambda reserves this variable`);
  });
});
