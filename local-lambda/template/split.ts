// One template, two owners. LocalStack's CloudFormation creates the resources it implements; the
// local Lambda service runs the others (functions, their mappings, invoke configs, URLs, schedules).
// The two halves refer to each other:
// - LocalStack's half names the service's resources (a role policy allowing lambda:InvokeFunction on
//   a function, an output with the API's URL): the service knows their names before anything is
//   deployed, so those references become literals in what LocalStack receives;
// - the service's half names LocalStack's resources (a function's environment names a table, a
//   mapping reads a queue): each such reference becomes an output of the LocalStack stack, so that
//   CloudFormation itself says what a Ref or a GetAtt is, physical names and ARNs included.
import { createHash } from 'node:crypto';
import { INERT_TEMPLATE_PARTS, ownerOf } from './support';
import { dependsOn, type CfnResource, type CfnTemplate } from './template';

/** The outputs the local run adds for its own use start with this; `make up` does not show them. */
export const REFERENCE_OUTPUT_PREFIX = 'LocalLambdaRef';

/** A reference from the service's half into LocalStack's: a Ref, or a GetAtt with its attribute. */
export interface Reference {
  id: string;
  attribute?: string;
}

export const referenceKey = (r: Reference): string => (r.attribute ? `${r.id}.${r.attribute}` : r.id);
export const referenceOutput = (r: Reference): string =>
  `${REFERENCE_OUTPUT_PREFIX}${createHash('sha256').update(referenceKey(r)).digest('hex').slice(0, 16)}`;

/** How the service's resources are known before anything is deployed: Ref and attributes of each. */
export interface Identity {
  ref: string;
  attributes: Record<string, string>;
}

export const isServiceResource = (r: CfnResource): boolean => ownerOf(r.Type) === 'local-lambda';

/** The resources whose policies the permission check evaluates. */
export const POLICY_TYPES = new Set(['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::S3::BucketPolicy', 'AWS::SNS::TopicPolicy', 'AWS::SQS::QueuePolicy']);

/** The references of the service's half to LocalStack's half (each once). */
export function referencesIntoLocalStack(template: CfnTemplate): Reference[] {
  const found = new Map<string, Reference>();
  const isLocalStack = (id: string) => template.Resources[id] !== undefined && !isServiceResource(template.Resources[id]!);
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value === null || typeof value !== 'object') return;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0]!;
      if (key === 'Ref' && typeof arg === 'string' && isLocalStack(arg)) found.set(arg, { id: arg });
      if (key === 'Fn::GetAtt') {
        const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/);
        if (typeof id === 'string' && typeof attribute === 'string' && isLocalStack(id)) found.set(`${id}.${attribute}`, { id, attribute });
      }
      if (key === 'Fn::Sub') {
        const [text, vars = {}] = Array.isArray(arg) ? arg : [arg];
        for (const m of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const [id, attribute] = m[1]!.split(/\.(.*)/) as [string, string | undefined];
          if (!(id in (vars as object)) && isLocalStack(id)) found.set(m[1]!, attribute ? { id, attribute } : { id });
        }
        visit(vars);
        return;
      }
    }
    for (const [, v] of entries) visit(v);
  };
  for (const resource of Object.values(template.Resources)) if (isServiceResource(resource)) visit(resource.Properties ?? {});
  // The permission check (local-lambda/iam/) reads the policies with their references resolved,
  // and knows each role by its ARN.
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (POLICY_TYPES.has(resource.Type)) visit(resource.Properties ?? {});
    if (resource.Type === 'AWS::IAM::Role') found.set(`${id}.Arn`, { id, attribute: 'Arn' });
  }
  return [...found.values()];
}

/** `value` with every reference to the service's resources replaced by what the service calls them. */
export function withServiceLiterals(value: unknown, identities: ReadonlyMap<string, Identity>, at: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => withServiceLiterals(v, identities, `${at}[${i}]`));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, arg] = entries[0]!;
    if (key === 'Ref' && typeof arg === 'string' && identities.has(arg)) return identities.get(arg)!.ref;
    if (key === 'Fn::GetAtt') {
      const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/);
      const identity = typeof id === 'string' ? identities.get(id) : undefined;
      if (identity) {
        const v = identity.attributes[String(attribute)];
        if (v === undefined) throw new Error(`${at}: Fn::GetAtt ${id}.${String(attribute)}: the local Lambda service has no attribute ${String(attribute)} for this resource (it has ${Object.keys(identity.attributes).join(', ') || 'none'})`);
        return v;
      }
    }
    if (key === 'Fn::Sub') {
      const [text, vars] = Array.isArray(arg) ? arg : [arg, undefined];
      const replaced = String(text).replace(/\$\{([^!}][^}]*)\}/g, (whole, inner: string) => {
        const [id, attribute] = inner.split(/\.(.*)/) as [string, string | undefined];
        if (vars && id in (vars as object)) return whole;
        const identity = identities.get(id);
        if (!identity) return whole;
        return attribute ? (identity.attributes[attribute] ?? whole) : identity.ref;
      });
      return { 'Fn::Sub': vars === undefined ? replaced : [replaced, withServiceLiterals(vars, identities, at)] };
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, withServiceLiterals(v, identities, `${at}.${k}`)]));
}

/**
 * The template LocalStack's CloudFormation receives: its own resources (without Metadata, which
 * only CDK reads), references to the service's resources as literals, DependsOn on them dropped,
 * the parts the local run leaves out by design dropped, and one output per reference the service
 * needs back.
 */
export function localStackTemplate(template: CfnTemplate, identities: ReadonlyMap<string, Identity>): CfnTemplate {
  const resources: Record<string, CfnResource> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (isServiceResource(resource)) continue;
    const { Metadata: _metadata, DependsOn: _dependsOn, ...rest } = resource;
    const kept = dependsOn(resource).filter((d) => !identities.has(d));
    resources[id] = {
      ...(withServiceLiterals(rest, identities, `Resources.${id}`) as CfnResource),
      ...(kept.length > 0 && { DependsOn: kept }),
    };
  }
  const outputs: NonNullable<CfnTemplate['Outputs']> = {};
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    outputs[name] = withServiceLiterals(output, identities, `Outputs.${name}`) as NonNullable<CfnTemplate['Outputs']>[string];
  }
  for (const r of referencesIntoLocalStack(template)) {
    outputs[referenceOutput(r)] = { Value: r.attribute ? { 'Fn::GetAtt': [r.id, r.attribute] } : { Ref: r.id }, Description: `local Lambda service: ${referenceKey(r)}` };
  }
  const parameters = Object.fromEntries(Object.entries(template.Parameters ?? {}).filter(([name]) => !INERT_TEMPLATE_PARTS[`Parameters.${name}`]));
  const rules = Object.fromEntries(Object.entries(template.Rules ?? {}).filter(([name]) => !INERT_TEMPLATE_PARTS[`Rules.${name}`]));
  return {
    AWSTemplateFormatVersion: template.AWSTemplateFormatVersion ?? '2010-09-09',
    ...(template.Description && { Description: template.Description }),
    ...(Object.keys(parameters).length > 0 && { Parameters: parameters }),
    ...(Object.keys(rules).length > 0 && { Rules: rules }),
    ...(template.Mappings && { Mappings: template.Mappings }),
    ...(template.Conditions && { Conditions: template.Conditions }),
    Resources: resources,
    ...(Object.keys(outputs).length > 0 && { Outputs: outputs }),
  };
}
