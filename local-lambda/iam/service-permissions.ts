// What Lambda itself does with a function's role, checked when the stack is deployed, as AWS
// checks it when the mapping or the invoke config is created (CloudFormation then fails with these
// messages): an SQS mapping receives, deletes and reads the queue's attributes; a DynamoDB stream
// mapping reads the stream; an on-failure or on-success destination is sent to. And what Scheduler
// does with a schedule's role at each fire time: invoke the function.
import type { LocalPlan } from '../template/plan';
import { evaluate, type RequestPrincipal } from './policy-evaluation';
import type { StackPolicies } from './template-policies';
import { policyOwner } from './checking-endpoint';

const STREAM_ACTIONS = ['dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:DescribeStream', 'dynamodb:ListStreams'];

/** One sentence per missing permission, naming the function, the resource and AWS's words. */
export function mappingPermissionProblems(plan: LocalPlan, policies: StackPolicies): string[] {
  const problems: string[] = [];
  const account = plan.stack.accountId;
  const allowed = (fnName: string, action: string, resource: string): boolean => {
    const fn = plan.functions.find((f) => f.name === fnName);
    const role = fn ? policies.roles.get(fn.roleArn) : undefined;
    if (!role) return false;
    const principal: RequestPrincipal = { kind: 'role', account, roleArn: role.roleArn, sessionArn: `arn:aws:sts::${account}:assumed-role/${role.roleName}/${fnName}` };
    return evaluate({ principal, action, resource, context: { 'aws:SecureTransport': 'true' } }, { identity: role.policies, resource: policies.resources.get(policyOwner(resource)) }).allowed;
  };
  for (const m of plan.mappings) {
    if (m.kind === 'sqs') {
      for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']) {
        if (!allowed(m.function, action, m.queueArn)) problems.push(`${m.logicalId} (${m.function}): Invalid request provided: The provided execution role does not have permissions to call ${action.slice(4)} on SQS (${m.queueArn})`);
      }
    } else {
      const missing = STREAM_ACTIONS.filter((a) => !allowed(m.function, a, m.streamArn));
      if (missing.length > 0) problems.push(`${m.logicalId} (${m.function}): Cannot access stream ${m.streamArn}. Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM (missing: ${missing.join(', ')})`);
      if (m.onFailure && !allowed(m.function, 'sqs:SendMessage', m.onFailure)) problems.push(`${m.logicalId} (${m.function}): The provided execution role does not have permissions to call SendMessage on ${m.onFailure}`);
    }
  }
  for (const config of plan.asyncInvokes) {
    for (const destination of [config.onFailure, config.onSuccess]) {
      if (destination && !allowed(config.function, 'sqs:SendMessage', destination)) problems.push(`${config.function}: The function execution role does not have permissions to call SendMessage on ${destination}`);
    }
  }
  return problems;
}

/** Why Scheduler may not invoke the function as the schedule's role (AWS's message), or undefined. */
export function scheduleInvokeDenial(policies: StackPolicies, schedule: { name: string; roleArn?: string }, functionArn: string, account: string): string | undefined {
  const role = schedule.roleArn ? policies.roles.get(schedule.roleArn) : undefined;
  if (!role) return `Scheduler could not assume the role ${schedule.roleArn ?? '(none)'}: it is not a role of this stack`;
  const principal: RequestPrincipal = { kind: 'role', account, roleArn: role.roleArn, sessionArn: `arn:aws:sts::${account}:assumed-role/${role.roleName}/${schedule.name}` };
  const decision = evaluate({ principal, action: 'lambda:InvokeFunction', resource: functionArn, context: { 'aws:SecureTransport': 'true' } }, { identity: role.policies });
  return decision.allowed ? undefined : `Lambda returned AccessDeniedException: ${decision.message}`;
}
