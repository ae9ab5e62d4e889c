// The Condition element of an IAM policy statement, evaluated as the IAM User Guide documents it
// ("IAM JSON policy elements: Condition operators" and "Conditions with multiple context keys or
// values"):
//   - every operator of a block must hold, every key of an operator must hold (AND); a key holds
//     when the request's value matches ANY of the policy's values (OR);
//   - negated operators (StringNotEquals, ArnNotLike...) hold when the value matches NONE of them;
//   - a key absent from the request: false, except for negated operators (true), `...IfExists`
//     (true) and `Null`; set operators `ForAllValues:` (true when absent) and `ForAnyValue:` (false);
//   - context keys are case-insensitive, so are `Bool` values.
// An operator this module does not know is an error that names it, never a silent match.

/** The request's context keys (`aws:SecureTransport`, `aws:SourceArn`...): single or multivalued. */
export type ConditionContext = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A statement's `Condition` element: operator -> key -> value(s). */
export type ConditionBlock = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

export class PolicyConditionError extends Error {}

/** `*` any run of characters, `?` one character; everything else literal. */
export function globMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

/**
 * ARN matching as ArnLike and the Resource element do it: the six parts (`arn:partition:service:
 * region:account:resource`) are compared part by part, so a wildcard does not reach across a colon
 * of the first five; the resource part keeps its own colons and slashes.
 */
export function arnMatches(pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  const p = splitArn(pattern);
  const a = splitArn(arn);
  if (!p || !a) return globMatches(pattern, arn);
  return p.every((part, i) => globMatches(part, a[i]!));
}

function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

type Matcher = (policyValue: string, requestValue: string) => boolean;

const numeric = (compare: (a: number, b: number) => boolean): Matcher => (p, r) => {
  const [a, b] = [Number(r), Number(p)];
  return Number.isFinite(a) && Number.isFinite(b) && compare(a, b);
};
const date = (compare: (a: number, b: number) => boolean): Matcher => (p, r) => {
  const parse = (v: string) => (/^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v));
  const [a, b] = [parse(r), parse(p)];
  return Number.isFinite(a) && Number.isFinite(b) && compare(a, b);
};

/** The positive form of each operator; `negated` ones hold when none of the values matches. */
const OPERATORS: Record<string, { match: Matcher; negated?: true }> = {
  StringEquals: { match: (p, r) => p === r },
  StringNotEquals: { match: (p, r) => p === r, negated: true },
  StringEqualsIgnoreCase: { match: (p, r) => p.toLowerCase() === r.toLowerCase() },
  StringNotEqualsIgnoreCase: { match: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: true },
  StringLike: { match: (p, r) => globMatches(p, r) },
  StringNotLike: { match: (p, r) => globMatches(p, r), negated: true },
  NumericEquals: { match: numeric((a, b) => a === b) },
  NumericNotEquals: { match: numeric((a, b) => a === b), negated: true },
  NumericLessThan: { match: numeric((a, b) => a < b) },
  NumericLessThanEquals: { match: numeric((a, b) => a <= b) },
  NumericGreaterThan: { match: numeric((a, b) => a > b) },
  NumericGreaterThanEquals: { match: numeric((a, b) => a >= b) },
  DateEquals: { match: date((a, b) => a === b) },
  DateNotEquals: { match: date((a, b) => a === b), negated: true },
  DateLessThan: { match: date((a, b) => a < b) },
  DateLessThanEquals: { match: date((a, b) => a <= b) },
  DateGreaterThan: { match: date((a, b) => a > b) },
  DateGreaterThanEquals: { match: date((a, b) => a >= b) },
  Bool: { match: (p, r) => p.toLowerCase() === r.toLowerCase() },
  ArnEquals: { match: (p, r) => arnMatches(p, r) },
  ArnLike: { match: (p, r) => arnMatches(p, r) },
  ArnNotEquals: { match: (p, r) => arnMatches(p, r), negated: true },
  ArnNotLike: { match: (p, r) => arnMatches(p, r), negated: true },
};

/** The request's value(s) for a key, looked up case-insensitively; undefined when absent. */
function lookUp(context: ConditionContext, key: string): readonly string[] | undefined {
  const wanted = key.toLowerCase();
  for (const [k, v] of Object.entries(context)) {
    if (k.toLowerCase() !== wanted || v === undefined) continue;
    return typeof v === 'string' ? [v] : v;
  }
  return undefined;
}

const policyValues = (raw: unknown, operator: string, key: string): string[] => {
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((v) => {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new PolicyConditionError(`Condition ${operator} ${key}: a value must be a string, number or boolean, not ${JSON.stringify(v)}`);
  });
};

/** Whether one `operator: { key: values }` entry holds for the request. */
function operatorHolds(operator: string, keys: Readonly<Record<string, unknown>>, context: ConditionContext): boolean {
  const setPrefix = /^(ForAllValues|ForAnyValue):/.exec(operator)?.[1] as 'ForAllValues' | 'ForAnyValue' | undefined;
  let name = setPrefix ? operator.slice(setPrefix.length + 1) : operator;
  const ifExists = name.endsWith('IfExists');
  if (ifExists) name = name.slice(0, -'IfExists'.length);
  for (const [key, raw] of Object.entries(keys)) {
    const wanted = policyValues(raw, operator, key);
    const actual = lookUp(context, key);
    if (name === 'Null') {
      // "true": the key must be absent; "false": present.
      const absent = actual === undefined || actual.length === 0;
      if (!wanted.some((w) => (w.toLowerCase() === 'true') === absent)) return false;
      continue;
    }
    const op = OPERATORS[name];
    if (!op) throw new PolicyConditionError(`Condition operator ${operator} is not evaluated locally (key ${key}); supported: ${[...Object.keys(OPERATORS), 'Null'].join(', ')}, with IfExists, ForAllValues: and ForAnyValue:`);
    const one = (value: string) => {
      const any = wanted.some((w) => op.match(w, value));
      return op.negated ? !any : any;
    };
    let holds: boolean;
    if (actual === undefined || actual.length === 0) holds = setPrefix === 'ForAllValues' || (!setPrefix && (ifExists || op.negated === true));
    else if (setPrefix === 'ForAllValues') holds = actual.every(one);
    else if (setPrefix === 'ForAnyValue') holds = actual.some(one);
    else holds = actual.length === 1 ? one(actual[0]!) : actual.some(one);
    if (!holds) return false;
  }
  return true;
}

/** Whether a statement's whole Condition block holds for the request (no block: it holds). */
export function conditionsHold(block: ConditionBlock | undefined, context: ConditionContext): boolean {
  if (!block) return true;
  return Object.entries(block).every(([operator, keys]) => operatorHolds(operator, keys, context));
}
