import type { ResolveContext } from '../template/intrinsics';
import { TemplateError, type CfnTemplate } from '../template/template';
import { evaluate, type RequestPrincipal } from './policy-evaluation';
import { stackPolicies } from './template-policies';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const physical: Record<string, string> = {
  Role: 'Stack-ThumbnailRole-ABC',
  Thumbs: 'stack-thumbs-abc',
  Reports: 'stack-reports-abc',
  Queue: `http://localhost:4566/${ACCOUNT}/stack-Queue-abc`,
  Topic: `arn:aws:sns:${REGION}:${ACCOUNT}:stack-Topic-abc`,
};
const ctx: ResolveContext = {
  ref: (id) => (id === 'AWS::Partition' ? 'aws' : id === 'AWS::AccountId' ? ACCOUNT : physical[id] ?? `unknown-${id}`),
  getAtt: (id, attribute) => {
    if (id === 'Role' && attribute === 'Arn') return `arn:aws:iam::${ACCOUNT}:role/${physical.Role}`;
    if (attribute === 'Arn' && (id === 'Thumbs' || id === 'Reports')) return `arn:aws:s3:::${physical[id]}`;
    if (id === 'Queue' && attribute === 'Arn') return `arn:aws:sqs:${REGION}:${ACCOUNT}:stack-Queue-abc`;
    throw new Error(`no ${id}.${attribute}`);
  },
};

// The shapes CDK writes: a role, its DefaultPolicy, enforceSSL bucket policy, a queue policy for SNS.
const template: CfnTemplate = {
  Resources: {
    Role: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }] },
        ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']] }, 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'],
      },
    },
    RoleDefaultPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'RoleDefaultPolicy',
        Roles: [{ Ref: 'Role' }],
        PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:PutObject', 's3:Abort*'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Thumbs', 'Arn'] }, '/*']] } }] },
      },
    },
    ThumbsPolicy: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: { Ref: 'Thumbs' },
        PolicyDocument: {
          Statement: [{ Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Effect: 'Deny', Principal: { AWS: '*' }, Resource: [{ 'Fn::GetAtt': ['Thumbs', 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Thumbs', 'Arn'] }, '/*']] }] }],
        },
      },
    },
    QueuePolicy: {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: 'Queue' }],
        PolicyDocument: { Statement: [{ Action: 'sqs:SendMessage', Condition: { ArnEquals: { 'aws:SourceArn': { Ref: 'Topic' } } }, Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Resource: { 'Fn::GetAtt': ['Queue', 'Arn'] } }] },
      },
    },
  },
};

describe("a stack's policies from its template", () => {
  const policies = stackPolicies(template, ctx, { region: REGION, accountId: ACCOUNT });
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/${physical.Role}`;
  const role = policies.roles.get(roleArn)!;
  const principal: RequestPrincipal = { kind: 'role', account: ACCOUNT, roleArn, sessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role.roleName}/thumbnail` };

  it("gathers a role's attached and known managed policies, and names the managed ones it does not know", () => {
    expect(role.roleName).toBe(physical.Role);
    expect(role.policies).toHaveLength(2);
    expect(role.unknownManagedPolicies).toEqual(['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']);
  });

  it('the role writes where it is granted, over TLS; elsewhere, or without TLS, it is denied as AWS would', () => {
    const put = (bucket: string, secure: string) => evaluate({ principal, action: 's3:PutObject', resource: `arn:aws:s3:::${bucket}/t/a.webp`, context: { 'aws:SecureTransport': secure } }, { identity: role.policies, resource: policies.resources.get(`arn:aws:s3:::${bucket}`) });
    expect(put(physical.Thumbs!, 'true')).toMatchObject({ allowed: true });
    expect(put(physical.Reports!, 'true')).toMatchObject({ allowed: false, explicit: false, message: expect.stringContaining(`on resource: arn:aws:s3:::${physical.Reports}/t/a.webp because no identity-based policy allows the s3:PutObject action`) });
    expect(put(physical.Thumbs!, 'false')).toMatchObject({ allowed: false, explicit: true, policyType: 'resource-based' });
    expect(evaluate({ principal, action: 'logs:PutLogEvents', resource: 'arn:aws:logs:us-east-1:000000000000:log-group:x' }, { identity: role.policies }).allowed).toBe(true);
  });

  it("a queue policy is found by the queue's ARN (Queues holds URLs)", () => {
    expect(policies.resources.get(`arn:aws:sqs:${REGION}:${ACCOUNT}:stack-Queue-abc`)).toBeDefined();
  });

  it('a statement with an Effect other than Allow or Deny is refused, naming where it stands', () => {
    const bad: CfnTemplate = { Resources: { ...template.Resources, RoleDefaultPolicy: { Type: 'AWS::IAM::Policy', Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: { Statement: [{ Effect: 'allow', Action: '*', Resource: '*' }] } } } } };
    expect(() => stackPolicies(bad, ctx, { region: REGION, accountId: ACCOUNT })).toThrow(TemplateError);
    expect(() => stackPolicies(bad, ctx, { region: REGION, accountId: ACCOUNT })).toThrow(/Resources\.RoleDefaultPolicy\.Properties\.PolicyDocument\.Statement\[0\]\.Effect/);
  });
});
