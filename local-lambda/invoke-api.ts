// The Lambda API (2015-03-31) for `aws lambda ... --endpoint-url` and LambdaClient:
//   POST /functions/{name}/invocations     Invoke: RequestResponse (payload back), Event (202 once
//                                          stored), DryRun (204)
//   GET  /functions/                       ListFunctions
//   GET  /functions/{name}                 GetFunction
//   GET  /functions/{name}/configuration   GetFunctionConfiguration
//   PUT  /functions/{name}/configuration   UpdateFunctionConfiguration (MemorySize, Timeout only)
//   GET  /event-source-mappings/           ListEventSourceMappings
//   GET|PUT /event-source-mappings/{uuid}  Get/UpdateEventSourceMapping (Enabled only: pauses and
//                                          resumes polling, as `--no-enabled` does on AWS)
//   GET  /2021-10-31/functions/{name}/url  GetFunctionUrlConfig
//   PUT|GET|DELETE .../functions/{name}/concurrency   Put/Get/DeleteFunctionConcurrency (reserved
//                                          concurrency; 0 throttles the function, as on AWS)
//   GET  /health                           the service: deploy state, environments, throttles
//   GET  /                                 the same as a page (status-page.ts)
//   GET  /stack                            the deployed stack: outputs, functions, resources
// The control plane describes what the template declares, as AWS would describe it.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConcurrencyError, type ThrottleReason } from './concurrency';
import { endLine, reportLine, startLine } from './function-log';
import type { FunctionRuntime, InvocationResult } from './function-runtime';
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML, STATUS_PAGE_SCRIPT } from './status-page';
import { declaredSize, MAX_PAYLOAD_BYTES, readBody, send } from './http-util';
import { foreignRequest, unsupportedContentType, type BodyBudget, type GuardOptions } from './request-guard';
import type { FunctionPlan, MappingPlan, UrlPlan } from './template/plan';

export interface InvokeApiDeps {
  runtimes: ReadonlyMap<string, FunctionRuntime>;
  functions: readonly FunctionPlan[];
  mappings: readonly MappingPlan[];
  functionArn: (name: string) => string;
  /** The function's environment as its containers get it. */
  environment: (fn: FunctionPlan) => Record<string, string>;
  imageUri: (fn: FunctionPlan) => string;
  /** The stack's Function URLs. */
  urls?: readonly UrlPlan[];
  /** UpdateFunctionConfiguration (MemorySize, Timeout): the function's next environments get them. */
  updateConfiguration?: (fn: FunctionPlan, changes: { memoryMb?: number; timeoutSeconds?: number }) => void;
  /** Reserved concurrency changed (PutFunctionConcurrency): the environments follow. */
  onConcurrency?: (name: string, reserved: number | undefined) => void;
  /** Stores an Event invocation durably; resolves with its request id (then the 202 is due). */
  invokeEvent: (runtime: FunctionRuntime, payload: Buffer) => Promise<string>;
  /** The largest Event payload accepted. */
  maxEventPayloadBytes: number;
  /** False while shutting down: no new Event invocation is accepted then. */
  accepting: () => boolean;
  onInvoked?: (name: string, result: InvocationResult) => void;
  /** make dev only: loads a function's new bundle (restarts its containers); absent otherwise. */
  devReload?: (name: string) => Promise<object>;
  health: () => object;
  stack?: () => object;
  startedAt?: Date;
  /** Host names besides loopback it answers to (request-guard.ts). */
  guard?: GuardOptions;
  /** Invocation payloads are read only with their size reserved here (429 otherwise). */
  bodyBudget?: BodyBudget;
}

/** `name`, `name:qualifier`, `123456789012:function:name` or a full ARN -> `name`. */
export function functionNameFrom(raw: string): string {
  const id = decodeURIComponent(raw);
  const parts = id.split(':');
  if (id.startsWith('arn:')) return parts[6] ?? '';
  if (parts[1] === 'function') return parts[2] ?? '';
  return parts[0] ?? '';
}

const awsError = (res: ServerResponse, status: number, type: string, message: string) =>
  send(res, status, { Type: 'User', message }, { 'x-amzn-ErrorType': type });

/** Lambda's LastModified format: 2026-11-24T10:00:00.000+0000. */
const lambdaDate = (date: Date) => date.toISOString().replace('Z', '+0000');

export function functionConfiguration(fn: FunctionPlan, deps: Pick<InvokeApiDeps, 'functionArn' | 'environment' | 'startedAt'>) {
  return {
    FunctionName: fn.name,
    FunctionArn: deps.functionArn(fn.name),
    Description: fn.description,
    Role: fn.roleArn,
    PackageType: 'Image',
    Timeout: fn.timeoutSeconds,
    MemorySize: fn.memoryMb,
    Environment: { Variables: deps.environment(fn) },
    Architectures: [fn.architecture],
    Version: '$LATEST',
    State: 'Active',
    LastUpdateStatus: 'Successful',
    LastModified: lambdaDate(deps.startedAt ?? new Date()),
    CodeSize: 0,
    EphemeralStorage: { Size: fn.ephemeralStorageMb },
    TracingConfig: { Mode: 'PassThrough' },
    LoggingConfig: { LogFormat: fn.logFormat, LogGroup: fn.logGroup },
    ...((fn.command || fn.entryPoint || fn.workingDirectory) && {
      ImageConfigResponse: { ImageConfig: { ...(fn.command && { Command: fn.command }), ...(fn.entryPoint && { EntryPoint: fn.entryPoint }), ...(fn.workingDirectory && { WorkingDirectory: fn.workingDirectory }) } },
    }),
  };
}

export function eventSourceMappingConfiguration(m: MappingPlan, deps: Pick<InvokeApiDeps, 'functionArn'>) {
  const common = {
    UUID: m.uuid,
    EventSourceArn: m.kind === 'sqs' ? m.queueArn : m.streamArn,
    FunctionArn: deps.functionArn(m.function),
    BatchSize: m.batchSize,
    MaximumBatchingWindowInSeconds: m.maximumBatchingWindowInSeconds,
    FunctionResponseTypes: m.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
    State: m.enabled ? 'Enabled' : 'Disabled',
  };
  if (m.kind === 'sqs') return { ...common, ...(m.maximumConcurrency !== undefined && { ScalingConfig: { MaximumConcurrency: m.maximumConcurrency } }) };
  return {
    ...common,
    StartingPosition: m.startingPosition,
    MaximumRetryAttempts: m.maximumRetryAttempts,
    MaximumRecordAgeInSeconds: m.maximumRecordAgeInSeconds,
    BisectBatchOnFunctionError: m.bisectBatchOnFunctionError,
    ParallelizationFactor: 1,
    ...(m.onFailure && { DestinationConfig: { OnFailure: { Destination: m.onFailure } } }),
  };
}

/** Lambda's answer to an invocation that found no room in its concurrency (429, as AWS records it). */
export const throttled = (res: ServerResponse, reason: ThrottleReason | 'RequestBodiesInMemoryLimitExceeded', requestId: string) =>
  send(res, 429, { Reason: reason, Type: 'User', message: 'Rate Exceeded.' }, { 'x-amzn-ErrorType': 'TooManyRequestsException', 'x-amzn-RequestId': requestId });

function tooLarge(res: ServerResponse, type: string, size: number, limit: number): void {
  return awsError(
    res,
    413,
    'RequestEntityTooLargeException',
    type === 'Event' ? `${size} byte payload is too large for the Event invocation type (limit ${limit} bytes)` : `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
  );
}

export function invokeApiHandler(deps: InvokeApiDeps) {
  const findFunction = (raw: string) => deps.functions.find((f) => f.name === functionNameFrom(raw));
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://local-lambda');
      decodeURIComponent(url.pathname);
    } catch {
      return awsError(res, 400, 'InvalidParameterValueException', 'The request path is not valid');
    }
    const path = url.pathname;
    // A web page may not drive the stack (request-guard.ts), nor post a form or text/plain to it.
    const foreign = foreignRequest(req.headers, deps.guard);
    if (foreign) return awsError(res, 403, 'AccessDeniedException', foreign);
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'DELETE') {
      const unsupported = unsupportedContentType(req.headers['content-type']);
      if (unsupported) return awsError(res, 415, 'UnsupportedMediaTypeException', unsupported);
    }
    if (req.method === 'GET' && path === '/health') return send(res, 200, deps.health());
    if (req.method === 'GET' && path === '/') return send(res, 200, STATUS_PAGE_HTML, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': STATUS_PAGE_CSP });
    if (req.method === 'GET' && path === '/status.js') return send(res, 200, STATUS_PAGE_SCRIPT, { 'Content-Type': 'text/javascript; charset=utf-8' });
    if (req.method === 'GET' && path === '/stack' && deps.stack) return send(res, 200, deps.stack());
    if (req.method === 'GET' && /^\/2015-03-31\/functions\/?$/.test(path)) {
      return send(res, 200, { Functions: deps.functions.map((fn) => functionConfiguration(fn, deps)) });
    }
    if (req.method === 'GET' && /^\/2015-03-31\/event-source-mappings\/?$/.test(path)) {
      const only = url.searchParams.get('FunctionName');
      const mappings = deps.mappings.filter((m) => !only || m.function === functionNameFrom(only));
      return send(res, 200, { EventSourceMappings: mappings.map((m) => eventSourceMappingConfiguration(m, deps)) });
    }
    const mappingPath = /^\/2015-03-31\/event-source-mappings\/([^/]+)\/?$/.exec(path);
    if (mappingPath && (req.method === 'GET' || req.method === 'PUT')) {
      const mapping = deps.mappings.find((m) => m.uuid === mappingPath[1]);
      if (!mapping) return awsError(res, 404, 'ResourceNotFoundException', `The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: none): no event source mapping ${mappingPath[1]}`);
      if (req.method === 'PUT') {
        const body = await readBody(req, 64 * 1024);
        let changes: Record<string, unknown>;
        try {
          changes = body === 'too-large' ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
        } catch {
          return awsError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
        }
        const others = Object.keys(changes).filter((k) => k !== 'Enabled' && k !== 'UUID');
        if (others.length > 0) return awsError(res, 400, 'InvalidParameterValueException', `${others.join(', ')}: only Enabled changes locally; the rest comes from the template (make up)`);
        if (changes.Enabled !== undefined && typeof changes.Enabled !== 'boolean') return awsError(res, 400, 'InvalidParameterValueException', 'Enabled must be true or false');
        // Runtime state, as reserved concurrency: the template's value comes back with the next deploy.
        if (typeof changes.Enabled === 'boolean') mapping.enabled = changes.Enabled;
        return send(res, 202, eventSourceMappingConfiguration(mapping, deps));
      }
      return send(res, 200, eventSourceMappingConfiguration(mapping, deps));
    }
    const urlConfig = /^\/2021-10-31\/functions\/([^/]+)\/url\/?$/.exec(path);
    if (req.method === 'GET' && urlConfig) {
      const name = functionNameFrom(urlConfig[1]!);
      const u = deps.urls?.find((x) => x.function === name);
      if (!u) return awsError(res, 404, 'ResourceNotFoundException', `The resource you requested does not exist: no Function URL for ${name}`);
      const created = lambdaDate(deps.startedAt ?? new Date());
      return send(res, 200, {
        FunctionUrl: u.url,
        FunctionArn: deps.functionArn(name),
        AuthType: u.authType,
        ...(u.cors && {
          Cors: {
            AllowOrigins: u.cors.allowOrigins,
            AllowMethods: u.cors.allowMethods,
            ...(u.cors.allowHeaders && { AllowHeaders: u.cors.allowHeaders }),
            ...(u.cors.exposeHeaders && { ExposeHeaders: u.cors.exposeHeaders }),
            ...(u.cors.allowOrigins === undefined && { AllowOrigins: [] }),
            ...(u.cors.maxAge !== undefined && { MaxAge: u.cors.maxAge }),
            AllowCredentials: u.cors.allowCredentials ?? false,
          },
        }),
        CreationTime: created,
        LastModifiedTime: created,
        InvokeMode: 'BUFFERED',
      });
    }
    const reload = /^\/dev\/reload\/([A-Za-z0-9_-]+)$/.exec(path);
    if (req.method === 'POST' && reload && deps.devReload) {
      if (!deps.runtimes.has(reload[1]!)) return awsError(res, 404, 'ResourceNotFoundException', `Function not found: ${reload[1]}`);
      return send(res, 200, await deps.devReload(reload[1]!));
    }
    const concurrency = /^\/20\d\d-\d\d-\d\d\/functions\/([^/]+)\/concurrency\/?$/.exec(path);
    if (concurrency) {
      const name = functionNameFrom(concurrency[1]!);
      const runtime = deps.runtimes.get(name);
      if (!runtime) return awsError(res, 404, 'ResourceNotFoundException', `Function not found: ${deps.functionArn(name)}`);
      if (req.method === 'GET') return send(res, 200, runtime.reservedConcurrency === undefined ? {} : { ReservedConcurrentExecutions: runtime.reservedConcurrency });
      if (req.method === 'DELETE') {
        runtime.setReservedConcurrency(undefined);
        deps.onConcurrency?.(name, undefined);
        return send(res, 204);
      }
      if (req.method === 'PUT') {
        const body = await readBody(req, 4096);
        let reserved: unknown;
        try {
          reserved = body === 'too-large' ? undefined : (JSON.parse(body.toString('utf8')) as { ReservedConcurrentExecutions?: unknown }).ReservedConcurrentExecutions;
        } catch {
          reserved = undefined;
        }
        if (typeof reserved !== 'number' || !Number.isInteger(reserved) || reserved < 0) return awsError(res, 400, 'InvalidParameterValueException', 'ReservedConcurrentExecutions must be a whole number from 0');
        try {
          runtime.setReservedConcurrency(reserved);
        } catch (error) {
          if (error instanceof ConcurrencyError) return awsError(res, 400, 'InvalidParameterValueException', error.message);
          throw error;
        }
        deps.onConcurrency?.(name, reserved);
        return send(res, 200, { ReservedConcurrentExecutions: reserved });
      }
    }
    const configure = /^\/2015-03-31\/functions\/([^/]+)\/configuration\/?$/.exec(path);
    if (req.method === 'PUT' && configure && deps.updateConfiguration) {
      const fn = findFunction(configure[1]!);
      if (!fn) return awsError(res, 404, 'ResourceNotFoundException', `Function not found: ${deps.functionArn(functionNameFrom(configure[1]!))}`);
      const body = await readBody(req, 64 * 1024);
      let changes: Record<string, unknown>;
      try {
        changes = body === 'too-large' ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
      } catch {
        return awsError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
      }
      const others = Object.keys(changes).filter((k) => k !== 'MemorySize' && k !== 'Timeout');
      if (others.length > 0) return awsError(res, 400, 'InvalidParameterValueException', `${others.join(', ')}: only MemorySize and Timeout change locally; the rest comes from the template (make up)`);
      const { MemorySize: memory, Timeout: timeout } = changes;
      if (memory !== undefined && (!Number.isInteger(memory) || (memory as number) < 128 || (memory as number) > 10_240)) return awsError(res, 400, 'InvalidParameterValueException', 'MemorySize must be a whole number of MB from 128 to 10240');
      if (timeout !== undefined && (!Number.isInteger(timeout) || (timeout as number) < 1 || (timeout as number) > 900)) return awsError(res, 400, 'InvalidParameterValueException', 'Timeout must be a whole number of seconds from 1 to 900');
      deps.updateConfiguration(fn, { ...(memory !== undefined && { memoryMb: memory as number }), ...(timeout !== undefined && { timeoutSeconds: timeout as number }) });
      return send(res, 200, functionConfiguration(fn, deps));
    }
    const read = /^\/2015-03-31\/functions\/([^/]+)(\/configuration)?\/?$/.exec(path);
    if (req.method === 'GET' && read) {
      const fn = findFunction(read[1]!);
      if (!fn) return awsError(res, 404, 'ResourceNotFoundException', `Function not found: ${deps.functionArn(functionNameFrom(read[1]!))}`);
      const configuration = functionConfiguration(fn, deps);
      if (read[2]) return send(res, 200, configuration);
      const runtime = deps.runtimes.get(fn.name);
      return send(res, 200, {
        Configuration: configuration,
        Code: { RepositoryType: 'ECR', ImageUri: deps.imageUri(fn) },
        ...(runtime?.reservedConcurrency !== undefined && { Concurrency: { ReservedConcurrentExecutions: runtime.reservedConcurrency } }),
      });
    }
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(path);
    if (!match || req.method !== 'POST') return awsError(res, 404, 'UnknownOperationException', `Unknown operation ${req.method} ${path}`);

    const name = functionNameFrom(match[1]!);
    const runtime = deps.runtimes.get(name);
    if (!runtime) return awsError(res, 404, 'ResourceNotFoundException', `Function not found: ${deps.functionArn(name)}`);
    const type = (req.headers['x-amz-invocation-type'] as string | undefined) ?? 'RequestResponse';
    if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) return awsError(res, 400, 'InvalidParameterValueException', `Unsupported invocation type ${type}`);
    const limit = type === 'Event' ? deps.maxEventPayloadBytes : MAX_PAYLOAD_BYTES;
    const size = declaredSize(req, limit);
    if (size > limit) return tooLarge(res, type, size, limit);
    // Room first, body second: a throttled call is answered before its payload is read, and the
    // payloads held at once are bounded (the Event queue stores its own).
    const admission = type === 'RequestResponse' ? runtime.admit() : undefined;
    if (admission && !admission.ok) return throttled(res, admission.reason, randomUUID());
    const release = deps.bodyBudget ? deps.bodyBudget.reserve(size) : () => undefined;
    if (!release) {
      if (admission?.ok) admission.release();
      return throttled(res, 'RequestBodiesInMemoryLimitExceeded', randomUUID());
    }
    try {
      return await invokeWith(req, res, { name, runtime, type, limit, ...(admission?.ok && { admitted: admission.release }) });
    } finally {
      release();
      if (admission?.ok) admission.release();
    }
  };

  async function invokeWith(
    req: IncomingMessage,
    res: ServerResponse,
    { name, runtime, type, limit, admitted }: { name: string; runtime: FunctionRuntime; type: string; limit: number; admitted?: () => void },
  ): Promise<void> {
    const payload = await readBody(req, limit);
    if (payload === 'too-large') return tooLarge(res, type, Number(req.headers['content-length']) || limit + 1, limit);
    const body = payload.length === 0 ? Buffer.from('{}') : payload;
    try {
      JSON.parse(body.toString('utf8'));
    } catch {
      return awsError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
    }

    if (type === 'DryRun') return send(res, 204);
    // An Event is always accepted: its queue retries it when throttled (or records it, at reserved 0).
    if (type === 'Event') {
      if (!deps.accepting()) return awsError(res, 503, 'ServiceException', 'The local Lambda service is shutting down; the event was not accepted');
      const requestId = await deps.invokeEvent(runtime, body);
      return send(res, 202, '', { 'X-Amz-Executed-Version': '$LATEST', 'x-amzn-RequestId': requestId });
    }

    const result = await runtime.invoke({ payload: body }, admitted ? { admitted } : {});
    deps.onInvoked?.(name, result);
    if (!result.ok && result.kind === 'Throttled') return throttled(res, result.throttleReason!, result.requestId);
    const headers: Record<string, string> = { 'X-Amz-Executed-Version': '$LATEST', 'x-amzn-RequestId': result.requestId };
    // The function's output is in its log (make logs); the tail carries Lambda's lines of the request.
    if (req.headers['x-amz-log-type'] === 'Tail') {
      const fn = deps.functions.find((f) => f.name === name)!;
      const status = result.ok ? undefined : result.kind === 'TimedOut' ? { kind: 'timeout' as const } : result.kind === 'Unhandled' ? undefined : { kind: 'error' as const, errorType: result.error.errorType };
      const report = reportLine({ requestId: result.requestId, durationMs: result.durationMs, memorySizeMb: fn.memoryMb, ...(result.initDurationMs !== undefined && { initDurationMs: result.initDurationMs }), ...(status && { status }) });
      headers['X-Amz-Log-Result'] = Buffer.from([startLine(result.requestId), endLine(result.requestId), report, ''].join('\n')).toString('base64');
    }
    if (result.ok) return send(res, 200, result.payload, headers);
    return send(res, 200, result.error, { ...headers, 'X-Amz-Function-Error': 'Unhandled' });
  }
}
