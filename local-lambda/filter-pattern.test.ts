import { compileFilterPattern, FilterPatternError } from './filter-pattern';

const matches = (pattern: string, message: string) => compileFilterPattern(pattern)(message);

describe('CloudWatch Logs filter patterns', () => {
  it('terms: all of them, case-sensitive; ?any of them; -none of them; quoted phrases', () => {
    expect(matches('', 'anything')).toBe(true);
    expect(matches('ERROR', '[ERROR] Caught IllegalArgumentException')).toBe(true);
    expect(matches('ERROR', '[error] lower case')).toBe(false);
    expect(matches('ERROR Exception', '[ERROR] Caught IllegalArgumentException')).toBe(true);
    expect(matches('ERROR Timeout', '[ERROR] Caught IllegalArgumentException')).toBe(false);
    expect(matches('?ERROR ?WARN', '[WARN] disk')).toBe(true);
    expect(matches('?ERROR ?WARN', '[INFO] fine')).toBe(false);
    expect(matches('ERROR -Exiting', '[ERROR] Exiting now')).toBe(false);
    expect(matches('"Status: timeout"', 'REPORT RequestId: r\tDuration: 3000.00 ms\tStatus: timeout')).toBe(true);
    expect(matches('?"Status: error" ?"Status: timeout"', 'REPORT RequestId: r\tStatus: error\tError Type: Runtime.Unhandled')).toBe(true);
    expect(matches('"\\"level\\":\\"error\\""', '{"level":"error","msg":"x"}')).toBe(true);
  });

  it('JSON: selectors, string wildcards, numbers, IS, NOT EXISTS, && and || with parentheses', () => {
    const line = JSON.stringify({ level: 'error', latency: 512, ok: false, user: { name: 'ada', roles: ['admin'] }, gone: null, code: 'AccessDeniedException' });
    expect(matches('{ $.level = "error" }', line)).toBe(true);
    expect(matches('{ $.level = error }', line)).toBe(true);
    expect(matches('{ $.level != "error" }', line)).toBe(false);
    expect(matches('{ $.code = "AccessDenied*" }', line)).toBe(true);
    expect(matches('{ $.code = "*Denied*" }', line)).toBe(true);
    expect(matches('{ $.latency >= 500 }', line)).toBe(true);
    expect(matches('{ $.latency < 500 }', line)).toBe(false);
    expect(matches('{ $.ok IS FALSE }', line)).toBe(true);
    expect(matches('{ $.gone IS NULL }', line)).toBe(true);
    expect(matches('{ $.absent NOT EXISTS }', line)).toBe(true);
    expect(matches('{ $.user.roles[0] = "admin" }', line)).toBe(true);
    expect(matches('{ ($.level = "warn") || ($.latency > 500 && $.user.name = "ada") }', line)).toBe(true);
    expect(matches('{ $.level = "warn" || $.latency > 600 }', line)).toBe(false);
    // A JSON pattern matches JSON events only; a missing property is no match.
    expect(matches('{ $.level = "error" }', 'ERROR not JSON')).toBe(false);
    expect(matches('{ $.nope = "x" }', line)).toBe(false);
    // Own properties only.
    expect(matches('{ $.constructor NOT EXISTS }', line)).toBe(true);
  });

  it('says what it cannot read, at which character', () => {
    expect(() => compileFilterPattern('[ip, user]')).toThrow('space-delimited filter patterns are not implemented locally');
    expect(() => compileFilterPattern('{ $.level = "error" ')).toThrow(FilterPatternError);
    expect(() => compileFilterPattern('{ level = "error" }')).toThrow('expected a selector starting with $ at character 3');
    expect(() => compileFilterPattern('{ $.n > "x" }')).toThrow('> compares numbers');
    expect(() => compileFilterPattern('"unclosed')).toThrow('an unclosed quote');
  });
});
