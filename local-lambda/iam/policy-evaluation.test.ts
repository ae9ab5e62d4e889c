// The evaluator against the examples of AWS's IAM User Guide ("Policy evaluation logic", "IAM JSON
// policy elements": NotAction, NotResource, Principal, Condition operators, "Conditions with
// multiple context keys or values") and the policies CDK writes into our template.
import { arnMatches, conditionsHold, PolicyConditionError } from './condition-operators';
import { evaluate, type AuthorizationRequest, type PolicyDocument, type RequestPrincipal } from './policy-evaluation';

const ACCOUNT = '000000000000';
const role: RequestPrincipal = {
  kind: 'role',
  account: ACCOUNT,
  roleArn: `arn:aws:iam::${ACCOUNT}:role/LambdaPipelines-CsvImportRole`,
  sessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/LambdaPipelines-CsvImportRole/LambdaPipelines-CsvImportFunction`,
};
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/People`;
const request = (action: string, resource: string, context: AuthorizationRequest['context'] = {}): AuthorizationRequest => ({ principal: role, action, resource, context });
const policy = (...Statement: PolicyDocument['Statement'][]): PolicyDocument => ({ Version: '2012-10-17', Statement: Statement.flat() as never });

describe('policy evaluation (same account, no boundaries)', () => {
  it('denies by default, with the message AWS gives for an implicit deny', () => {
    const decision = evaluate(request('dynamodb:PutItem', TABLE), { identity: [] });
    expect(decision).toEqual({
      allowed: false,
      explicit: false,
      policyType: 'identity-based',
      message: `User: ${role.kind === 'role' && role.sessionArn} is not authorized to perform: dynamodb:PutItem on resource: ${TABLE} because no identity-based policy allows the dynamodb:PutItem action`,
    });
  });

  it('allows what an identity policy allows: actions case-insensitive with wildcards, resources by ARN part', () => {
    const grant = policy({ Effect: 'Allow', Action: ['dynamodb:BatchWriteItem', 'dynamodb:Put*'], Resource: [TABLE, `${TABLE}/index/*`] });
    expect(evaluate(request('DynamoDB:putitem', TABLE), { identity: [grant] })).toMatchObject({ allowed: true, by: 'identity-based' });
    expect(evaluate(request('dynamodb:PutItem', `${TABLE}/index/by-day`), { identity: [grant] }).allowed).toBe(true);
    expect(evaluate(request('dynamodb:GetItem', TABLE), { identity: [grant] }).allowed).toBe(false);
    expect(evaluate(request('dynamodb:PutItem', `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/PeopleArchive`), { identity: [grant] }).allowed).toBe(false);
  });

  it('an explicit deny anywhere wins over any allow (identity or resource)', () => {
    const allowAll = policy({ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' });
    const denyDelete = policy({ Sid: 'NoDeletes', Effect: 'Deny', Action: 'dynamodb:DeleteItem', Resource: TABLE });
    expect(evaluate(request('dynamodb:DeleteItem', TABLE), { identity: [allowAll, denyDelete] })).toMatchObject({
      allowed: false,
      explicit: true,
      sid: 'NoDeletes',
      message: expect.stringMatching(/on resource: .*table\/People with an explicit deny in a identity-based policy$/),
    });
    expect(evaluate(request('dynamodb:GetItem', TABLE), { identity: [allowAll, denyDelete] }).allowed).toBe(true);
  });

  it('NotAction with Allow: everything but the listed actions (the guide: "allow all except IAM")', () => {
    const exceptIam = policy({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' });
    expect(evaluate(request('s3:GetObject', 'arn:aws:s3:::b/k'), { identity: [exceptIam] }).allowed).toBe(true);
    expect(evaluate(request('iam:CreateUser', `arn:aws:iam::${ACCOUNT}:user/x`), { identity: [exceptIam] }).allowed).toBe(false);
  });

  it('NotResource with Deny: denies everything but the listed resources (the guide\'s HRBucket/Payroll example)', () => {
    const allow = policy({ Effect: 'Allow', Action: 's3:*', Resource: '*' });
    const deny = policy({ Effect: 'Deny', Action: 's3:*', NotResource: ['arn:aws:s3:::HRBucket/Payroll', 'arn:aws:s3:::HRBucket/Payroll/*'] });
    expect(evaluate(request('s3:GetObject', 'arn:aws:s3:::HRBucket/Payroll/2026.csv'), { identity: [allow, deny] }).allowed).toBe(true);
    expect(evaluate(request('s3:GetObject', 'arn:aws:s3:::HRBucket/Other/x'), { identity: [allow, deny] })).toMatchObject({ allowed: false, explicit: true });
  });

  it('ARNs part by part: bucket/* matches keys with slashes, not the bucket; a table is not its indexes', () => {
    expect(arnMatches('arn:aws:s3:::uploads/*', 'arn:aws:s3:::uploads/images/2026/a.png')).toBe(true);
    expect(arnMatches('arn:aws:s3:::uploads/*', 'arn:aws:s3:::uploads')).toBe(false);
    expect(arnMatches('arn:aws:dynamodb:*:*:table/People', TABLE)).toBe(true);
    expect(arnMatches('arn:aws:dynamodb:us-east-1:*:table/People', `${TABLE}/index/by-day`)).toBe(false);
    expect(arnMatches('arn:aws:dynamodb:us-east-1:1111*:table/People', TABLE)).toBe(false);
    expect(arnMatches('arn:aws:sqs:us-east-1:000000000000:Notify?Queue', 'arn:aws:sqs:us-east-1:000000000000:Notify1Queue')).toBe(true);
    expect(arnMatches('*', 'anything')).toBe(true);
  });

  describe('resource policies', () => {
    const bucket = 'arn:aws:s3:::lambdapipelines-uploads';
    // What CDK writes for enforceSSL: true.
    const enforceSsl = policy({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:*',
      Resource: [bucket, `${bucket}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    const grant = policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucket}/*` });

    it("CDK's enforceSSL statement denies a request made without TLS, explicitly, as the bucket's policy", () => {
      expect(evaluate(request('s3:GetObject', `${bucket}/k`, { 'aws:SecureTransport': 'false' }), { identity: [grant], resource: enforceSsl })).toMatchObject({
        allowed: false,
        explicit: true,
        policyType: 'resource-based',
        message: expect.stringMatching(/with an explicit deny in a resource-based policy$/),
      });
      expect(evaluate(request('s3:GetObject', `${bucket}/k`, { 'aws:SecureTransport': 'true' }), { identity: [grant], resource: enforceSsl })).toMatchObject({ allowed: true, by: 'identity-based' });
    });

    it('an Allow naming the role (or its session) is enough; naming the account delegates to the identity policies', () => {
      const toRole = policy({ Effect: 'Allow', Principal: { AWS: role.kind === 'role' ? role.roleArn : '' }, Action: 's3:PutObject', Resource: `${bucket}/*` });
      expect(evaluate(request('s3:PutObject', `${bucket}/k`), { identity: [], resource: toRole })).toMatchObject({ allowed: true, by: 'resource-based' });
      const toAccount = policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 's3:PutObject', Resource: `${bucket}/*` });
      expect(evaluate(request('s3:PutObject', `${bucket}/k`), { identity: [], resource: toAccount }).allowed).toBe(false);
      // A Deny naming the account covers every principal in it.
      const denyAccount = policy({ Effect: 'Deny', Principal: { AWS: ACCOUNT }, Action: 's3:PutObject', Resource: `${bucket}/*` });
      expect(evaluate(request('s3:PutObject', `${bucket}/k`), { identity: [policy({ Effect: 'Allow', Action: 's3:*', Resource: '*' })], resource: denyAccount })).toMatchObject({ allowed: false, explicit: true });
    });

    it("a queue policy's Allow for SNS with ArnEquals aws:SourceArn admits that topic only (what CDK writes for a subscription)", () => {
      const queue = `arn:aws:sqs:us-east-1:${ACCOUNT}:NotifyQueue`;
      const topic = `arn:aws:sns:us-east-1:${ACCOUNT}:Uploads`;
      const queuePolicy = policy({ Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: queue, Condition: { ArnEquals: { 'aws:SourceArn': topic } } });
      const sns: RequestPrincipal = { kind: 'service', service: 'sns.amazonaws.com' };
      expect(evaluate({ principal: sns, action: 'sqs:SendMessage', resource: queue, context: { 'aws:SourceArn': topic } }, { identity: [], resource: queuePolicy })).toMatchObject({ allowed: true, by: 'resource-based' });
      expect(evaluate({ principal: sns, action: 'sqs:SendMessage', resource: queue, context: { 'aws:SourceArn': `${topic}Other` } }, { identity: [], resource: queuePolicy })).toMatchObject({
        allowed: false,
        message: `User: sns.amazonaws.com is not authorized to perform: sqs:SendMessage on resource: ${queue} because no resource-based policy allows the sqs:SendMessage action`,
      });
      // The role is not SNS.
      expect(evaluate(request('sqs:SendMessage', queue, { 'aws:SourceArn': topic }), { identity: [], resource: queuePolicy }).allowed).toBe(false);
    });

    it('a statement without Principal applies to no one; NotPrincipal to everyone else', () => {
      const noPrincipal = policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucket}/*` });
      expect(evaluate(request('s3:GetObject', `${bucket}/k`), { identity: [], resource: noPrincipal }).allowed).toBe(false);
      const allButRole = policy({ Effect: 'Deny', NotPrincipal: { AWS: role.kind === 'role' ? role.roleArn : '' }, Action: 's3:*', Resource: `${bucket}/*` });
      const allow = policy({ Effect: 'Allow', Action: 's3:*', Resource: '*' });
      expect(evaluate(request('s3:GetObject', `${bucket}/k`), { identity: [allow], resource: allButRole }).allowed).toBe(true);
      const other: RequestPrincipal = { kind: 'role', account: ACCOUNT, roleArn: `arn:aws:iam::${ACCOUNT}:role/Other`, sessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/Other/f` };
      expect(evaluate({ principal: other, action: 's3:GetObject', resource: `${bucket}/k` }, { identity: [allow], resource: allButRole })).toMatchObject({ allowed: false, explicit: true });
    });
  });
});

describe('condition operators', () => {
  it('keys are case-insensitive; values of one key OR, keys and operators AND', () => {
    const block = { StringEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'], 's3:prefix': 'images/' }, Bool: { 'aws:SecureTransport': 'true' } };
    expect(conditionsHold(block, { 'AWS:requestedregion': 'eu-west-1', 's3:prefix': 'images/', 'aws:SecureTransport': 'TRUE' })).toBe(true);
    expect(conditionsHold(block, { 'aws:RequestedRegion': 'ap-south-1', 's3:prefix': 'images/', 'aws:SecureTransport': 'true' })).toBe(false);
    expect(conditionsHold(block, { 'aws:RequestedRegion': 'us-east-1', 's3:prefix': 'images/', 'aws:SecureTransport': 'false' })).toBe(false);
  });

  it('an absent key: positive operators false, negated operators true, IfExists true, Null by its value', () => {
    expect(conditionsHold({ StringEquals: { 'aws:SourceAccount': ACCOUNT } }, {})).toBe(false);
    expect(conditionsHold({ StringNotEquals: { 'aws:SourceAccount': ACCOUNT } }, {})).toBe(true);
    expect(conditionsHold({ ArnLikeIfExists: { 'aws:SourceArn': 'arn:aws:sns:*:*:Uploads' } }, {})).toBe(true);
    expect(conditionsHold({ ArnLikeIfExists: { 'aws:SourceArn': 'arn:aws:sns:*:*:Uploads' } }, { 'aws:SourceArn': 'arn:aws:sns:us-east-1:1:Other' })).toBe(false);
    expect(conditionsHold({ Null: { 'aws:TokenIssueTime': 'true' } }, {})).toBe(true);
    expect(conditionsHold({ Null: { 'aws:TokenIssueTime': 'false' } }, {})).toBe(false);
    expect(conditionsHold({ Bool: { 'aws:SecureTransport': 'false' } }, {})).toBe(false);
  });

  it('negated operators hold when the value matches none of the listed ones', () => {
    expect(conditionsHold({ StringNotLike: { 's3:prefix': ['images/*', 'imports/*'] } }, { 's3:prefix': 'reports/x' })).toBe(true);
    expect(conditionsHold({ StringNotLike: { 's3:prefix': ['images/*', 'imports/*'] } }, { 's3:prefix': 'imports/people/a.csv' })).toBe(false);
    expect(conditionsHold({ ArnNotEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:1:A' } }, { 'aws:SourceArn': 'arn:aws:sns:us-east-1:1:B' })).toBe(true);
  });

  it('ForAllValues and ForAnyValue over multivalued keys (the guide\'s tag-keys examples), empty sets included', () => {
    const allOf = { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['project', 'team'] } };
    expect(conditionsHold(allOf, { 'aws:TagKeys': ['project'] })).toBe(true);
    expect(conditionsHold(allOf, { 'aws:TagKeys': ['project', 'cost'] })).toBe(false);
    expect(conditionsHold(allOf, {})).toBe(true);
    const anyOf = { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['project', 'team'] } };
    expect(conditionsHold(anyOf, { 'aws:TagKeys': ['cost', 'team'] })).toBe(true);
    expect(conditionsHold(anyOf, { 'aws:TagKeys': ['cost'] })).toBe(false);
    expect(conditionsHold(anyOf, {})).toBe(false);
  });

  it('numbers, dates and ARN patterns', () => {
    expect(conditionsHold({ NumericLessThanEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': '10' })).toBe(true);
    expect(conditionsHold({ NumericLessThan: { 's3:max-keys': '10' } }, { 's3:max-keys': 'ten' })).toBe(false);
    expect(conditionsHold({ DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' } }, { 'aws:CurrentTime': '2026-11-29T00:00:00Z' })).toBe(true);
    expect(conditionsHold({ ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::lambdapipelines-*' } }, { 'aws:SourceArn': 'arn:aws:s3:::lambdapipelines-uploads' })).toBe(true);
  });

  it('an operator it does not know is an error naming it, never a silent match', () => {
    expect(() => conditionsHold({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '10.1.2.3' })).toThrow(PolicyConditionError);
    expect(() => conditionsHold({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, {})).toThrow(/IpAddress is not evaluated locally \(key aws:SourceIp\)/);
  });
});
