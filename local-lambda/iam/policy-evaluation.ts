// Whether a request of a function's role is allowed, by the logic the IAM User Guide documents in
// "Policy evaluation logic" for a principal and a resource of the same account, with no
// organization policies, permissions boundaries or session policies (a Lambda execution role has
// none of them unless the template adds them):
//   1. an explicit Deny in any applicable policy (the role's or the resource's) decides: denied;
//   2. an Allow in the resource's policy that names the principal (the role, its session, or
//      anyone: "*") allows; one that names the account delegates to the identity policies;
//   3. an Allow in one of the role's identity policies allows;
//   4. otherwise the implicit deny.
// A statement applies when its Action/NotAction, Resource/NotResource, Principal/NotPrincipal
// (resource policies) and Condition all match. Actions compare case-insensitively, resources
// case-sensitively, both with `*` and `?`. Denials carry AWS's message.
import { arnMatches, conditionsHold, globMatches, type ConditionBlock, type ConditionContext } from './condition-operators';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | readonly string[];
  NotAction?: string | readonly string[];
  Resource?: string | readonly string[];
  NotResource?: string | readonly string[];
  Principal?: PolicyPrincipal;
  NotPrincipal?: PolicyPrincipal;
  Condition?: ConditionBlock;
}

export type PolicyPrincipal = '*' | Readonly<Record<string, string | readonly string[]>>;

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement | readonly PolicyStatement[];
}

/** Who asks: a role's session (a function's environment) or an AWS service. */
export type RequestPrincipal =
  | { kind: 'role'; account: string; roleArn: string; sessionArn: string }
  | { kind: 'service'; service: string };

export interface AuthorizationRequest {
  principal: RequestPrincipal;
  /** `service:Action`, e.g. `dynamodb:PutItem`. */
  action: string;
  /** The resource's ARN (`*` for actions on no resource). */
  resource: string;
  context?: ConditionContext;
}

export interface PolicySet {
  /** The role's identity-based policies (inline and managed). */
  identity: readonly PolicyDocument[];
  /** The resource's policy (bucket, topic, queue policy), if it has one. */
  resource?: PolicyDocument;
}

export type Decision =
  | { allowed: true; by: 'identity-based' | 'resource-based'; sid?: string }
  | { allowed: false; explicit: boolean; policyType: 'identity-based' | 'resource-based'; sid?: string; message: string };

const list = (value: string | readonly string[] | undefined): readonly string[] => (value === undefined ? [] : typeof value === 'string' ? [value] : value);

export const statementsOf = (doc: PolicyDocument): readonly PolicyStatement[] => (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement as PolicyStatement]);

const actionMatches = (patterns: readonly string[], action: string) => patterns.some((p) => globMatches(p, action, true));
const resourceMatches = (patterns: readonly string[], resource: string) => patterns.some((p) => arnMatches(p, resource));

/** The principal's names as a Principal element may write them, keyed by element type. */
function principalNames(principal: RequestPrincipal): { aws: string[]; service: string[] } {
  if (principal.kind === 'service') return { aws: [], service: [principal.service] };
  return { aws: [principal.roleArn, principal.sessionArn], service: [] };
}

/**
 * Whether a resource policy's Principal names the caller. `account` says whether naming the
 * caller's account counts: it does for a Deny (it covers every principal of the account), not for
 * an Allow (the account delegates to its identity policies).
 */
function principalMatches(element: PolicyPrincipal, principal: RequestPrincipal, account: boolean): boolean {
  if (element === '*') return true;
  const names = principalNames(principal);
  for (const [type, raw] of Object.entries(element)) {
    for (const value of list(raw)) {
      if (type === 'AWS') {
        if (value === '*' || names.aws.includes(value)) return true;
        if (account && principal.kind === 'role' && (value === principal.account || value === `arn:aws:iam::${principal.account}:root`)) return true;
      }
      if (type === 'Service' && names.service.includes(value)) return true;
    }
  }
  return false;
}

/** An element and its Not- form: whether `value` matches; undefined when the statement has neither. */
function elementMatches(positive: string | readonly string[] | undefined, negative: string | readonly string[] | undefined, matches: (patterns: readonly string[], value: string) => boolean, value: string): boolean | undefined {
  if (positive !== undefined) return matches(list(positive), value);
  if (negative !== undefined) return !matches(list(negative), value);
  return undefined;
}

function statementApplies(s: PolicyStatement, request: AuthorizationRequest, inResourcePolicy: boolean): boolean {
  if (elementMatches(s.Action, s.NotAction, actionMatches, request.action) !== true) return false;
  // Without Resource or NotResource a resource policy's statement is about the resource it is
  // attached to; an identity policy's statement without either is invalid and applies to nothing.
  const resource = elementMatches(s.Resource, s.NotResource, resourceMatches, request.resource);
  if (resource === false || (resource === undefined && !inResourcePolicy)) return false;
  if (inResourcePolicy) {
    const deny = s.Effect === 'Deny';
    if (s.Principal === undefined && s.NotPrincipal === undefined) return false;
    if (s.Principal !== undefined && !principalMatches(s.Principal, request.principal, deny)) return false;
    if (s.NotPrincipal !== undefined && principalMatches(s.NotPrincipal, request.principal, deny)) return false;
  }
  return conditionsHold(s.Condition, request.context ?? {});
}

/** The caller's name in AWS's messages: the assumed-role session ARN, or the service. */
export const callerName = (principal: RequestPrincipal): string => (principal.kind === 'role' ? principal.sessionArn : principal.service);

/** AWS's sentence for a denial. */
export function denialMessage(request: AuthorizationRequest, explicit: boolean, policyType: 'identity-based' | 'resource-based'): string {
  const head = `User: ${callerName(request.principal)} is not authorized to perform: ${request.action} on resource: ${request.resource}`;
  return explicit ? `${head} with an explicit deny in a ${policyType} policy` : `${head} because no ${policyType} policy allows the ${request.action} action`;
}

export function evaluate(request: AuthorizationRequest, policies: PolicySet): Decision {
  const identity = request.principal.kind === 'role' ? policies.identity.flatMap(statementsOf) : [];
  const resource = policies.resource ? statementsOf(policies.resource) : [];
  const deny = (statements: readonly PolicyStatement[], inResource: boolean) => statements.find((s) => s.Effect === 'Deny' && statementApplies(s, request, inResource));
  const identityDeny = deny(identity, false);
  if (identityDeny) return { allowed: false, explicit: true, policyType: 'identity-based', ...(identityDeny.Sid && { sid: identityDeny.Sid }), message: denialMessage(request, true, 'identity-based') };
  const resourceDeny = deny(resource, true);
  if (resourceDeny) return { allowed: false, explicit: true, policyType: 'resource-based', ...(resourceDeny.Sid && { sid: resourceDeny.Sid }), message: denialMessage(request, true, 'resource-based') };
  const resourceAllow = resource.find((s) => s.Effect === 'Allow' && statementApplies(s, request, true));
  if (resourceAllow) return { allowed: true, by: 'resource-based', ...(resourceAllow.Sid && { sid: resourceAllow.Sid }) };
  const identityAllow = identity.find((s) => s.Effect === 'Allow' && statementApplies(s, request, false));
  if (identityAllow) return { allowed: true, by: 'identity-based', ...(identityAllow.Sid && { sid: identityAllow.Sid }) };
  const policyType = request.principal.kind === 'role' ? 'identity-based' : 'resource-based';
  return { allowed: false, explicit: false, policyType, message: denialMessage(request, false, policyType) };
}
