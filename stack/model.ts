// The vocabulary of the stack description (stack/stack.ts): resources, functions and their
// triggers, with event-source settings named as AWS names them. Nothing here knows where the stack
// runs: stack/local.ts renders it to LocalStack + the local Lambda service, infra/ to CloudFormation.
// `defineStack` validates a description once, when it loads, and explains every mistake in a
// sentence naming the resource and the field.
import { parseDatasets, tableVariable, type DatasetInput, type TableKeys } from '../functions/csv-import/datasets';
import { checkTimezone, parseSchedule } from './schedule';

export type Access = 'read' | 'write' | 'read-write';

/** A value of a function's environment that names a resource of the stack: its name or ARN. */
export interface ResourceRef {
  ref: 'bucket' | 'table' | 'topic';
  name: string;
  attribute: 'name' | 'arn';
  /** What the function may do with it: the IAM grant on AWS. */
  access: Access | 'publish';
  /** For buckets: the object keys the access covers, e.g. `reports/*` (default: every key). */
  keys?: string;
}

export type EnvValue = string | ResourceRef;

export const bucket = (name: string) => ({
  name: (access: Access, keys?: string): ResourceRef => ({ ref: 'bucket', name, attribute: 'name', access, ...(keys !== undefined && { keys }) }),
});
export const table = (name: string) => ({
  name: (access: Access): ResourceRef => ({ ref: 'table', name, attribute: 'name', access }),
});
export const topic = (name: string) => ({
  arn: (): ResourceRef => ({ ref: 'topic', name, attribute: 'arn', access: 'publish' }),
});

export const isRef = (value: EnvValue): value is ResourceRef => typeof value === 'object' && value !== null && 'ref' in value;

/** A CORS rule of a bucket: which web pages may call S3 on it from a browser (presigned uploads). */
export interface BucketCorsRule {
  allowedOrigins: string[];
  allowedMethods: Array<'GET' | 'PUT' | 'POST' | 'HEAD' | 'DELETE'>;
  allowedHeaders?: string[];
  exposedHeaders?: string[];
  maxAgeSeconds?: number;
}

export interface BucketSpec {
  name: string;
  cors?: BucketCorsRule[];
}

export interface IndexSpec {
  name: string;
  partitionKey: string;
  sortKey?: string;
}

export interface TableSpec {
  name: string;
  partitionKey: string;
  sortKey?: string;
  /** DynamoDB Streams with this view type. */
  stream?: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES';
  /** Global secondary indexes (string keys, all attributes projected). */
  indexes?: IndexSpec[];
}

export interface TopicSpec {
  name: string;
  /**
   * An SQS queue subscribed to the topic (raw delivery off, so Subject and MessageAttributes are
   * kept), where its messages can be read without an email address: `<topic>-inbox`.
   */
  inbox?: boolean;
}

/**
 * S3 ObjectCreated events of a bucket, fanned out through an SNS topic to an SQS queue of the
 * function (subscription filter on the key), read by an SQS event source mapping.
 */
export interface S3Trigger {
  type: 's3';
  bucket: string;
  /** Keys starting with any of these (OR). Letters, digits and `/ _ . -` only. */
  prefixes?: string[];
  /** Keys ending with any of these (OR); SNS filters cannot require a prefix AND a suffix. */
  suffixes?: string[];
  /** SQS event source mapping: BatchSize (1-10, up to 10000 with a batching window). */
  batchSize: number;
  /** MaximumBatchingWindowInSeconds (0-300). */
  maximumBatchingWindowInSeconds: number;
  /** FunctionResponseTypes: ReportBatchItemFailures. */
  reportBatchItemFailures: boolean;
  /** Receives of one message before SQS moves it to the function's DLQ (redrive policy). */
  maxReceiveCount: number;
  /** The queue's VisibilityTimeout; default six times the function timeout (AWS's advice). */
  visibilityTimeoutSeconds?: number;
}

/** DynamoDB Streams of a table, read by a stream event source mapping; failures to the function's DLQ. */
export interface DynamoStreamTrigger {
  type: 'dynamodb-stream';
  table: string;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** BatchSize (1-10000). */
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  /** MaximumRetryAttempts (-1 = until the record expires, or 0-10000). */
  maximumRetryAttempts: number;
  /** MaximumRecordAgeInSeconds (-1 = no limit, or 60-604800). */
  maximumRecordAgeInSeconds: number;
  bisectBatchOnFunctionError: boolean;
  reportBatchItemFailures: boolean;
}

/**
 * A schedule (EventBridge Scheduler on AWS, the local Lambda service locally) invoking the function
 * asynchronously with a scheduled event; what keeps failing goes to the function's DLQ.
 */
export interface ScheduleTrigger {
  type: 'schedule';
  /** `cron(minutes hours day-of-month month day-of-week year)` or `rate(1 day)`, as AWS writes them. */
  expression: string;
  /** The IANA time zone the cron fields are in (DST included). */
  timezone: string;
  /** The schedule's retry policy: MaximumRetryAttempts (0-185). */
  maximumRetryAttempts: number;
  /** MaximumEventAgeInSeconds (60-86400). */
  maximumEventAgeInSeconds: number;
}

export type Trigger = S3Trigger | DynamoStreamTrigger | ScheduleTrigger;

/** What Lambda does with an asynchronous (Event) invocation that fails: retries, then the DLQ. */
export interface AsyncInvokeConfig {
  /** MaximumRetryAttempts (0-2). */
  maximumRetryAttempts: number;
  /** MaximumEventAgeInSeconds (60-21600). */
  maximumEventAgeInSeconds: number;
}

/**
 * A Lambda Function URL: HTTPS (locally HTTP on 127.0.0.1) straight to the function, payload format
 * 2.0. AWS_IAM unless said otherwise: callers sign their requests with SigV4.
 */
export interface FunctionUrlSpec {
  authType: 'AWS_IAM' | 'NONE';
  /**
   * Must be true with authType NONE: the URL is then open to anyone on the internet, so saying
   * NONE alone is refused (put an authorizer or CloudFront in front, and mean it).
   */
  publicAccess?: boolean;
  /** The URL's CORS configuration, as Lambda applies it (preflights answered without invoking). */
  cors?: {
    allowOrigins: string[];
    allowMethods: string[];
    allowHeaders?: string[];
    exposeHeaders?: string[];
    maxAge?: number;
    allowCredentials?: boolean;
  };
}

export interface FunctionSpec {
  /** Folder under functions/ and the Lambda function name. */
  name: string;
  description: string;
  timeoutSeconds: number;
  memoryMb: number;
  environment: Record<string, EnvValue>;
  /**
   * Access beyond what the environment names (each environment reference grants its own), e.g.
   * the keys a function presigns uploads for: `bucket('uploads').name('write', 'images/*')`.
   */
  grants?: ResourceRef[];
  triggers: Trigger[];
  asyncInvoke: AsyncInvokeConfig;
  url?: FunctionUrlSpec;
}

/** A kind of CSV the import knows (functions/csv-import/datasets.ts), and the table it fills. */
export type DatasetSpec = DatasetInput & { table: string };

export interface StackSpec {
  buckets: BucketSpec[];
  tables: TableSpec[];
  topics: TopicSpec[];
  /** The CSV data sets, each written to a table of the stack. */
  datasets?: DatasetSpec[];
  functions: FunctionSpec[];
}

/** Lambda's limit on the whole environment of a function (names and values). */
export const MAX_ENVIRONMENT_BYTES = 4096;
/** What a resource name or ARN may take once resolved, for the size check. */
const RESOLVED_REF_BYTES = 128;

/**
 * The environment that hands the data sets to csv-import: IMPORT_DATASETS (JSON: each data set and
 * its table's key attributes) and IMPORT_TABLE__<NAME> per data set, naming its table.
 */
export function datasetEnvironment(datasets: readonly DatasetSpec[], tables: readonly TableSpec[]): Record<string, EnvValue> {
  const keysOf = (name: string): TableKeys => {
    const t = tables.find((x) => x.name === name);
    return { partitionKey: t?.partitionKey ?? '', ...(t?.sortKey && { sortKey: t.sortKey }) };
  };
  const settings = datasets.map(({ table: tableName, ...d }) => ({ ...d, tableKeys: keysOf(tableName) }));
  return {
    IMPORT_DATASETS: JSON.stringify(settings),
    ...Object.fromEntries(datasets.map((d) => [tableVariable(d.name), table(d.table).name('write')])),
  };
}

export class StackError extends Error {
  override name = 'StackError';
}

const NAME = /^[a-z][a-z0-9-]{0,39}$/;
/** Characters S3 leaves alone when it URL-encodes keys in events, the same on AWS and LocalStack. */
const KEY_FILTER = /^[A-Za-z0-9/_.-]+$/;

function check(problems: string[], ok: boolean, message: string): void {
  if (!ok) problems.push(message);
}

const inRange = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max;

function checkUnique(problems: string[], kind: string, names: string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    check(problems, NAME.test(name), `${kind} "${name}": a name is lowercase letters, digits and -, starting with a letter, at most 40 characters`);
    check(problems, !seen.has(name), `${kind} "${name}" is declared twice`);
    seen.add(name);
  }
}

function checkS3Trigger(problems: string[], where: string, fn: FunctionSpec, t: S3Trigger, stack: StackSpec): void {
  check(problems, stack.buckets.some((b) => b.name === t.bucket), `${where}: bucket "${t.bucket}" is not a bucket of the stack`);
  for (const key of [...(t.prefixes ?? []), ...(t.suffixes ?? [])]) {
    check(problems, KEY_FILTER.test(key), `${where}: key filter "${key}" may only hold letters, digits and / _ . - (S3 URL-encodes other characters in events, differently on AWS and LocalStack)`);
  }
  check(
    problems,
    !(t.prefixes?.length && t.suffixes?.length),
    `${where}: prefixes and suffixes together cannot be filtered (an SNS filter policy cannot require a prefix AND a suffix of one key); keep the prefixes and check the suffix in the function`,
  );
  const window = t.maximumBatchingWindowInSeconds;
  check(problems, inRange(window, 0, 300), `${where}: maximumBatchingWindowInSeconds ${window} is outside 0-300`);
  check(
    problems,
    inRange(t.batchSize, 1, window >= 1 ? 10_000 : 10),
    `${where}: batchSize ${t.batchSize} is outside 1-${window >= 1 ? 10_000 : 10}${window >= 1 ? '' : ' (above 10 needs maximumBatchingWindowInSeconds >= 1)'}`,
  );
  check(problems, inRange(t.maxReceiveCount, 1, 1000), `${where}: maxReceiveCount ${t.maxReceiveCount} is outside 1-1000`);
  if (t.visibilityTimeoutSeconds !== undefined) {
    check(
      problems,
      inRange(t.visibilityTimeoutSeconds, fn.timeoutSeconds, 43_200),
      `${where}: visibilityTimeoutSeconds ${t.visibilityTimeoutSeconds} must be at least the function timeout (${fn.timeoutSeconds} s) and at most 43200 (AWS refuses the mapping otherwise)`,
    );
  }
}

function checkStreamTrigger(problems: string[], where: string, t: DynamoStreamTrigger, stack: StackSpec): void {
  const source = stack.tables.find((x) => x.name === t.table);
  check(problems, source !== undefined, `${where}: table "${t.table}" is not a table of the stack`);
  check(problems, source === undefined || source.stream !== undefined, `${where}: table "${t.table}" has no stream (set stream on the table)`);
  check(problems, inRange(t.batchSize, 1, 10_000), `${where}: batchSize ${t.batchSize} is outside 1-10000`);
  check(problems, inRange(t.maximumBatchingWindowInSeconds, 0, 300), `${where}: maximumBatchingWindowInSeconds ${t.maximumBatchingWindowInSeconds} is outside 0-300`);
  check(problems, inRange(t.maximumRetryAttempts, -1, 10_000), `${where}: maximumRetryAttempts ${t.maximumRetryAttempts} is outside -1-10000`);
  check(
    problems,
    t.maximumRecordAgeInSeconds === -1 || inRange(t.maximumRecordAgeInSeconds, 60, 604_800),
    `${where}: maximumRecordAgeInSeconds ${t.maximumRecordAgeInSeconds} is neither -1 nor within 60-604800`,
  );
}

function checkScheduleTrigger(problems: string[], where: string, t: ScheduleTrigger): void {
  try {
    checkTimezone(t.timezone);
    parseSchedule(t.expression, t.timezone);
  } catch (error) {
    problems.push(`${where}: ${(error as Error).message}`);
  }
  check(problems, inRange(t.maximumRetryAttempts, 0, 185), `${where}: maximumRetryAttempts ${t.maximumRetryAttempts} is outside 0-185`);
  check(problems, inRange(t.maximumEventAgeInSeconds, 60, 86_400), `${where}: maximumEventAgeInSeconds ${t.maximumEventAgeInSeconds} is outside 60-86400`);
}

const ORIGIN = /^(\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?)$/;
const URL_METHODS = new Set(['*', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

function checkUrl(problems: string[], at: string, url: FunctionUrlSpec): void {
  check(problems, url.authType === 'AWS_IAM' || url.authType === 'NONE', `${at}: url.authType is AWS_IAM or NONE, not ${String(url.authType)}`);
  check(
    problems,
    url.authType !== 'NONE' || url.publicAccess === true,
    `${at}: url.authType NONE opens the URL to anyone on the internet; keep AWS_IAM, or set url.publicAccess: true to mean it (and put an authorizer in front)`,
  );
  for (const origin of url.cors?.allowOrigins ?? []) check(problems, ORIGIN.test(origin), `${at}: url.cors origin "${origin}" is not * or scheme://host[:port]`);
  for (const method of url.cors?.allowMethods ?? []) check(problems, URL_METHODS.has(method), `${at}: url.cors method "${method}" is not one of ${[...URL_METHODS].join(', ')}`);
  const maxAge = url.cors?.maxAge;
  check(problems, maxAge === undefined || inRange(maxAge, 0, 86_400), `${at}: url.cors.maxAge ${maxAge} is outside 0-86400`);
}

function checkRef(problems: string[], at: string, what: string, value: ResourceRef, stack: StackSpec): void {
  const pool = value.ref === 'bucket' ? stack.buckets : value.ref === 'table' ? stack.tables : stack.topics;
  check(problems, pool.some((r) => r.name === value.name), `${at}: ${what} names ${value.ref} "${value.name}", which is not in the stack`);
}

function checkFunction(problems: string[], fn: FunctionSpec, stack: StackSpec): void {
  const at = `function "${fn.name}"`;
  if (fn.url) checkUrl(problems, at, fn.url);
  for (const grant of fn.grants ?? []) checkRef(problems, at, 'a grant', grant, stack);
  check(problems, inRange(fn.timeoutSeconds, 1, 900), `${at}: timeoutSeconds ${fn.timeoutSeconds} is outside Lambda's 1-900`);
  check(problems, inRange(fn.memoryMb, 128, 10_240), `${at}: memoryMb ${fn.memoryMb} is outside Lambda's 128-10240`);
  check(problems, inRange(fn.asyncInvoke.maximumRetryAttempts, 0, 2), `${at}: asyncInvoke.maximumRetryAttempts ${fn.asyncInvoke.maximumRetryAttempts} is outside 0-2`);
  check(
    problems,
    inRange(fn.asyncInvoke.maximumEventAgeInSeconds, 60, 21_600),
    `${at}: asyncInvoke.maximumEventAgeInSeconds ${fn.asyncInvoke.maximumEventAgeInSeconds} is outside 60-21600`,
  );
  for (const [variable, value] of Object.entries(fn.environment)) {
    check(problems, /^[A-Za-z_][A-Za-z0-9_]*$/.test(variable), `${at}: environment variable name "${variable}" is not valid`);
    check(problems, !variable.startsWith('AWS_'), `${at}: environment variable ${variable} is reserved by Lambda (AWS_*)`);
    if (isRef(value)) checkRef(problems, at, variable, value, stack);
  }
  check(problems, fn.triggers.filter((t) => t.type === 's3').length <= 1, `${at}: at most one S3 trigger (list several prefixes in it instead)`);
  const envBytes = Object.entries(fn.environment).reduce((sum, [k, v]) => sum + k.length + (isRef(v) ? RESOLVED_REF_BYTES : Buffer.byteLength(v, 'utf8')), 0);
  check(problems, envBytes <= MAX_ENVIRONMENT_BYTES, `${at}: its environment takes about ${envBytes} bytes; Lambda allows ${MAX_ENVIRONMENT_BYTES} for all variables together`);
  for (const [index, trigger] of fn.triggers.entries()) {
    const where = `${at} trigger ${index + 1} (${trigger.type})`;
    if (trigger.type === 's3') checkS3Trigger(problems, where, fn, trigger, stack);
    else if (trigger.type === 'dynamodb-stream') checkStreamTrigger(problems, where, trigger, stack);
    else checkScheduleTrigger(problems, where, trigger);
  }
}

function checkDatasets(problems: string[], stack: StackSpec): void {
  const datasets = stack.datasets ?? [];
  for (const d of datasets) {
    check(problems, stack.tables.some((t) => t.name === d.table), `data set "${d.name}": table "${d.table}" is not a table of the stack`);
  }
  try {
    parseDatasets(
      datasets.map(({ table: _table, ...d }) => d),
      'imports/',
      (d) => {
        const t = stack.tables.find((x) => x.name === datasets.find((y) => y.name === d.name)?.table);
        return t && { partitionKey: t.partitionKey, ...(t.sortKey && { sortKey: t.sortKey }) };
      },
    );
  } catch (error) {
    problems.push(...(error as Error).message.split('; '));
  }
}

/** Checks a description and returns it; throws one StackError listing every problem. */
export function defineStack(stack: StackSpec): StackSpec {
  const problems: string[] = [];
  checkUnique(problems, 'bucket', stack.buckets.map((b) => b.name));
  for (const b of stack.buckets) {
    for (const origin of (b.cors ?? []).flatMap((r) => r.allowedOrigins)) check(problems, ORIGIN.test(origin), `bucket "${b.name}": CORS origin "${origin}" is not * or scheme://host[:port]`);
  }
  checkUnique(problems, 'table', stack.tables.map((t) => t.name));
  checkUnique(problems, 'topic', stack.topics.map((t) => t.name));
  checkUnique(problems, 'function', stack.functions.map((f) => f.name));
  for (const t of stack.tables) {
    for (const index of t.indexes ?? []) check(problems, NAME.test(index.name), `table "${t.name}": index name "${index.name}" is not valid`);
  }
  for (const fn of stack.functions) checkFunction(problems, fn, stack);
  checkDatasets(problems, stack);
  if (problems.length > 0) throw new StackError(`The stack description is invalid:\n  - ${problems.join('\n  - ')}`);
  return stack;
}

/**
 * Per-function changes layered over the description for one run, e.g. the short timeouts of the
 * integration suites: `{"functions":{"notify":{"timeoutSeconds":3,"triggers":[{"maxReceiveCount":2}]}}}`.
 * Both targets render the result the same way; it is a different stack, not a local deviation.
 */
export interface StackOverrides {
  functions?: Record<
    string,
    Partial<Pick<FunctionSpec, 'timeoutSeconds' | 'memoryMb'>> & {
      environment?: Record<string, string>;
      triggers?: Array<Record<string, number | boolean | string | string[]> | null>;
      asyncInvoke?: Partial<AsyncInvokeConfig>;
    }
  >;
}

export function withOverrides(stack: StackSpec, overrides: StackOverrides | undefined): StackSpec {
  if (!overrides?.functions) return stack;
  const unknown = Object.keys(overrides.functions).filter((name) => !stack.functions.some((f) => f.name === name));
  if (unknown.length > 0) throw new StackError(`overrides name functions that are not in the stack: ${unknown.join(', ')}`);
  return defineStack({
    ...stack,
    functions: stack.functions.map((fn) => {
      const o = overrides.functions?.[fn.name];
      if (!o) return fn;
      return {
        ...fn,
        ...(o.timeoutSeconds !== undefined && { timeoutSeconds: o.timeoutSeconds }),
        ...(o.memoryMb !== undefined && { memoryMb: o.memoryMb }),
        environment: { ...fn.environment, ...o.environment },
        asyncInvoke: { ...fn.asyncInvoke, ...o.asyncInvoke },
        triggers: fn.triggers.map((t, i) => ({ ...t, ...(o.triggers?.[i] ?? {}) }) as Trigger),
      };
    }),
  });
}

/** STACK_OVERRIDES (JSON) applied over a description; errors name the variable. */
export function overridesFromEnv(stack: StackSpec, raw: string | undefined): StackSpec {
  if (!raw?.trim()) return stack;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new StackError(`STACK_OVERRIDES is not JSON: ${(error as Error).message}`);
  }
  try {
    return withOverrides(stack, parsed as StackOverrides);
  } catch (error) {
    throw new StackError(`STACK_OVERRIDES: ${(error as Error).message}`);
  }
}

/** The function of that name, or an error listing the names there are. */
export function functionNamed(stack: StackSpec, name: string): FunctionSpec {
  const fn = stack.functions.find((f) => f.name === name);
  if (!fn) throw new StackError(`no function "${name}" in the stack (there are: ${stack.functions.map((f) => f.name).join(', ')})`);
  return fn;
}
