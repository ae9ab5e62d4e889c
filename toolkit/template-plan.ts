// The synthesized template, made runnable without the local Lambda service: for a suite or a tool
// that runs a function image by hand (its Runtime API, the RIE, SAM CLI, MiniStack) and needs the
// environment the template gives it.
// - `deployTemplate`: LocalStack's half deployed by its CloudFormation (as the service does it),
//   the functions' environment resolved to the names it reports;
// - `offlinePlan`: no LocalStack at all, each reference resolved to a name shaped as LocalStack
//   would report it (an offline image test needs valid configuration, not real resources).
import { resolveString } from '../local-lambda/template/intrinsics';
import { serviceIdentities, type StackInfo } from '../local-lambda/template/identities';
import { deployToLocalStack } from '../local-lambda/template/localstack-deployer';
import { buildPlan, type FunctionPlan, type LocalPlan } from '../local-lambda/template/plan';
import { localStackTemplate, referenceKey, referencesIntoLocalStack } from '../local-lambda/template/split';
import type { CfnTemplate } from '../local-lambda/template/template';
import type { LocalClients } from './clients';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './ports';

export const stackInfo = (name: string): StackInfo => ({ name, region: LOCAL_REGION, accountId: LOCAL_ACCOUNT_ID });
const urlOf = (i: number) => `http://127.0.0.1:${9010 + i}/`;

/** Deploys LocalStack's half of `template` to the LocalStack `clients` reach; the plan of the other half. */
export async function deployTemplate(clients: LocalClients, template: CfnTemplate, stackName: string, log: (line: string) => void = () => undefined): Promise<{ plan: LocalPlan; outputs: Record<string, string> }> {
  const stack = stackInfo(stackName);
  const identities = serviceIdentities(template, stack, urlOf);
  const references = referencesIntoLocalStack(template);
  const result = await deployToLocalStack({
    cloudformation: clients.cloudformation,
    s3: clients.s3,
    stackName,
    template: localStackTemplate(template, identities),
    references,
    templateUrlBase: clients.endpoint,
    log,
  });
  return { plan: buildPlan({ template, stack, identities, localStackValues: result.values }), outputs: result.outputs };
}

/** The name a resource's template gives it (BucketName...), when it depends on pseudo parameters only. */
function givenName(template: CfnTemplate, id: string, property: string): string | undefined {
  const value = template.Resources[id]?.Properties?.[property];
  if (value === undefined) return undefined;
  const pseudo: Record<string, string> = { 'AWS::Region': LOCAL_REGION, 'AWS::AccountId': LOCAL_ACCOUNT_ID, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com' };
  try {
    return resolveString(value, { ref: (r) => pseudo[r] ?? (() => { throw new Error(r); })(), getAtt: (r) => { throw new Error(r); } }, id);
  } catch {
    return undefined;
  }
}

/** A name shaped as LocalStack reports it for a reference: the template's own name, else one made of the logical id; ARNs for Arn attributes. */
function offlineValue(template: CfnTemplate, id: string, attribute: string | undefined): string {
  const type = template.Resources[id]?.Type ?? '';
  const arn = (service: string, resource: string) => `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${resource}`;
  if (type === 'AWS::SNS::Topic') return arn('sns', givenName(template, id, 'TopicName') ?? id);
  const queue = givenName(template, id, 'QueueName') ?? id;
  if (type === 'AWS::SQS::Queue') return attribute === 'Arn' ? arn('sqs', queue) : attribute === 'QueueName' ? queue : `http://localstack:4566/queue/${LOCAL_REGION}/${LOCAL_ACCOUNT_ID}/${queue}`;
  const table = givenName(template, id, 'TableName') ?? id;
  if (type === 'AWS::DynamoDB::GlobalTable') return attribute === 'StreamArn' ? arn('dynamodb', `table/${table}/stream/2026-01-01T00:00:00.000`) : attribute === 'Arn' ? arn('dynamodb', `table/${table}`) : table;
  const bucket = givenName(template, id, 'BucketName') ?? id.toLowerCase();
  if (type === 'AWS::S3::Bucket') return attribute === 'Arn' ? `arn:aws:s3:::${bucket}` : bucket;
  if (type === 'AWS::IAM::Role') return attribute === 'Arn' ? `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${id}` : id;
  if (type === 'AWS::Logs::LogGroup') return attribute === 'Arn' ? arn('logs', `log-group:${id}`) : id;
  return attribute ? `${id}.${attribute}` : id;
}

/** The plan of `template` with no LocalStack: offline names for everything LocalStack would create. */
export function offlinePlan(template: CfnTemplate, stackName = 'LambdaPipelines'): LocalPlan {
  const stack = stackInfo(stackName);
  const values = new Map(referencesIntoLocalStack(template).map((r) => [referenceKey(r), offlineValue(template, r.id, r.attribute)]));
  return buildPlan({ template, stack, identities: serviceIdentities(template, stack, urlOf), localStackValues: values });
}

/** The function of a plan built from functions/<folder>/ (and not a stand-in). */
export function planFunction(plan: LocalPlan, folder: string): FunctionPlan {
  const fn = plan.functions.find((f) => f.repository.split('/').pop() === folder && !f.command);
  if (!fn) throw new Error(`no function of functions/${folder}/ in the template (there are ${plan.functions.map((f) => f.repository).join(', ')})`);
  return fn;
}
