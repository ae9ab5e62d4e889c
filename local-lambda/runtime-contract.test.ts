// The contract with the REAL runtime interface client: aws-lambda-ric (node_modules) runs as child
// processes against this service's Runtime API, exactly as it runs inside the function images.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  ListFunctionsCommand,
  PutFunctionConcurrencyCommand,
  ResourceNotFoundException,
  TooManyRequestsException,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import pino from 'pino';
import { AccountConcurrency, FunctionConcurrency } from './concurrency';
import { FunctionRuntime, type EnvironmentLauncher, type LaunchedEnvironment } from './function-runtime';
import { startHttpServer } from './http-server';
import { invokeApiHandler, type InvokeApiDeps } from './invoke-api';
import { runtimeApiHandler } from './runtime-api';
import type { FunctionPlan } from './template/plan';

const logger = pino({ level: 'silent' });
const RIC = join(process.cwd(), 'node_modules/aws-lambda-ric/index.mjs');

const HANDLER = `
export const handler = async (event, context) => {
  if (event.fail) throw new TypeError('boom: ' + event.fail);
  if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  return { echo: event, requestId: context.awsRequestId, remainingMs: context.getRemainingTimeInMillis() };
};`;

function taskRoot(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ric-task-'));
  writeFileSync(join(dir, 'handler.mjs'), source);
  return dir;
}

/**
 * Environments as child processes: each a real aws-lambda-ric with the handler, talking to a
 * Runtime API server of its own (its port is how it is known: all of them share 127.0.0.1).
 */
class RicEnvironments implements EnvironmentLauncher {
  runtime!: FunctionRuntime;
  readonly removed: string[] = [];
  private readonly running = new Map<string, { child: ChildProcess; server: Server }>();
  private n = 0;

  constructor(private readonly root: string) {}

  async launch(): Promise<LaunchedEnvironment> {
    const server = await startHttpServer(runtimeApiHandler(this.runtime, { identify: (req) => String(req.socket.localPort) }), 0, '127.0.0.1', logger);
    const port = (server.address() as AddressInfo).port;
    const id = `ric-${++this.n}`;
    const child = spawn(process.execPath, [RIC], {
      env: {
        PATH: process.env.PATH,
        _HANDLER: 'handler.handler',
        LAMBDA_TASK_ROOT: this.root,
        AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
        AWS_LAMBDA_FUNCTION_NAME: 'echo',
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
        AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/echo',
        AWS_LAMBDA_LOG_STREAM_NAME: 'test',
      },
      stdio: 'ignore',
    });
    child.on('exit', (code, signal) => this.runtime.exited(id, { errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with error: ${signal ? `signal: ${signal}` : `exit status ${code}`}` }));
    this.running.set(id, { child, server });
    return { id, address: String(port), logStream: id };
  }

  remove(id: string): void {
    this.removed.push(id);
    const env = this.running.get(id);
    this.running.delete(id);
    env?.child.kill('SIGKILL');
    env?.server.closeAllConnections();
    env?.server.close();
  }

  portOf(id: string): number {
    return (this.running.get(id)!.server.address() as AddressInfo).port;
  }

  removeAll(): void {
    for (const id of [...this.running.keys()]) this.remove(id);
  }
}

const launchers: RicEnvironments[] = [];
afterEach(() => launchers.splice(0).forEach((l) => l.removeAll()));

/** A function whose environments run `source` in the real runtime interface client. */
function echoFunction(source: string, options: { timeoutSeconds?: number; reserved?: number } = {}) {
  const launcher = new RicEnvironments(taskRoot(source));
  launchers.push(launcher);
  const lines: string[] = [];
  const runtime = new FunctionRuntime({
    name: 'echo',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:echo',
    timeoutSeconds: options.timeoutSeconds ?? 5,
    memoryMb: 128,
    concurrency: new FunctionConcurrency('echo', new AccountConcurrency(100, 1), options.reserved),
    launcher,
    log: (line) => lines.push(line),
    idleTimeoutMs: 60_000,
  });
  launcher.runtime = runtime;
  return { runtime, launcher, lines };
}

/** Polls with a deadline until `ready` holds. */
async function until(ready: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.closeAllConnections(), server.close();
});

const payload = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('Runtime API with the real aws-lambda-ric', () => {
  it('starts an environment for the first event and returns the handler response with the request id and deadline', async () => {
    const { runtime, lines } = echoFunction(HANDLER);

    const result = await runtime.invoke({ payload: payload({ hello: 'world' }) });

    expect(result.ok).toBe(true);
    const body = JSON.parse((result as { payload: Buffer }).payload.toString());
    expect(body.echo).toEqual({ hello: 'world' });
    expect(body.requestId).toBe(result.requestId);
    expect(body.remainingMs).toBeGreaterThan(3_000);
    expect(body.remainingMs).toBeLessThanOrEqual(5_000);
    expect(result.initDurationMs).toBeGreaterThan(0);
    await until(() => lines.some((l) => l.startsWith('REPORT')));
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['START', 'END', 'REPORT']);
  });

  it('reports a thrown error with its type and message', async () => {
    const { runtime } = echoFunction(HANDLER);

    const result = await runtime.invoke({ payload: payload({ fail: 'on purpose' }) });

    expect(result).toMatchObject({ ok: false, kind: 'Unhandled', error: { errorType: 'TypeError', errorMessage: 'boom: on purpose' } });
  });

  it('times out a handler that runs past the deadline and removes its environment', async () => {
    const { runtime, launcher } = echoFunction(HANDLER, { timeoutSeconds: 1 });

    const result = await runtime.invoke({ payload: payload({ sleepMs: 3_000 }) });

    expect(result).toMatchObject({ ok: false, kind: 'TimedOut', error: { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${result.requestId} Error: Task timed out after 1.00 seconds` } });
    expect(launcher.removed).toEqual(['ric-1']);
    // The next event gets a new environment.
    expect(await runtime.invoke({ payload: payload({}) })).toMatchObject({ ok: true });
    expect(runtime.coldStarts).toBe(2);
  });

  it('fails the invocation with the init error of a handler that cannot load', async () => {
    const { runtime } = echoFunction('throw new Error("Invalid configuration: TOPIC_ARN is required");');

    const result = await runtime.invoke({ payload: payload({}) });

    expect(result).toMatchObject({ ok: false, kind: 'InitError', error: { errorMessage: expect.stringContaining('TOPIC_ARN is required') } });
  });

  it('scales out for a burst: an environment per invocation in flight, every one answered, reused once warm', async () => {
    const { runtime } = echoFunction(HANDLER);
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, runtime.environmentCounts().busy)), 5);
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => runtime.invoke({ payload: payload({ i, sleepMs: 300 }) })));
    const again = await Promise.all(Array.from({ length: 4 }, (_, i) => runtime.invoke({ payload: payload({ i, sleepMs: 300 }) })));
    clearInterval(watch);
    expect([...results, ...again].map((r) => r.ok)).toEqual(Array(8).fill(true));
    expect(most).toBe(4);
    expect(runtime.coldStarts).toBe(4);
  }, 30_000);

  it("refuses an environment's answer to an invocation another environment holds (400 InvalidRequestID)", async () => {
    const { runtime, launcher } = echoFunction(HANDLER);
    const slow = runtime.invoke({ payload: payload({ sleepMs: 1_500 }) });
    await until(() => runtime.environmentCounts().busy === 1);
    // A second environment, idle.
    await runtime.invoke({ payload: payload({}) });
    const holder = 'ric-1';
    const other = launcher.portOf('ric-2');
    const requestId = JSON.parse(((await slow) as { payload: Buffer }).payload.toString()).requestId as string;
    const late = await fetch(`http://127.0.0.1:${other}/2018-06-01/runtime/invocation/${requestId}/response`, { method: 'POST', body: '"stolen"' });
    expect(late.status).toBe(400);
    expect(await late.json()).toEqual({ errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
    const again = await fetch(`http://127.0.0.1:${launcher.portOf(holder)}/2018-06-01/runtime/invocation/${requestId}/response`, { method: 'POST', body: '"twice"' });
    expect(again.status).toBe(403);
    expect(await again.json()).toMatchObject({ errorType: 'InvalidStateTransition' });
  }, 30_000);
});

describe('Lambda API with the AWS SDK LambdaClient', () => {
  const echo: FunctionPlan = {
    logicalId: 'EchoFunction',
    name: 'echo',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:echo',
    repository: 'lambda-pipelines/echo',
    description: 'echoes',
    timeoutSeconds: 5,
    memoryMb: 128,
    architecture: 'x86_64',
    ephemeralStorageMb: 512,
    environment: { GREETING: 'hi' },
    roleArn: 'arn:aws:iam::000000000000:role/echo',
    logGroup: '/aws/lambda/echo',
    logFormat: 'Text',
  };

  async function lambdaApi(overrides: Partial<InvokeApiDeps> = {}, options: { reserved?: number } = {}) {
    const { runtime } = echoFunction(HANDLER, options);
    const plan = { ...echo };
    const stored: Buffer[] = [];
    const invokeServer = await startHttpServer(
      invokeApiHandler({
        runtimes: new Map([['echo', runtime]]),
        functions: [plan],
        updateConfiguration: (fn, changes) => {
          if (changes.memoryMb !== undefined) fn.memoryMb = changes.memoryMb;
          runtime.reconfigure(changes);
        },
        mappings: [{ kind: 'sqs', uuid: 'u-1', logicalId: 'EchoMapping', function: 'echo', queueArn: 'arn:aws:sqs:us-east-1:000000000000:echo-events', batchSize: 10, maximumBatchingWindowInSeconds: 0, reportBatchItemFailures: true, enabled: true }],
        functionArn: (name) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
        environment: (fn) => fn.environment,
        imageUri: (fn) => `${fn.repository}:latest`,
        invokeEvent: async (_runtime, body) => (stored.push(body), 'req-async'),
        maxEventPayloadBytes: 1_048_576,
        accepting: () => true,
        health: () => ({}),
        ...overrides,
      }),
      0,
      '127.0.0.1',
      logger,
    );
    servers.push(invokeServer);
    const lambda = new LambdaClient({
      endpoint: `http://127.0.0.1:${(invokeServer.address() as AddressInfo).port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    clients.push(lambda);
    return { lambda, stored };
  }
  const clients: LambdaClient[] = [];
  afterEach(() => clients.splice(0).forEach((c) => c.destroy()));

  it('returns the payload, the function error and 404 for an unknown function', async () => {
    const { lambda, stored } = await lambdaApi();

    const good = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: payload({ a: 1 }), LogType: 'Tail' }));
    expect(good.StatusCode).toBe(200);
    expect(good.FunctionError).toBeUndefined();
    expect(JSON.parse(Buffer.from(good.Payload!).toString()).echo).toEqual({ a: 1 });
    expect(Buffer.from(good.LogResult!, 'base64').toString()).toMatch(/^START RequestId: \S+ Version: \$LATEST\nEND RequestId: \S+\nREPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: - MB\tInit Duration: [\d.]+ ms\n$/);

    const bad = await lambda.send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:echo', Payload: payload({ fail: 'x' }) }));
    expect(bad.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(bad.Payload!).toString())).toMatchObject({ errorType: 'TypeError', errorMessage: 'boom: x' });

    const queued = await lambda.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: payload({ later: true }) }));
    expect(queued.StatusCode).toBe(202);
    expect(JSON.parse(stored[0]!.toString())).toEqual({ later: true });

    await expect(lambda.send(new InvokeCommand({ FunctionName: 'nope', Payload: payload({}) }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses an Event payload over 1 MB with AWS\'s error, and any Event while shutting down', async () => {
    const { lambda, stored } = await lambdaApi({ accepting: () => false });
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: payload({ s: 'x'.repeat(1_048_576) }) }))).rejects.toMatchObject({
      name: 'RequestEntityTooLargeException',
      message: expect.stringMatching(/^\d+ byte payload is too large for the Event invocation type \(limit 1048576 bytes\)$/),
    });
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: payload({}) }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    expect(stored).toEqual([]);
  });

  it('describes the functions and mappings: ListFunctions, GetFunction, GetFunctionConfiguration, ListEventSourceMappings', async () => {
    const { lambda } = await lambdaApi();

    const list = await lambda.send(new ListFunctionsCommand({}));
    expect(list.Functions?.map((f) => [f.FunctionName, f.PackageType, f.Timeout, f.MemorySize, f.Environment?.Variables])).toEqual([['echo', 'Image', 5, 128, { GREETING: 'hi' }]]);
    const one = await lambda.send(new GetFunctionCommand({ FunctionName: 'echo' }));
    expect(one.Code).toEqual({ RepositoryType: 'ECR', ImageUri: 'lambda-pipelines/echo:latest' });
    expect(one.Configuration?.FunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:echo');
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo' }));
    expect(config).toMatchObject({ FunctionName: 'echo', State: 'Active', Description: 'echoes' });
    const mappings = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'echo' }));
    expect(mappings.EventSourceMappings?.[0]).toMatchObject({ EventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:echo-events', BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    await expect(lambda.send(new GetFunctionCommand({ FunctionName: 'nope' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('answers 429 TooManyRequestsException with the Reason over the reserved concurrency, and PutFunctionConcurrency refuses what AWS refuses', async () => {
    const { lambda } = await lambdaApi({}, { reserved: 1 });
    const results = await Promise.allSettled(Array.from({ length: 3 }, () => lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: payload({ sleepMs: 500 }) }))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
      expect(r.reason).toBeInstanceOf(TooManyRequestsException);
      expect(r.reason).toMatchObject({ Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', Type: 'User', message: 'Rate Exceeded.', $metadata: { httpStatusCode: 429 } });
    }
    await expect(lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'echo', ReservedConcurrentExecutions: 100 }))).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message: expect.stringContaining("decreases account's UnreservedConcurrentExecution below its minimum value of [1]"),
    });
  }, 30_000);

  it('UpdateFunctionConfiguration changes MemorySize and Timeout (and nothing else), then the environments are new', async () => {
    const { lambda } = await lambdaApi();
    await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: payload({}) }));
    const updated = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', MemorySize: 512 }));
    expect(updated).toMatchObject({ FunctionName: 'echo', MemorySize: 512, Timeout: 5 });
    expect((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo' }))).MemorySize).toBe(512);
    const cold = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: payload({}), LogType: 'Tail' }));
    expect(Buffer.from(cold.LogResult!, 'base64').toString()).toMatch(/Memory Size: 512 MB\tMax Memory Used: - MB\tInit Duration: /);
    await expect(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', MemorySize: 64 }))).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
    await expect(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Handler: 'x.y' }))).rejects.toMatchObject({ name: 'InvalidParameterValueException', message: expect.stringContaining('only MemorySize and Timeout') });
  }, 30_000);

  it('answers a malformed path with 4xx, never 500', async () => {
    const { launcher } = echoFunction(HANDLER);
    const runtime = launcher.runtime;
    await runtime.invoke({ payload: payload({}) });
    const port = launcher.portOf('ric-1');
    const bad = await fetch(`http://127.0.0.1:${port}/2018-06-01/runtime/invocation/%E0%A4%A/response`, { method: 'POST', body: '{}' });
    expect(bad.status).toBe(400);
  });
});
