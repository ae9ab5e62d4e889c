// CloudWatch Logs filter patterns, as subscription filters apply them to log events (LocalStack
// 4.14 ignores them: the service matches them itself). Two forms:
// - terms: `ERROR` (the event contains it, case-sensitive), several terms all of them,
//   `?ERROR ?WARN` any of them, `-DEBUG` not that one, `"Status: error"` a quoted phrase;
//   the empty pattern matches every event;
// - JSON: `{ $.level = "error" }`, `{ $.latency >= 500 }`, `{ ($.a = "x*") || ($.b != 1) }`,
//   `{ $.ok IS TRUE }`, `{ $.x IS NULL }`, `{ $.x NOT EXISTS }`, `$.a.b[0]` paths, `*` wildcards.
// Space-delimited patterns (`[ip, user, ...]`) are not implemented: parsing one says so.
// Pure: parsing and matching only.

export type LogMatcher = (message: string) => boolean;

export class FilterPatternError extends Error {}

/** A matcher for `pattern`; throws FilterPatternError naming what it cannot read. */
export function compileFilterPattern(pattern: string): LogMatcher {
  const text = pattern.trim();
  if (text === '') return () => true;
  if (text.startsWith('{')) return jsonMatcher(text);
  if (text.startsWith('[')) throw new FilterPatternError(`space-delimited filter patterns are not implemented locally: ${pattern}`);
  return termMatcher(text);
}

// ---- terms

function termMatcher(text: string): LogMatcher {
  const all: string[] = [];
  const any: string[] = [];
  const none: string[] = [];
  const tokens = text.match(/[?-]?"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
  for (const token of tokens) {
    const sign = token[0] === '?' || token[0] === '-' ? token[0] : '';
    let term = sign ? token.slice(1) : token;
    if (term.startsWith('"')) {
      if (term.length < 2 || !term.endsWith('"')) throw new FilterPatternError(`an unclosed quote in the filter pattern: ${text}`);
      term = term.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    if (term === '') throw new FilterPatternError(`an empty term in the filter pattern: ${text}`);
    (sign === '?' ? any : sign === '-' ? none : all).push(term);
  }
  return (message) => all.every((t) => message.includes(t)) && (any.length === 0 || any.some((t) => message.includes(t))) && !none.some((t) => message.includes(t));
}

// ---- JSON

type Json = unknown;
type Node = { kind: 'or' | 'and'; left: Node; right: Node } | { kind: 'test'; path: (string | number)[]; test: (value: Json, exists: boolean) => boolean };

function jsonMatcher(text: string): LogMatcher {
  const parser = new JsonPatternParser(text);
  const root = parser.parse();
  return (message) => {
    let event: Json;
    try {
      event = JSON.parse(message);
    } catch {
      return false; // a JSON pattern matches JSON events only
    }
    return evaluate(root, event);
  };
}

function evaluate(node: Node, event: Json): boolean {
  if (node.kind !== 'test') return node.kind === 'or' ? evaluate(node.left, event) || evaluate(node.right, event) : evaluate(node.left, event) && evaluate(node.right, event);
  let value: Json = event;
  let exists = true;
  for (const step of node.path) {
    if (value !== null && typeof value === 'object' && Object.hasOwn(value as object, step)) value = (value as Record<string | number, Json>)[step];
    else {
      exists = false;
      value = undefined;
      break;
    }
  }
  return node.test(value, exists);
}

/** `*` anywhere in a pattern string matches any run of characters. */
const wildcard = (pattern: string): ((s: string) => boolean) => {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
  return (s) => re.test(s);
};

class JsonPatternParser {
  private at = 0;

  constructor(private readonly text: string) {}

  parse(): Node {
    this.expect('{');
    const node = this.or();
    this.expect('}');
    this.space();
    if (this.at < this.text.length) this.fail('text after the closing brace');
    return node;
  }

  private or(): Node {
    let left = this.and();
    while (this.take('||')) left = { kind: 'or', left, right: this.and() };
    return left;
  }

  private and(): Node {
    let left = this.primary();
    while (this.take('&&')) left = { kind: 'and', left, right: this.primary() };
    return left;
  }

  private primary(): Node {
    if (this.take('(')) {
      const node = this.or();
      this.expect(')');
      return node;
    }
    const path = this.path();
    if (this.takeWord('IS')) {
      if (this.takeWord('TRUE')) return { kind: 'test', path, test: (v) => v === true };
      if (this.takeWord('FALSE')) return { kind: 'test', path, test: (v) => v === false };
      if (this.takeWord('NULL')) return { kind: 'test', path, test: (v, exists) => exists && v === null };
      this.fail('TRUE, FALSE or NULL after IS');
    }
    if (this.takeWord('NOT')) {
      if (!this.takeWord('EXISTS')) this.fail('EXISTS after NOT');
      return { kind: 'test', path, test: (_v, exists) => !exists };
    }
    const op = this.operator();
    const operand = this.value();
    return { kind: 'test', path, test: comparison(op, operand) };
  }

  private path(): (string | number)[] {
    this.space();
    if (!this.text.startsWith('$', this.at)) this.fail('a selector starting with $');
    this.at++;
    const steps: (string | number)[] = [];
    for (;;) {
      if (this.text[this.at] === '.') {
        this.at++;
        const name = /^[A-Za-z0-9_@-]+/.exec(this.text.slice(this.at))?.[0];
        if (!name) this.fail('a property name after .');
        steps.push(name);
        this.at += name.length;
      } else if (this.text[this.at] === '[') {
        const index = /^\[(\d+)\]/.exec(this.text.slice(this.at));
        if (!index) this.fail('an array index like [0]');
        steps.push(Number(index[1]));
        this.at += index[0].length;
      } else break;
    }
    if (steps.length === 0) this.fail('a property after $');
    return steps;
  }

  private operator(): string {
    this.space();
    const op = ['!=', '>=', '<=', '=', '>', '<'].find((o) => this.text.startsWith(o, this.at));
    if (!op) this.fail('a comparison (=, !=, <, >, <=, >=), IS or NOT EXISTS');
    this.at += op.length;
    return op;
  }

  private value(): string | number {
    this.space();
    if (this.text[this.at] === '"') {
      const m = /^"((?:[^"\\]|\\.)*)"/.exec(this.text.slice(this.at));
      if (!m) this.fail('a closing quote');
      this.at += m[0].length;
      return m[1]!.replace(/\\(.)/g, '$1');
    }
    const m = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(this.text.slice(this.at));
    if (m) {
      this.at += m[0].length;
      return Number(m[0]);
    }
    // An unquoted word is a string (`$.level = error`), as CloudWatch reads it.
    const word = /^[^\s(){}&|]+/.exec(this.text.slice(this.at));
    if (!word) this.fail('a value');
    this.at += word[0].length;
    return word[0];
  }

  private space(): void {
    while (/\s/.test(this.text[this.at] ?? '')) this.at++;
  }

  private take(token: string): boolean {
    this.space();
    if (!this.text.startsWith(token, this.at)) return false;
    this.at += token.length;
    return true;
  }

  private takeWord(word: string): boolean {
    this.space();
    const next = this.text.slice(this.at, this.at + word.length);
    if (next !== word || /[A-Za-z]/.test(this.text[this.at + word.length] ?? '')) return false;
    this.at += word.length;
    return true;
  }

  private expect(token: string): void {
    if (!this.take(token)) this.fail(`"${token}"`);
  }

  private fail(what: string): never {
    throw new FilterPatternError(`expected ${what} at character ${this.at + 1} of the filter pattern ${this.text}`);
  }
}

function comparison(op: string, operand: string | number): (value: Json, exists: boolean) => boolean {
  if (typeof operand === 'number') {
    return (value) => {
      if (typeof value !== 'number') return false;
      switch (op) {
        case '=': return value === operand;
        case '!=': return value !== operand;
        case '>': return value > operand;
        case '<': return value < operand;
        case '>=': return value >= operand;
        default: return value <= operand;
      }
    };
  }
  if (op !== '=' && op !== '!=') throw new FilterPatternError(`${op} compares numbers, not the string "${operand}"`);
  const matches = wildcard(operand);
  // A string comparison reads strings (and the text of numbers and booleans, as CloudWatch does).
  return (value, exists) => {
    const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
    if (op === '=') return text !== undefined && matches(text);
    return exists && (text === undefined || !matches(text));
  };
}
