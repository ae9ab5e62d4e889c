// The CloudFormation template the CDK app synthesizes (cdk.out/<stack>.template.json), as the local
// run reads it: the very file `cdk deploy` sends to AWS.
import { readFileSync } from 'node:fs';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  Condition?: string;
  Metadata?: unknown;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  [attribute: string]: unknown;
}

export interface CfnOutput {
  Value: unknown;
  Description?: string;
  Export?: { Name: unknown };
  Condition?: string;
}

export interface CfnTemplate {
  AWSTemplateFormatVersion?: string;
  Description?: string;
  Metadata?: unknown;
  Parameters?: Record<string, { Type: string; Default?: unknown; Description?: string; [key: string]: unknown }>;
  Rules?: Record<string, unknown>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Conditions?: Record<string, unknown>;
  Transform?: unknown;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, CfnOutput>;
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** Reads a synthesized template; a missing or broken file is one sentence saying what to run. */
export function readTemplate(file: string): CfnTemplate {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TemplateError(`cannot read the stack's template ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): run make synth (or make up, which synthesizes it)`);
  }
  let template: CfnTemplate;
  try {
    template = JSON.parse(text) as CfnTemplate;
  } catch (error) {
    throw new TemplateError(`${file} is not JSON (${(error as Error).message}): run make synth again`);
  }
  if (!template || typeof template !== 'object' || typeof template.Resources !== 'object' || template.Resources === null) {
    throw new TemplateError(`${file} has no Resources: is it a CloudFormation template?`);
  }
  return template;
}

/** The resource's DependsOn as a list. */
export const dependsOn = (r: CfnResource): string[] => (r.DependsOn === undefined ? [] : [r.DependsOn].flat());

/** The logical ids an expression refers to (Ref, Fn::GetAtt, and `${X}` / `${X.Attr}` in Fn::Sub). */
export function referencedIds(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) referencedIds(v, into);
  } else if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0]!;
      if (key === 'Ref' && typeof arg === 'string') into.add(arg);
      if (key === 'Fn::GetAtt') {
        const target = Array.isArray(arg) ? arg[0] : typeof arg === 'string' ? arg.split('.')[0] : undefined;
        if (typeof target === 'string') into.add(target);
      }
      if (key === 'Fn::Sub') {
        const [text, vars] = Array.isArray(arg) ? [arg[0], arg[1] as Record<string, unknown> | undefined] : [arg, undefined];
        if (typeof text === 'string') {
          for (const m of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
            const name = m[1]!.split('.')[0]!;
            if (!vars || !(name in vars)) into.add(name);
          }
        }
        if (vars) referencedIds(vars, into);
        return into;
      }
    }
    for (const [, v] of entries) referencedIds(v, into);
  }
  return into;
}

/** Pseudo parameters are not resources. */
export const isPseudo = (id: string): boolean => id.startsWith('AWS::');
