// CloudFormation's intrinsic functions, resolved the way CloudFormation resolves them, for the parts
// of the template the local Lambda service runs itself (functions, mappings, URLs, schedules). One
// map from function name to handler, each checking its arguments with a message that names the
// function, the argument and where in the template it stands. What is not here is refused by name.
import { TemplateError } from './template';

/** What an expression can refer to: resources (Ref, GetAtt), parameters and pseudo parameters. */
export interface ResolveContext {
  /** Ref of a resource or parameter (pseudo parameters included: AWS::Region...). */
  ref(id: string, at: string): string;
  /** Fn::GetAtt of a resource. */
  getAtt(id: string, attribute: string, at: string): string;
  mappings?: Record<string, Record<string, Record<string, unknown>>>;
}

type Handler = (arg: unknown, ctx: ResolveContext, at: string) => unknown;

const fail = (at: string, message: string): never => {
  throw new TemplateError(`${at}: ${message}`);
};

const asString = (value: unknown, at: string, what: string): string => {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return fail(at, `${what} must be a string, not ${JSON.stringify(value)?.slice(0, 80)}`);
};

const asList = (value: unknown, at: string, what: string): unknown[] => (Array.isArray(value) ? value : fail(at, `${what} must be a list`));

/** `${Name}`, `${Resource.Attribute}` and `${!Literal}` of Fn::Sub. */
function substitute(text: string, vars: Record<string, unknown>, ctx: ResolveContext, at: string): string {
  return text.replace(/\$\{([^}]*)\}/g, (_, inner: string) => {
    if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
    if (inner in vars) return asString(vars[inner], at, `Fn::Sub variable ${inner}`);
    const dot = inner.indexOf('.');
    if (dot > 0 && !inner.startsWith('AWS::')) return ctx.getAtt(inner.slice(0, dot), inner.slice(dot + 1), at);
    return ctx.ref(inner, at);
  });
}

const handlers: Record<string, Handler> = {
  Ref: (arg, ctx, at) => ctx.ref(asString(arg, at, 'Ref\'s argument'), at),
  'Fn::GetAtt': (arg, ctx, at) => {
    const [id, attribute] = Array.isArray(arg) ? arg : typeof arg === 'string' ? [arg.slice(0, arg.indexOf('.')), arg.slice(arg.indexOf('.') + 1)] : [];
    if (typeof id !== 'string' || !id) return fail(at, 'Fn::GetAtt takes [LogicalId, Attribute]: its first argument is missing');
    return ctx.getAtt(id, asString(resolveValue(attribute, ctx, at), at, 'Fn::GetAtt\'s second argument (the attribute)'), at);
  },
  'Fn::Join': (arg, ctx, at) => {
    const [delimiter, values] = asList(arg, at, 'Fn::Join\'s argument');
    const list = asList(resolveValue(values, ctx, at), at, 'Fn::Join\'s second argument');
    return list.map((v, i) => asString(resolveValue(v, ctx, `${at}[${i}]`), at, `Fn::Join's value ${i + 1}`)).join(asString(delimiter, at, 'Fn::Join\'s delimiter'));
  },
  'Fn::Sub': (arg, ctx, at) => {
    const [text, vars = {}] = Array.isArray(arg) ? arg : [arg];
    if (typeof vars !== 'object' || vars === null || Array.isArray(vars)) return fail(at, 'Fn::Sub\'s second argument must be a map of variables');
    const resolved = Object.fromEntries(Object.entries(vars as Record<string, unknown>).map(([k, v]) => [k, resolveValue(v, ctx, `${at}.${k}`)]));
    return substitute(asString(text, at, 'Fn::Sub\'s first argument'), resolved, ctx, at);
  },
  'Fn::Select': (arg, ctx, at) => {
    const [index, values] = asList(arg, at, 'Fn::Select\'s argument');
    const list = asList(resolveValue(values, ctx, at), at, 'Fn::Select\'s second argument');
    const i = Number(resolveValue(index, ctx, at));
    if (!Number.isInteger(i) || i < 0 || i >= list.length) return fail(at, `Fn::Select's index ${String(index)} is outside the list of ${list.length}`);
    return resolveValue(list[i], ctx, at);
  },
  'Fn::Split': (arg, ctx, at) => {
    const [delimiter, text] = asList(arg, at, 'Fn::Split\'s argument');
    return asString(resolveValue(text, ctx, at), at, 'Fn::Split\'s second argument').split(asString(delimiter, at, 'Fn::Split\'s delimiter'));
  },
  'Fn::Base64': (arg, ctx, at) => Buffer.from(asString(resolveValue(arg, ctx, at), at, 'Fn::Base64\'s argument')).toString('base64'),
  'Fn::FindInMap': (arg, ctx, at) => {
    const [map, first, second] = asList(arg, at, 'Fn::FindInMap\'s argument').map((v, i) => asString(resolveValue(v, ctx, at), at, `Fn::FindInMap's argument ${i + 1}`));
    const value = ctx.mappings?.[map!]?.[first!]?.[second!];
    return value === undefined ? fail(at, `Fn::FindInMap: no ${map}.${first}.${second} in the template's Mappings`) : value;
  },
};

/** Every intrinsic function the local service resolves. */
export const SUPPORTED_INTRINSICS = Object.keys(handlers);

/** Resolves every intrinsic inside `value`; `at` names where it stands, for messages. */
export function resolveValue(value: unknown, ctx: ResolveContext, at: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => resolveValue(v, ctx, `${at}[${i}]`));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, arg] = entries[0]!;
    if (key === 'Ref' || key.startsWith('Fn::')) {
      const handler = handlers[key];
      if (!handler) return fail(at, `${key} is not supported by the local Lambda service (it resolves ${SUPPORTED_INTRINSICS.join(', ')})`);
      return handler(arg, ctx, at);
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveValue(v, ctx, `${at}.${k}`)]));
}

/** Resolves an expression that must end as a string (an environment value, a name, an ARN). */
export function resolveString(value: unknown, ctx: ResolveContext, at: string): string {
  return asString(resolveValue(value, ctx, at), at, 'the value');
}
