// What the local Lambda service runs, read from the template once LocalStack has created its half:
// every function (image, memory, timeout, architecture, ephemeral storage, environment with every
// intrinsic resolved to the physical names LocalStack reports), every event source mapping, Event
// invocation settings, Function URL and schedule, with AWS's defaults where the template is silent.
import { compileFilterPattern, FilterPatternError } from '../filter-pattern';
import type { UrlCors } from '../function-url';
import { resolveString, resolveValue, type ResolveContext } from './intrinsics';
import { functionArn, type StackInfo } from './identities';
import { referenceKey, type Identity } from './split';
import { TemplateError, type CfnTemplate } from './template';

export interface FunctionPlan {
  logicalId: string;
  name: string;
  arn: string;
  /** The image's repository as the template names it (`lambda-pipelines/thumbnail`), without registry or digest. */
  repository: string;
  /** ImageConfig: the handler (Command), EntryPoint, WorkingDirectory, when the template overrides the image's. */
  command?: string[];
  entryPoint?: string[];
  workingDirectory?: string;
  memoryMb: number;
  timeoutSeconds: number;
  architecture: 'x86_64' | 'arm64';
  /** EphemeralStorage.Size: the function's /tmp, in MB. */
  ephemeralStorageMb: number;
  /** The function's own variables, resolved. */
  environment: Record<string, string>;
  roleArn: string;
  reservedConcurrency?: number;
  logGroup: string;
  logFormat: 'Text' | 'JSON';
  applicationLogLevel?: string;
  systemLogLevel?: string;
  description: string;
}

interface MappingCommon {
  uuid: string;
  logicalId: string;
  function: string;
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  reportBatchItemFailures: boolean;
  enabled: boolean;
}

export interface SqsMappingPlan extends MappingCommon {
  kind: 'sqs';
  queueArn: string;
  /** ScalingConfig.MaximumConcurrency: at most this many batches of the mapping at once. */
  maximumConcurrency?: number;
}

export interface StreamMappingPlan extends MappingCommon {
  kind: 'dynamodb-stream';
  streamArn: string;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** -1: until the record expires. */
  maximumRetryAttempts: number;
  /** -1: no limit. */
  maximumRecordAgeInSeconds: number;
  bisectBatchOnFunctionError: boolean;
  /** The on-failure destination: an SQS queue ARN receiving DDBStreamBatchInfo records. */
  onFailure?: string;
}

export type MappingPlan = SqsMappingPlan | StreamMappingPlan;

export interface AsyncInvokePlan {
  function: string;
  maximumRetryAttempts: number;
  maximumEventAgeInSeconds: number;
  /** SQS queue ARNs. */
  onFailure?: string;
  onSuccess?: string;
}

export interface UrlPlan {
  logicalId: string;
  function: string;
  url: string;
  authType: 'AWS_IAM' | 'NONE';
  cors?: UrlCors;
}

export interface SchedulePlan {
  logicalId: string;
  name: string;
  arn: string;
  function: string;
  expression: string;
  timezone: string;
  /** Target.Input, with Scheduler's context attributes (`<aws.scheduler.scheduled-time>`...) still in it. */
  input?: string;
  maximumRetryAttempts: number;
  maximumEventAgeInSeconds: number;
  /** Target.DeadLetterConfig.Arn: an SQS queue ARN. */
  deadLetterArn?: string;
  /** Target.RoleArn: the role Scheduler invokes the function as. */
  roleArn?: string;
  enabled: boolean;
  startDate?: string;
  endDate?: string;
}

export interface StackOutput {
  value: string;
  description?: string;
}

/** A CloudWatch Logs subscription filter with a function of the template as its destination. */
export interface SubscriptionPlan {
  logicalId: string;
  name: string;
  logGroup: string;
  filterPattern: string;
  /** The destination function's name. */
  function: string;
}

export interface LocalPlan {
  stack: StackInfo;
  functions: FunctionPlan[];
  mappings: MappingPlan[];
  asyncInvokes: AsyncInvokePlan[];
  urls: UrlPlan[];
  schedules: SchedulePlan[];
  subscriptions: SubscriptionPlan[];
}

/** Lambda's defaults for what the template leaves unset. */
export const LAMBDA_DEFAULTS = {
  memoryMb: 128,
  timeoutSeconds: 3,
  ephemeralStorageMb: 512,
  asyncRetries: 2,
  asyncMaxAgeSeconds: 21_600,
  sqsBatchSize: 10,
  streamBatchSize: 100,
  scheduleRetries: 185,
  scheduleMaxAgeSeconds: 86_400,
} as const;

export interface PlanInputs {
  template: CfnTemplate;
  stack: StackInfo;
  identities: ReadonlyMap<string, Identity>;
  /** What LocalStack's CloudFormation reported for each reference (referenceKey -> value). */
  localStackValues: ReadonlyMap<string, string>;
}

/** Resolves Ref/GetAtt to the service's own names or to what LocalStack reported. */
export function resolveContext({ template, stack, identities, localStackValues }: PlanInputs): ResolveContext {
  const pseudo: Record<string, string> = {
    'AWS::Region': stack.region,
    'AWS::AccountId': stack.accountId,
    'AWS::StackName': stack.name,
    'AWS::StackId': `arn:aws:cloudformation:${stack.region}:${stack.accountId}:stack/${stack.name}/local`,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  return {
    ref: (id, at) => {
      if (pseudo[id] !== undefined) return pseudo[id]!;
      if (identities.has(id)) return identities.get(id)!.ref;
      const parameter = template.Parameters?.[id];
      if (parameter) {
        if (parameter.Default === undefined) throw new TemplateError(`${at}: Ref ${id}: the parameter has no Default`);
        return String(parameter.Default);
      }
      const value = localStackValues.get(referenceKey({ id }));
      if (value === undefined) throw new TemplateError(`${at}: Ref ${id}: ${template.Resources[id] ? 'LocalStack reported no value for it' : 'no such resource or parameter in the template'}`);
      return value;
    },
    getAtt: (id, attribute, at) => {
      const identity = identities.get(id);
      if (identity) {
        const value = identity.attributes[attribute];
        if (value === undefined) throw new TemplateError(`${at}: Fn::GetAtt ${id}.${attribute}: the local Lambda service has no such attribute (it has ${Object.keys(identity.attributes).join(', ') || 'none'})`);
        return value;
      }
      const value = localStackValues.get(referenceKey({ id, attribute }));
      if (value === undefined || value === 'None') throw new TemplateError(`${at}: Fn::GetAtt ${id}.${attribute}: ${template.Resources[id] ? 'LocalStack reported no value for it' : 'no such resource in the template'}`);
      return value;
    },
    ...(template.Mappings && { mappings: template.Mappings }),
  };
}

const num = (v: unknown, fallback: number): number => (v === undefined ? fallback : Number(v));

/** Lambda's ranges for a function's settings: what CloudFormation would refuse on AWS is refused here. */
function inRange(value: number, min: number, max: number, at: string, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new TemplateError(`${at}: ${what} ${value} is outside Lambda's ${min}-${max}`);
  return value;
}

/** Variables Lambda sets itself: a function may not set them (Lambda refuses the function). */
const RESERVED_VARIABLES = new Set([
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
]);
const bool = (v: unknown, fallback: boolean): boolean => (v === undefined ? fallback : v === true || v === 'true');

/** `<registry>/<repository>@sha256:...` or `:<tag>` -> `<repository>`. */
export function repositoryOf(imageUri: string, at: string): string {
  const withoutRegistry = imageUri.includes('/') && /[.:]|localhost/.test(imageUri.split('/')[0]!) ? imageUri.slice(imageUri.indexOf('/') + 1) : imageUri;
  const repository = withoutRegistry.replace(/@sha256:[0-9a-f]+$/, '').replace(/:[\w][\w.-]{0,127}$/, '');
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(repository)) throw new TemplateError(`${at}: "${imageUri}" does not name an image repository`);
  return repository;
}

/** The queue's name in an SQS ARN; anything else refused (destinations and sources are SQS locally). */
export function sqsArn(arn: string, at: string): string {
  if (!/^arn:aws[\w-]*:sqs:[\w-]+:\d{12}:[\w.-]+$/.test(arn)) throw new TemplateError(`${at}: "${arn}" is not an SQS queue ARN (the local Lambda service sends to SQS queues only)`);
  return arn;
}

export function buildPlan(inputs: PlanInputs): LocalPlan {
  const { template, stack, identities } = inputs;
  const ctx = resolveContext(inputs);
  const functions: FunctionPlan[] = [];
  const mappings: MappingPlan[] = [];
  const asyncInvokes: AsyncInvokePlan[] = [];
  const urls: UrlPlan[] = [];
  const schedules: SchedulePlan[] = [];
  const subscriptions: SubscriptionPlan[] = [];
  const ids = Object.keys(template.Resources).sort();
  const functionByArnOrName = (value: string, at: string): string => {
    const name = /^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:([^:]+)(:\$LATEST)?$/.exec(value)?.[1] ?? value;
    if (!functions.some((f) => f.name === name)) throw new TemplateError(`${at}: "${value}" is not a function of this template`);
    return name;
  };

  for (const id of ids) {
    const r = template.Resources[id]!;
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const at = `Resources.${id}.Properties`;
    const p = (r.Properties ?? {}) as Record<string, any>;
    const name = identities.get(id)!.ref;
    const image = p.ImageConfig ?? {};
    const logging = p.LoggingConfig ?? {};
    const arch = String([p.Architectures ?? ['x86_64']].flat()[0]);
    for (const variable of Object.keys((p.Environment?.Variables ?? {}) as object)) {
      if (RESERVED_VARIABLES.has(variable)) throw new TemplateError(`${at}.Environment.Variables.${variable}: Lambda reserves this variable; a function may not set it`);
    }
    functions.push({
      logicalId: id,
      name,
      arn: functionArn(stack, name),
      repository: repositoryOf(resolveString(p.Code?.ImageUri, ctx, `${at}.Code.ImageUri`), `${at}.Code.ImageUri`),
      ...(image.Command && { command: resolveValue(image.Command, ctx, `${at}.ImageConfig.Command`) as string[] }),
      ...(image.EntryPoint && { entryPoint: resolveValue(image.EntryPoint, ctx, `${at}.ImageConfig.EntryPoint`) as string[] }),
      ...(image.WorkingDirectory && { workingDirectory: resolveString(image.WorkingDirectory, ctx, `${at}.ImageConfig.WorkingDirectory`) }),
      memoryMb: inRange(num(p.MemorySize, LAMBDA_DEFAULTS.memoryMb), 128, 10_240, at, 'MemorySize'),
      timeoutSeconds: inRange(num(p.Timeout, LAMBDA_DEFAULTS.timeoutSeconds), 1, 900, at, 'Timeout'),
      architecture: arch === 'arm64' ? 'arm64' : 'x86_64',
      ephemeralStorageMb: inRange(num(p.EphemeralStorage?.Size, LAMBDA_DEFAULTS.ephemeralStorageMb), 512, 10_240, at, 'EphemeralStorage.Size'),
      environment: Object.fromEntries(Object.entries((p.Environment?.Variables ?? {}) as Record<string, unknown>).map(([k, v]) => [k, resolveString(v, ctx, `${at}.Environment.Variables.${k}`)])),
      roleArn: p.Role === undefined ? '' : resolveString(p.Role, ctx, `${at}.Role`),
      ...(p.ReservedConcurrentExecutions !== undefined && { reservedConcurrency: inRange(Number(p.ReservedConcurrentExecutions), 0, 1_000_000, at, 'ReservedConcurrentExecutions') }),
      logGroup: logging.LogGroup === undefined ? `/aws/lambda/${name}` : resolveString(logging.LogGroup, ctx, `${at}.LoggingConfig.LogGroup`),
      logFormat: logging.LogFormat === 'JSON' ? 'JSON' : 'Text',
      ...(logging.ApplicationLogLevel && { applicationLogLevel: String(logging.ApplicationLogLevel) }),
      ...(logging.SystemLogLevel && { systemLogLevel: String(logging.SystemLogLevel) }),
      description: p.Description === undefined ? '' : resolveString(p.Description, ctx, `${at}.Description`),
    });
  }

  for (const id of ids) {
    const r = template.Resources[id]!;
    const at = `Resources.${id}.Properties`;
    const p = (r.Properties ?? {}) as Record<string, any>;
    if (r.Type === 'AWS::Lambda::EventSourceMapping') {
      const fn = functionByArnOrName(resolveString(p.FunctionName, ctx, `${at}.FunctionName`), `${at}.FunctionName`);
      const source = resolveString(p.EventSourceArn, ctx, `${at}.EventSourceArn`);
      const common: MappingCommon = {
        uuid: identities.get(id)!.ref,
        logicalId: id,
        function: fn,
        batchSize: 0,
        maximumBatchingWindowInSeconds: num(p.MaximumBatchingWindowInSeconds, 0),
        reportBatchItemFailures: [p.FunctionResponseTypes ?? []].flat().includes('ReportBatchItemFailures'),
        enabled: bool(p.Enabled, true),
      };
      if (/^arn:aws[\w-]*:sqs:/.test(source)) {
        const batchSize = num(p.BatchSize, LAMBDA_DEFAULTS.sqsBatchSize);
        if (batchSize > 10 && common.maximumBatchingWindowInSeconds < 1) throw new TemplateError(`${at}: BatchSize ${batchSize} above 10 needs MaximumBatchingWindowInSeconds of at least 1 (Lambda refuses the mapping otherwise)`);
        mappings.push({ ...common, kind: 'sqs', batchSize, queueArn: sqsArn(source, `${at}.EventSourceArn`), ...(p.ScalingConfig?.MaximumConcurrency !== undefined && { maximumConcurrency: Number(p.ScalingConfig.MaximumConcurrency) }) });
      } else if (/^arn:aws[\w-]*:dynamodb:.*\/stream\//.test(source)) {
        if (!['TRIM_HORIZON', 'LATEST'].includes(p.StartingPosition)) throw new TemplateError(`${at}: StartingPosition ${p.StartingPosition ?? '(missing)'} is not supported locally (TRIM_HORIZON or LATEST)`);
        const onFailure = p.DestinationConfig?.OnFailure?.Destination;
        mappings.push({
          ...common,
          kind: 'dynamodb-stream',
          batchSize: num(p.BatchSize, LAMBDA_DEFAULTS.streamBatchSize),
          streamArn: source,
          startingPosition: p.StartingPosition,
          maximumRetryAttempts: num(p.MaximumRetryAttempts, -1),
          maximumRecordAgeInSeconds: num(p.MaximumRecordAgeInSeconds, -1),
          bisectBatchOnFunctionError: bool(p.BisectBatchOnFunctionError, false),
          ...(onFailure !== undefined && { onFailure: sqsArn(resolveString(onFailure, ctx, `${at}.DestinationConfig.OnFailure.Destination`), `${at}.DestinationConfig.OnFailure.Destination`) }),
        });
      } else {
        throw new TemplateError(`${at}.EventSourceArn: "${source}" is not supported locally (SQS queues and DynamoDB streams)`);
      }
    } else if (r.Type === 'AWS::Lambda::EventInvokeConfig') {
      const fn = functionByArnOrName(resolveString(p.FunctionName, ctx, `${at}.FunctionName`), `${at}.FunctionName`);
      const destination = (kind: 'OnFailure' | 'OnSuccess') => {
        const d = p.DestinationConfig?.[kind]?.Destination;
        return d === undefined ? undefined : sqsArn(resolveString(d, ctx, `${at}.DestinationConfig.${kind}.Destination`), `${at}.DestinationConfig.${kind}.Destination`);
      };
      const onFailure = destination('OnFailure');
      const onSuccess = destination('OnSuccess');
      asyncInvokes.push({
        function: fn,
        maximumRetryAttempts: num(p.MaximumRetryAttempts, LAMBDA_DEFAULTS.asyncRetries),
        maximumEventAgeInSeconds: num(p.MaximumEventAgeInSeconds, LAMBDA_DEFAULTS.asyncMaxAgeSeconds),
        ...(onFailure && { onFailure }),
        ...(onSuccess && { onSuccess }),
      });
    } else if (r.Type === 'AWS::Lambda::Url') {
      const identity = identities.get(id)!;
      const cors = p.Cors as Record<string, any> | undefined;
      urls.push({
        logicalId: id,
        function: functionByArnOrName(identity.attributes.FunctionArn!, `${at}.TargetFunctionArn`),
        url: identity.attributes.FunctionUrl!,
        authType: p.AuthType === 'NONE' ? 'NONE' : 'AWS_IAM',
        ...(cors && {
          cors: {
            ...(cors.AllowOrigins && { allowOrigins: cors.AllowOrigins }),
            ...(cors.AllowMethods && { allowMethods: cors.AllowMethods }),
            ...(cors.AllowHeaders && { allowHeaders: cors.AllowHeaders }),
            ...(cors.ExposeHeaders && { exposeHeaders: cors.ExposeHeaders }),
            ...(cors.MaxAge !== undefined && { maxAge: Number(cors.MaxAge) }),
            ...(cors.AllowCredentials !== undefined && { allowCredentials: bool(cors.AllowCredentials, false) }),
          },
        }),
      });
    } else if (r.Type === 'AWS::Scheduler::Schedule') {
      const identity = identities.get(id)!;
      const target = (p.Target ?? {}) as Record<string, any>;
      const dlq = target.DeadLetterConfig?.Arn;
      schedules.push({
        logicalId: id,
        name: identity.ref,
        arn: identity.attributes.Arn!,
        function: functionByArnOrName(resolveString(target.Arn, ctx, `${at}.Target.Arn`), `${at}.Target.Arn`),
        expression: resolveString(p.ScheduleExpression, ctx, `${at}.ScheduleExpression`),
        timezone: p.ScheduleExpressionTimezone === undefined ? 'UTC' : resolveString(p.ScheduleExpressionTimezone, ctx, `${at}.ScheduleExpressionTimezone`),
        ...(target.Input !== undefined && { input: resolveString(target.Input, ctx, `${at}.Target.Input`) }),
        maximumRetryAttempts: num(target.RetryPolicy?.MaximumRetryAttempts, LAMBDA_DEFAULTS.scheduleRetries),
        maximumEventAgeInSeconds: num(target.RetryPolicy?.MaximumEventAgeInSeconds, LAMBDA_DEFAULTS.scheduleMaxAgeSeconds),
        ...(dlq !== undefined && { deadLetterArn: sqsArn(resolveString(dlq, ctx, `${at}.Target.DeadLetterConfig.Arn`), `${at}.Target.DeadLetterConfig.Arn`) }),
        ...(target.RoleArn !== undefined && { roleArn: resolveString(target.RoleArn, ctx, `${at}.Target.RoleArn`) }),
        enabled: p.State === undefined || p.State === 'ENABLED',
        ...(p.StartDate !== undefined && { startDate: resolveString(p.StartDate, ctx, `${at}.StartDate`) }),
        ...(p.EndDate !== undefined && { endDate: resolveString(p.EndDate, ctx, `${at}.EndDate`) }),
      });
    } else if (r.Type === 'AWS::Logs::SubscriptionFilter') {
      const pattern = resolveString(p.FilterPattern ?? '', ctx, `${at}.FilterPattern`);
      try {
        compileFilterPattern(pattern);
      } catch (error) {
        if (error instanceof FilterPatternError) throw new TemplateError(`${at}.FilterPattern: ${error.message}`);
        throw error;
      }
      subscriptions.push({
        logicalId: id,
        name: p.FilterName === undefined ? identities.get(id)!.ref : resolveString(p.FilterName, ctx, `${at}.FilterName`),
        logGroup: resolveString(p.LogGroupName, ctx, `${at}.LogGroupName`),
        filterPattern: pattern,
        function: functionByArnOrName(resolveString(p.DestinationArn, ctx, `${at}.DestinationArn`), `${at}.DestinationArn`),
      });
    }
  }
  // A function without an EventInvokeConfig gets Lambda's defaults (and no destination).
  for (const fn of functions) {
    if (!asyncInvokes.some((a) => a.function === fn.name)) asyncInvokes.push({ function: fn.name, maximumRetryAttempts: LAMBDA_DEFAULTS.asyncRetries, maximumEventAgeInSeconds: LAMBDA_DEFAULTS.asyncMaxAgeSeconds });
  }
  return { stack, functions, mappings, asyncInvokes, urls, schedules, subscriptions };
}
