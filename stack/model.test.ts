import { baseStack } from './stack';
import { defineStack, overridesFromEnv, StackError, withOverrides, type StackSpec } from './model';

const mutate = (change: (s: StackSpec) => void): StackSpec => {
  const copy = structuredClone(baseStack);
  change(copy);
  return copy;
};
const problems = (s: StackSpec): string => {
  try {
    defineStack(s);
    return '';
  } catch (error) {
    expect(error).toBeInstanceOf(StackError);
    return (error as Error).message;
  }
};

describe('the stack description', () => {
  it('is valid as written: six functions, each with its triggers', () => {
    expect(baseStack.functions.map((f) => [f.name, f.triggers.map((t) => t.type)])).toEqual([
      ['thumbnail', ['s3']],
      ['notify', ['s3']],
      ['csv-import', ['s3']],
      ['audit', ['dynamodb-stream']],
      ['report', ['schedule']],
      ['api', []],
    ]);
  });

  it.each<[string, (s: StackSpec) => void, string]>([
    ['an unknown bucket', (s) => ((s.functions[0]!.triggers[0] as any).bucket = 'nope'), 'function "thumbnail" trigger 1 (s3): bucket "nope" is not a bucket of the stack'],
    ['a batch too big without a window', (s) => ((s.functions[1]!.triggers[0] as any).batchSize = 50), 'function "notify" trigger 1 (s3): batchSize 50 is outside 1-10 (above 10 needs maximumBatchingWindowInSeconds >= 1)'],
    ['a prefix S3 would encode', (s) => ((s.functions[0]!.triggers[0] as any).prefixes = ['my images/']), 'key filter "my images/" may only hold letters, digits and / _ . -'],
    ['a prefix AND a suffix', (s) => ((s.functions[2]!.triggers[0] as any).suffixes = ['.csv']), 'prefixes and suffixes together cannot be filtered'],
    ['a visibility below the timeout', (s) => ((s.functions[0]!.triggers[0] as any).visibilityTimeoutSeconds = 30), 'visibilityTimeoutSeconds 30 must be at least the function timeout (60 s)'],
    ['a stream trigger on a table without a stream', (s) => ((s.functions[3]!.triggers[0] as any).table = 'imported-rows'), 'table "imported-rows" has no stream'],
    ['a timeout above 900 s', (s) => (s.functions[2]!.timeoutSeconds = 901), 'function "csv-import": timeoutSeconds 901 is outside Lambda\'s 1-900'],
    ['an environment ref to nothing', (s) => (s.functions[1]!.environment.TOPIC_ARN = { ref: 'topic', name: 'ghost', attribute: 'arn', access: 'publish' }), 'function "notify": TOPIC_ARN names topic "ghost", which is not in the stack'],
    ['a reserved variable', (s) => (s.functions[1]!.environment.AWS_REGION = 'eu-west-1'), 'environment variable AWS_REGION is reserved by Lambda'],
    ['a function declared twice', (s) => s.functions.push(structuredClone(s.functions[0]!)), 'function "thumbnail" is declared twice'],
    ['retries out of range', (s) => ((s.functions[3]!.triggers[0] as any).maximumRetryAttempts = -2), 'maximumRetryAttempts -2 is outside -1-10000'],
    ['a URL open to anyone without saying so', (s) => (s.functions[5]!.url = { authType: 'NONE' }), 'function "api": url.authType NONE opens the URL to anyone on the internet; keep AWS_IAM, or set url.publicAccess: true'],
    ['a CORS origin with a path', (s) => (s.functions[5]!.url = { authType: 'AWS_IAM', cors: { allowOrigins: ['http://127.0.0.1:9080/app'], allowMethods: ['GET'] } }), 'url.cors origin "http://127.0.0.1:9080/app" is not * or scheme://host[:port]'],
    ['a grant on a bucket not in the stack', (s) => (s.functions[5]!.grants = [{ ref: 'bucket', name: 'elsewhere', attribute: 'name', access: 'write' }]), 'function "api": a grant names bucket "elsewhere", which is not in the stack'],
    ['a malformed schedule', (s) => ((s.functions[4]!.triggers[0] as any).expression = 'cron(0 6 * * * *)'), 'function "report" trigger 1 (schedule): cron(0 6 * * * *): exactly one of day-of-month (*) and day-of-week (*) must be ?'],
    ['a schedule minute out of range', (s) => ((s.functions[4]!.triggers[0] as any).expression = 'cron(60 6 * * ? *)'), 'function "report" trigger 1 (schedule): cron(60 6 * * ? *): minutes 60 is outside 0-59'],
    ['an unknown time zone', (s) => ((s.functions[4]!.triggers[0] as any).timezone = 'Europe/Atlantis'), 'time zone "Europe/Atlantis" is not an IANA time zone name'],
    ['schedule retries out of range', (s) => ((s.functions[4]!.triggers[0] as any).maximumRetryAttempts = 186), 'maximumRetryAttempts 186 is outside 0-185'],
  ])('refuses %s with a sentence naming the function and the field', (_what, change, message) => {
    expect(problems(mutate(change))).toContain(message);
  });

  it('lists every problem at once', () => {
    const message = problems(mutate((s) => ((s.functions[0]!.timeoutSeconds = 0), (s.functions[1]!.memoryMb = 64))));
    expect(message.split('\n  - ')).toHaveLength(3);
  });
});

describe('stack overrides (e.g. the short timeouts of the test suites)', () => {
  it('change one function and keep the rest', () => {
    const s = withOverrides(baseStack, { functions: { notify: { timeoutSeconds: 3, triggers: [{ maxReceiveCount: 2 }] } } });
    const notify = s.functions.find((f) => f.name === 'notify')!;
    expect(notify.timeoutSeconds).toBe(3);
    expect(notify.triggers[0]).toMatchObject({ type: 's3', maxReceiveCount: 2, batchSize: 10 });
    expect(s.functions.find((f) => f.name === 'thumbnail')).toEqual(baseStack.functions[0]);
  });

  it('come from STACK_OVERRIDES, and errors name the variable', () => {
    expect(overridesFromEnv(baseStack, '').functions).toBe(baseStack.functions);
    expect(() => overridesFromEnv(baseStack, '{nope')).toThrow(/^STACK_OVERRIDES is not JSON/);
    expect(() => overridesFromEnv(baseStack, '{"functions":{"ghost":{"timeoutSeconds":3}}}')).toThrow('STACK_OVERRIDES: overrides name functions that are not in the stack: ghost');
    expect(() => overridesFromEnv(baseStack, '{"functions":{"notify":{"timeoutSeconds":1000}}}')).toThrow(/STACK_OVERRIDES: [\s\S]*timeoutSeconds 1000 is outside/);
  });
});
