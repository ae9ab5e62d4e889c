// LocalStack's half of the template, deployed by LocalStack's own CloudFormation: created the first
// time, updated when the template changed, left alone when it did not. What LocalStack cannot do is
// said, never skipped: a change its providers would silently not apply is refused with what to do
// instead, and the two bucket settings an update would leave stale (notifications, CORS) are
// applied through S3's API, as the template states them.
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  UpdateStackCommand,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import {
  CreateBucketCommand,
  GetBucketCorsCommand,
  GetBucketNotificationConfigurationCommand,
  PutBucketCorsCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { REFERENCE_OUTPUT_PREFIX, referenceKey, referenceOutput, type Reference } from './split';
import { RECONCILED, SUPPORT } from './support';
import type { CfnTemplate } from './template';

/** CloudFormation's limit on a template sent in the request; larger ones go through S3. */
const MAX_TEMPLATE_BODY = 51_200;
/** Where templates over that limit are put (as `cdk deploy` uses its bootstrap bucket on AWS). */
export const TEMPLATE_BUCKET = 'local-lambda-templates';

export class DeployError extends Error {
  override name = 'DeployError';
}

export interface DeployedResource {
  logicalId: string;
  type: string;
  physicalId: string;
}

export interface DeployResult {
  action: 'created' | 'updated' | 'unchanged';
  /** The stack's outputs (the local run's own reference outputs left out). */
  outputs: Record<string, string>;
  /** What CloudFormation says each reference of the service's half is (referenceKey -> value). */
  values: Map<string, string>;
  resources: DeployedResource[];
  seconds: number;
}

export interface DeployOptions {
  cloudformation: CloudFormationClient;
  s3: S3Client;
  stackName: string;
  template: CfnTemplate;
  references: Reference[];
  /** Where LocalStack fetches a template from S3 (its own endpoint, as it sees itself). */
  templateUrlBase: string;
  log: (line: string) => void;
  deadlineMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const TERMINAL_OK = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE']);
const TERMINAL_BAD = new Set(['CREATE_FAILED', 'ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'DELETE_FAILED', 'UPDATE_ROLLBACK_FAILED', 'UPDATE_FAILED']);

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A property of an existing resource LocalStack could not change in place, by template path. */
export function changesLocalStackCannotApply(previous: CfnTemplate, next: CfnTemplate): string[] {
  const problems: string[] = [];
  for (const [id, resource] of Object.entries(next.Resources)) {
    const before = previous.Resources?.[id];
    if (!before || before.Type !== resource.Type) continue;
    const fixed = SUPPORT[resource.Type]?.fixedOnUpdate;
    if (!fixed) continue;
    const reconciled = RECONCILED[resource.Type] ?? [];
    const names = new Set([...Object.keys(before.Properties ?? {}), ...Object.keys(resource.Properties ?? {})]);
    for (const name of names) {
      if (reconciled.includes(name) || (fixed !== 'all' && !fixed.includes(name))) continue;
      if (JSON.stringify(before.Properties?.[name]) !== JSON.stringify(resource.Properties?.[name])) {
        problems.push(`Resources.${id} (${resource.Type}): ${name} changed, and LocalStack cannot change it on an existing resource (its provider has no update)`);
      }
    }
  }
  return problems;
}

export async function deployToLocalStack(o: DeployOptions): Promise<DeployResult> {
  const started = Date.now();
  const { cloudformation, stackName, log } = o;
  const body = JSON.stringify(o.template);
  const templateArgs = body.length <= MAX_TEMPLATE_BODY ? { TemplateBody: body } : { TemplateURL: await putTemplate(o, body) };
  let existing = await describe(cloudformation, stackName);
  if (existing && existing.StackStatus?.endsWith('_IN_PROGRESS')) {
    log(`stack ${stackName} is ${existing.StackStatus} (an earlier start was stopped midway): waiting for it`);
    existing = await waitForStack(o, new Date(0));
  }
  if (existing && TERMINAL_BAD.has(existing.StackStatus ?? '') && existing.StackStatus !== 'UPDATE_ROLLBACK_FAILED') {
    log(`stack ${stackName} is ${existing.StackStatus}: deleting it to create it again`);
    await cloudformation.send(new DeleteStackCommand({ StackName: stackName }));
    await waitForDeletion(o);
    existing = undefined;
  }
  let action: DeployResult['action'];
  const since = new Date(Date.now() - 1000);
  if (!existing) {
    log(`creating stack ${stackName} in LocalStack's CloudFormation (${Object.keys(o.template.Resources).length} resources)`);
    await cloudformation.send(new CreateStackCommand({ StackName: stackName, ...templateArgs, Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'] }));
    action = 'created';
  } else {
    const previous = JSON.parse((await cloudformation.send(new GetTemplateCommand({ StackName: stackName }))).TemplateBody ?? '{"Resources":{}}') as CfnTemplate;
    const refused = changesLocalStackCannotApply(previous, o.template);
    if (refused.length > 0) {
      throw new DeployError(`the template changes resources LocalStack cannot update in place:\n  - ${refused.join('\n  - ')}\nmake down, then make up, creates the local stack anew from the template (its local data goes with it)`);
    }
    try {
      await cloudformation.send(new UpdateStackCommand({ StackName: stackName, ...templateArgs, Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'] }));
      log(`updating stack ${stackName} in LocalStack's CloudFormation`);
      action = 'updated';
    } catch (error) {
      if (!/No updates are to be performed/.test((error as Error).message)) throw error;
      action = 'unchanged';
    }
  }
  const stack = action === 'unchanged' ? existing! : await waitForStack(o, since);
  const failures = await failedEvents(o, since);
  if (failures.length > 0) throw new DeployError(`LocalStack's CloudFormation could not ${action === 'created' ? 'create' : 'update'} every resource:\n  - ${failures.join('\n  - ')}`);
  if (action === 'updated') await reconcile(o);
  const outputs: Record<string, string> = {};
  const byOutput = new Map(o.references.map((r) => [referenceOutput(r), r]));
  const values = new Map<string, string>();
  for (const out of stack.Outputs ?? []) {
    const reference = byOutput.get(out.OutputKey ?? '');
    if (reference) values.set(referenceKey(reference), String(out.OutputValue));
    else if (!out.OutputKey?.startsWith(REFERENCE_OUTPUT_PREFIX)) outputs[out.OutputKey!] = String(out.OutputValue);
  }
  const described = await cloudformation.send(new DescribeStackResourcesCommand({ StackName: stackName }));
  const resources = (described.StackResources ?? []).map((r) => ({ logicalId: r.LogicalResourceId!, type: r.ResourceType!, physicalId: r.PhysicalResourceId ?? '' }));
  return { action, outputs, values, resources, seconds: (Date.now() - started) / 1000 };
}

async function describe(cloudformation: CloudFormationClient, stackName: string): Promise<Stack | undefined> {
  try {
    const out = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = out.Stacks?.[0];
    return stack && stack.StackStatus !== 'DELETE_COMPLETE' ? stack : undefined;
  } catch (error) {
    if (/does not exist/.test((error as Error).message)) return undefined;
    throw error;
  }
}

async function putTemplate(o: DeployOptions, body: string): Promise<string> {
  await o.s3.send(new CreateBucketCommand({ Bucket: TEMPLATE_BUCKET })).catch((error: Error) => {
    if (!/BucketAlready(Exists|OwnedByYou)/.test(error.name)) throw error;
  });
  const key = `${o.stackName}/${Date.now()}.template.json`;
  await o.s3.send(new PutObjectCommand({ Bucket: TEMPLATE_BUCKET, Key: key, Body: body, ContentType: 'application/json' }));
  return `${o.templateUrlBase.replace(/\/$/, '')}/${TEMPLATE_BUCKET}/${key}`;
}

/** Polls until the stack settles; prints progress every few seconds so a long deploy never looks stuck. */
async function waitForStack(o: DeployOptions, since: Date): Promise<Stack> {
  const { deadlineMs = 300_000, sleep = realSleep } = o;
  const deadline = Date.now() + deadlineMs;
  let lastNote = Date.now();
  for (;;) {
    const stack = await describe(o.cloudformation, o.stackName);
    const status = stack?.StackStatus ?? 'DELETE_COMPLETE';
    if (TERMINAL_OK.has(status)) return stack!;
    if (TERMINAL_BAD.has(status) || !stack) {
      const failures = await failedEvents(o, since);
      throw new DeployError(`stack ${o.stackName} ended ${status}${stack?.StackStatusReason ? ` (${stack.StackStatusReason})` : ''}${failures.length ? `:\n  - ${failures.join('\n  - ')}` : ''}`);
    }
    if (Date.now() > deadline) throw new DeployError(`stack ${o.stackName} is still ${status} after ${deadlineMs / 1000} s`);
    if (Date.now() - lastNote > 5_000) {
      const resources = await o.cloudformation.send(new DescribeStackResourcesCommand({ StackName: o.stackName })).catch(() => undefined);
      const done = (resources?.StackResources ?? []).filter((r) => r.ResourceStatus?.endsWith('_COMPLETE')).length;
      o.log(`  ... ${status}: ${done} of ${Object.keys(o.template.Resources).length} resources done`);
      lastNote = Date.now();
    }
    await sleep(500);
  }
}

async function waitForDeletion(o: DeployOptions): Promise<void> {
  const { sleep = realSleep } = o;
  const deadline = Date.now() + 120_000;
  while (await describe(o.cloudformation, o.stackName)) {
    if (Date.now() > deadline) throw new DeployError(`stack ${o.stackName} could not be deleted within 120 s`);
    await sleep(500);
  }
}

/** Every resource event of this deploy that failed, as `LogicalId (Type): reason`. */
async function failedEvents(o: DeployOptions, since: Date): Promise<string[]> {
  const out = await o.cloudformation.send(new DescribeStackEventsCommand({ StackName: o.stackName })).catch(() => undefined);
  return (out?.StackEvents ?? [])
    .filter((e) => e.ResourceStatus?.endsWith('_FAILED') && e.LogicalResourceId !== o.stackName && (!e.Timestamp || e.Timestamp >= since))
    .map((e) => `${e.LogicalResourceId} (${e.ResourceType}): ${e.ResourceStatusReason ?? e.ResourceStatus}`);
}

/** LocalStack's bucket provider has no update: notifications and CORS are applied as the template states them. */
async function reconcile(o: DeployOptions): Promise<void> {
  const stack = await o.cloudformation.send(new DescribeStackResourcesCommand({ StackName: o.stackName }));
  const physical = new Map((stack.StackResources ?? []).map((r) => [r.LogicalResourceId!, r.PhysicalResourceId!]));
  const arnOf = (value: unknown): string | undefined => {
    if (typeof value === 'string') return value;
    const ref = (value as { Ref?: string })?.Ref;
    return ref ? physical.get(ref) : undefined;
  };
  for (const [id, resource] of Object.entries(o.template.Resources)) {
    if (resource.Type !== 'AWS::S3::Bucket') continue;
    const bucket = physical.get(id);
    if (!bucket) continue;
    const p = (resource.Properties ?? {}) as Record<string, any>;
    const n = p.NotificationConfiguration ?? {};
    const wanted = {
      TopicConfigurations: (n.TopicConfigurations ?? []).map((c: Record<string, any>) => ({ TopicArn: arnOf(c.Topic), Events: [c.Event], ...(c.Filter && { Filter: { Key: { FilterRules: c.Filter.S3Key.Rules } } }) })),
      QueueConfigurations: (n.QueueConfigurations ?? []).map((c: Record<string, any>) => ({ QueueArn: arnOf(c.Queue), Events: [c.Event], ...(c.Filter && { Filter: { Key: { FilterRules: c.Filter.S3Key.Rules } } }) })),
    };
    const current = await o.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
    const shape = (cfg: { TopicConfigurations?: Array<Record<string, any>>; QueueConfigurations?: Array<Record<string, any>> }) =>
      JSON.stringify([
        (cfg.TopicConfigurations ?? []).map((c) => [c.TopicArn, c.Events, c.Filter?.Key?.FilterRules?.map((r: Record<string, string>) => [r.Name?.toLowerCase(), r.Value])]),
        (cfg.QueueConfigurations ?? []).map((c) => [c.QueueArn, c.Events, c.Filter?.Key?.FilterRules?.map((r: Record<string, string>) => [r.Name?.toLowerCase(), r.Value])]),
      ]);
    if (shape(current) !== shape(wanted)) {
      await o.s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: wanted }));
      o.log(`  applied the notification configuration of ${id} (${bucket}) through S3 (LocalStack's update leaves it as it was)`);
    }
    const rules = ((p.CorsConfiguration?.CorsRules ?? []) as Array<Record<string, any>>).map((r) => ({
      AllowedMethods: r.AllowedMethods,
      AllowedOrigins: r.AllowedOrigins,
      ...(r.AllowedHeaders && { AllowedHeaders: r.AllowedHeaders }),
      ...(r.ExposedHeaders && { ExposeHeaders: r.ExposedHeaders }),
      ...(r.MaxAge !== undefined && { MaxAgeSeconds: r.MaxAge }),
      ...(r.Id && { ID: r.Id }),
    }));
    const currentCors = await o.s3.send(new GetBucketCorsCommand({ Bucket: bucket })).then((c) => c.CORSRules ?? [], () => []);
    if (rules.length > 0 && JSON.stringify(currentCors) !== JSON.stringify(rules)) {
      await o.s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }));
      o.log(`  applied the CORS rules of ${id} (${bucket}) through S3`);
    }
  }
}
