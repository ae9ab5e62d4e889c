import type { LocalPlan } from '../template/plan';
import type { PolicyDocument } from './policy-evaluation';
import { mappingPermissionProblems, scheduleInvokeDenial } from './service-permissions';
import type { StackPolicies } from './template-policies';

const ACCOUNT = '000000000000';
const QUEUE = `arn:aws:sqs:us-east-1:${ACCOUNT}:NotifyQueue`;
const STREAM = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/Log/stream/2026-11-29T00:00:00.000`;
const DLQ = `arn:aws:sqs:us-east-1:${ACCOUNT}:AuditDlq`;
const FN_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:report`;

const role = (name: string, ...Statement: PolicyDocument['Statement'][]) => ({ roleArn: `arn:aws:iam::${ACCOUNT}:role/${name}`, roleName: name, policies: [{ Version: '2012-10-17', Statement: Statement.flat() as never }], unknownManagedPolicies: [] });
// What CDK grants for an SqsEventSource and a DynamoEventSource with an SQS on-failure destination.
const policies: StackPolicies = {
  roles: new Map(
    [
      role('NotifyRole', { Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], Resource: QUEUE }),
      role('AuditRole', { Effect: 'Allow', Action: 'dynamodb:ListStreams', Resource: STREAM }, { Effect: 'Allow', Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], Resource: STREAM }),
      role('SchedulerRole', { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [FN_ARN, `${FN_ARN}:*`] }),
    ].map((r) => [r.roleArn, r]),
  ),
  resources: new Map(),
};

const plan = (onFailure?: string): LocalPlan =>
  ({
    stack: { name: 'S', region: 'us-east-1', accountId: ACCOUNT },
    functions: [
      { name: 'notify', roleArn: `arn:aws:iam::${ACCOUNT}:role/NotifyRole` },
      { name: 'audit', roleArn: `arn:aws:iam::${ACCOUNT}:role/AuditRole` },
    ],
    mappings: [
      { kind: 'sqs', logicalId: 'NotifyMapping', function: 'notify', queueArn: QUEUE },
      { kind: 'dynamodb-stream', logicalId: 'AuditMapping', function: 'audit', streamArn: STREAM, ...(onFailure && { onFailure }) },
    ],
    asyncInvokes: [],
    urls: [],
    schedules: [],
  }) as unknown as LocalPlan;

describe('what Lambda and Scheduler do with the roles', () => {
  it("CDK's grants for the mappings pass", () => {
    expect(mappingPermissionProblems(plan(), policies)).toEqual([]);
  });

  it("a destination the role may not send to is refused with AWS's words, naming mapping, function and queue", () => {
    expect(mappingPermissionProblems(plan(DLQ), policies)).toEqual([`AuditMapping (audit): The provided execution role does not have permissions to call SendMessage on ${DLQ}`]);
  });

  it('a queue the role may not read: each missing call named', () => {
    const narrower: StackPolicies = { ...policies, roles: new Map([...policies.roles].map(([arn, r]) => [arn, r.roleName === 'NotifyRole' ? role('NotifyRole', { Effect: 'Allow', Action: 'sqs:ReceiveMessage', Resource: QUEUE }) : r])) };
    expect(mappingPermissionProblems(plan(), narrower)).toEqual([
      `NotifyMapping (notify): Invalid request provided: The provided execution role does not have permissions to call DeleteMessage on SQS (${QUEUE})`,
      `NotifyMapping (notify): Invalid request provided: The provided execution role does not have permissions to call GetQueueAttributes on SQS (${QUEUE})`,
    ]);
  });

  it("Scheduler invokes as the schedule's role: allowed by its grant, else Lambda's AccessDeniedException", () => {
    expect(scheduleInvokeDenial(policies, { name: 'daily', roleArn: `arn:aws:iam::${ACCOUNT}:role/SchedulerRole` }, FN_ARN, ACCOUNT)).toBeUndefined();
    expect(scheduleInvokeDenial(policies, { name: 'daily', roleArn: `arn:aws:iam::${ACCOUNT}:role/NotifyRole` }, FN_ARN, ACCOUNT)).toBe(
      `Lambda returned AccessDeniedException: User: arn:aws:sts::${ACCOUNT}:assumed-role/NotifyRole/daily is not authorized to perform: lambda:InvokeFunction on resource: ${FN_ARN} because no identity-based policy allows the lambda:InvokeFunction action`,
    );
  });
});
