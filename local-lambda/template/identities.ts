// The names, ARNs and URLs of the resources the local Lambda service runs, known from the template
// alone, before anything is deployed: as CloudFormation names them on AWS (the template's own name
// where it gives one, else `<stack>-<logical id>-<suffix>`), with a suffix derived from the stack
// and the logical id so that a restarted service finds the same names again.
import { createHash } from 'node:crypto';
import { resolveString, type ResolveContext } from './intrinsics';
import type { Identity } from './split';
import { isServiceResource } from './split';
import { TemplateError, type CfnTemplate } from './template';

export interface StackInfo {
  name: string;
  region: string;
  accountId: string;
}

/** Where the service serves the n-th Function URL of the template (in logical-id order). */
export type UrlOf = (index: number) => string;

/** Lambda's limits on names it generates and accepts. */
const MAX_NAME = 64;

/** CloudFormation's generated name: stack and logical id (shortened to fit) and a 12-character suffix. */
export function generatedName(stack: string, logicalId: string, max = MAX_NAME): string {
  const suffix = createHash('sha256').update(`${stack}/${logicalId}`).digest('base64url').replace(/[^A-Za-z0-9]/g, '').slice(0, 12).toUpperCase();
  const room = max - suffix.length - 2;
  // Both parts whole when they fit; otherwise the logical id keeps at least half of the room.
  const idPart = logicalId.slice(0, Math.max(room - stack.length, Math.floor(room / 2)));
  const stackPart = stack.slice(0, room - idPart.length);
  return `${stackPart}-${idPart}-${suffix}`;
}

/** A deterministic UUID (what Lambda gives an event source mapping), from a name. */
export function nameUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const functionArn = (s: StackInfo, name: string): string => `arn:aws:lambda:${s.region}:${s.accountId}:function:${name}`;

/** Resolves a name the template gives from pseudo parameters only (nothing is deployed yet). */
function nameFrom(value: unknown, stack: StackInfo, at: string): string {
  const ctx: ResolveContext = {
    ref: (id) => {
      const pseudo: Record<string, string> = { 'AWS::Region': stack.region, 'AWS::AccountId': stack.accountId, 'AWS::StackName': stack.name, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com' };
      if (pseudo[id] !== undefined) return pseudo[id]!;
      throw new TemplateError(`${at}: a name the local Lambda service must know before deploying refers to ${id}; use a literal or pseudo parameters only`);
    },
    getAtt: (id) => {
      throw new TemplateError(`${at}: a name the local Lambda service must know before deploying refers to ${id}; use a literal or pseudo parameters only`);
    },
  };
  return resolveString(value, ctx, at);
}

/** Every resource the service runs, by logical id: its Ref and its attributes. */
export function serviceIdentities(template: CfnTemplate, stack: StackInfo, urlOf: UrlOf): Map<string, Identity> {
  const identities = new Map<string, Identity>();
  const ids = Object.keys(template.Resources).sort();
  const functionNames = new Map<string, string>();
  for (const id of ids) {
    const r = template.Resources[id]!;
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const given = r.Properties?.FunctionName;
    const name = given === undefined ? generatedName(stack.name, id) : nameFrom(given, stack, `Resources.${id}.Properties.FunctionName`);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new TemplateError(`Resources.${id}.Properties.FunctionName: "${name}" is not a valid function name (letters, digits, - and _, at most 64)`);
    functionNames.set(id, name);
    identities.set(id, { ref: name, attributes: { Arn: functionArn(stack, name) } });
  }
  // What a function's Ref or Arn resolves to, for the resources that name their function.
  const functionCtx = (at: string): ResolveContext => ({
    ref: (id) => identities.get(id)?.ref ?? nameFrom({ Ref: id }, stack, at),
    getAtt: (id, attribute) => identities.get(id)?.attributes[attribute] ?? nameFrom({ 'Fn::GetAtt': [id, attribute] }, stack, at),
  });
  let urls = 0;
  for (const id of ids) {
    const r = template.Resources[id]!;
    if (!isServiceResource(r) || r.Type === 'AWS::Lambda::Function') continue;
    const p = r.Properties ?? {};
    const at = `Resources.${id}.Properties`;
    switch (r.Type) {
      case 'AWS::Lambda::Url': {
        const target = resolveString(p.TargetFunctionArn, functionCtx(`${at}.TargetFunctionArn`), `${at}.TargetFunctionArn`);
        identities.set(id, { ref: target, attributes: { FunctionUrl: urlOf(urls++), FunctionArn: target } });
        break;
      }
      case 'AWS::Lambda::EventSourceMapping': {
        const uuid = nameUuid(`${stack.name}/${id}`);
        identities.set(id, { ref: uuid, attributes: { Id: uuid, EventSourceMappingArn: `arn:aws:lambda:${stack.region}:${stack.accountId}:event-source-mapping:${uuid}` } });
        break;
      }
      case 'AWS::Scheduler::Schedule': {
        const name = p.Name === undefined ? generatedName(stack.name, id) : nameFrom(p.Name, stack, `${at}.Name`);
        identities.set(id, { ref: name, attributes: { Arn: `arn:aws:scheduler:${stack.region}:${stack.accountId}:schedule/default/${name}` } });
        break;
      }
      default:
        identities.set(id, { ref: generatedName(stack.name, id), attributes: {} });
    }
  }
  return identities;
}
