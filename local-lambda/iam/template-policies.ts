// The policies of a stack as the template declares them, resolved to physical names: each role's
// identity-based policies (inline `Policies`, `AWS::IAM::Policy` attached through `Roles`, the AWS
// managed policies of `ManagedPolicyArns` this module knows) and each resource's policy
// (`AWS::S3::BucketPolicy`, `AWS::SNS::TopicPolicy`, `AWS::SQS::QueuePolicy`).
import { resolveString, resolveValue, type ResolveContext } from '../template/intrinsics';
import { TemplateError, type CfnTemplate } from '../template/template';
import { statementsOf, type PolicyDocument } from './policy-evaluation';

export interface RolePolicies {
  roleArn: string;
  /** The role's name (the last part of its ARN), as in an assumed-role session ARN. */
  roleName: string;
  policies: PolicyDocument[];
  /** Managed policies whose statements are not known locally (their grants count as absent). */
  unknownManagedPolicies: string[];
}

export interface StackPolicies {
  /** By role ARN. */
  roles: Map<string, RolePolicies>;
  /** By resource ARN (bucket, topic, queue): the statements of every policy attached to it. */
  resources: Map<string, PolicyDocument>;
}

// The AWS managed policies CDK and SAM attach to Lambda roles, as AWS publishes them.
const LOGS = { Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' } as const;
const MANAGED: Record<string, PolicyDocument> = {
  'service-role/AWSLambdaBasicExecutionRole': { Version: '2012-10-17', Statement: [LOGS] },
  'service-role/AWSLambdaSQSQueueExecutionRole': { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], Resource: '*' }, LOGS] },
  'service-role/AWSLambdaDynamoDBExecutionRole': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'], Resource: '*' }, LOGS],
  },
  'service-role/AWSLambdaKinesisExecutionRole': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards', 'kinesis:ListStreams', 'kinesis:SubscribeToShard'], Resource: '*' }, LOGS],
  },
};

/** `arn:aws:iam::aws:policy/<path/name>` -> its document, if it is one of the above. */
const managedPolicy = (arn: string): PolicyDocument | undefined => MANAGED[/^arn:aws[\w-]*:iam::aws:policy\/(.+)$/.exec(arn)?.[1] ?? ''];

const refsOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** The logical id a `{ Ref: id }` names, if the value is one. */
const refId = (value: unknown): string | undefined => (value && typeof value === 'object' && 'Ref' in value && typeof (value as { Ref: unknown }).Ref === 'string' ? (value as { Ref: string }).Ref : undefined);

function document(value: unknown, ctx: ResolveContext, at: string): PolicyDocument {
  const resolved = resolveValue(value, ctx, at) as PolicyDocument;
  if (!resolved || typeof resolved !== 'object' || resolved.Statement === undefined) throw new TemplateError(`${at}: a policy document needs a Statement`);
  for (const [i, s] of statementsOf(resolved).entries()) {
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new TemplateError(`${at}.Statement[${i}].Effect: must be Allow or Deny, not ${JSON.stringify(s.Effect)}`);
  }
  return resolved;
}

export function stackPolicies(template: CfnTemplate, ctx: ResolveContext, stack: { region: string; accountId: string }): StackPolicies {
  const roles = new Map<string, RolePolicies>();
  const roleByLogicalId = new Map<string, RolePolicies>();
  const resources = new Map<string, PolicyDocument>();
  const ids = Object.keys(template.Resources).sort();
  for (const id of ids) {
    const r = template.Resources[id]!;
    if (r.Type !== 'AWS::IAM::Role') continue;
    const p = (r.Properties ?? {}) as Record<string, any>;
    const at = `Resources.${id}.Properties`;
    const roleArn = ctx.getAtt(id, 'Arn', `${at} (the role's Arn)`);
    const role: RolePolicies = { roleArn, roleName: roleArn.slice(roleArn.lastIndexOf('/') + 1), policies: [], unknownManagedPolicies: [] };
    for (const [i, inline] of refsOf(p.Policies).entries()) role.policies.push(document((inline as { PolicyDocument?: unknown }).PolicyDocument, ctx, `${at}.Policies[${i}].PolicyDocument`));
    for (const [i, raw] of refsOf(p.ManagedPolicyArns).entries()) {
      const arn = resolveString(raw, ctx, `${at}.ManagedPolicyArns[${i}]`);
      const managed = managedPolicy(arn);
      if (managed) role.policies.push(managed);
      else role.unknownManagedPolicies.push(arn);
    }
    roles.set(roleArn, role);
    roleByLogicalId.set(id, role);
  }
  const attach = (arn: string, doc: PolicyDocument) => {
    const before = resources.get(arn);
    resources.set(arn, before ? { Version: '2012-10-17', Statement: [...statementsOf(before), ...statementsOf(doc)] } : doc);
  };
  for (const id of ids) {
    const r = template.Resources[id]!;
    const p = (r.Properties ?? {}) as Record<string, any>;
    const at = `Resources.${id}.Properties`;
    switch (r.Type) {
      case 'AWS::IAM::Policy': {
        const doc = document(p.PolicyDocument, ctx, `${at}.PolicyDocument`);
        for (const [i, raw] of refsOf(p.Roles).entries()) {
          const logical = refId(raw);
          const role = logical ? roleByLogicalId.get(logical) : [...roles.values()].find((x) => x.roleName === resolveString(raw, ctx, `${at}.Roles[${i}]`));
          // A role of another stack: not one of ours to run.
          if (role) role.policies.push(doc);
        }
        break;
      }
      case 'AWS::S3::BucketPolicy':
        attach(`arn:aws:s3:::${resolveString(p.Bucket, ctx, `${at}.Bucket`)}`, document(p.PolicyDocument, ctx, `${at}.PolicyDocument`));
        break;
      case 'AWS::SNS::TopicPolicy':
        for (const [i, raw] of refsOf(p.Topics).entries()) attach(resolveString(raw, ctx, `${at}.Topics[${i}]`), document(p.PolicyDocument, ctx, `${at}.PolicyDocument`));
        break;
      case 'AWS::SQS::QueuePolicy':
        for (const [i, raw] of refsOf(p.Queues).entries()) {
          // Queues holds queue URLs; the policy is about the queue's ARN.
          const url = resolveString(raw, ctx, `${at}.Queues[${i}]`);
          attach(`arn:aws:sqs:${stack.region}:${stack.accountId}:${url.replace(/\/+$/, '').split('/').pop()}`, document(p.PolicyDocument, ctx, `${at}.PolicyDocument`));
        }
        break;
      default:
    }
  }
  return { roles, resources };
}
