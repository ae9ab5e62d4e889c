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
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import pino from 'pino';
import { FunctionRuntime } from './function-runtime';
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

const children: ChildProcess[] = [];
function startContainer(port: number, root: string): ChildProcess {
  const child = spawn(process.execPath, [RIC], {
    env: {
      PATH: process.env.PATH,
      _HANDLER: 'handler.handler',
      LAMBDA_TASK_ROOT: root,
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
      AWS_LAMBDA_FUNCTION_NAME: 'echo',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/echo',
      AWS_LAMBDA_LOG_STREAM_NAME: 'test',
    },
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

/** Polls with a deadline until `ready` holds. */
async function until(ready: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function serve(runtime: FunctionRuntime): Promise<{ server: Server; port: number }> {
  const server = await startHttpServer(runtimeApiHandler(runtime, logger), 0, '127.0.0.1', logger);
  servers.push(server);
  return { server, port: (server.address() as AddressInfo).port };
}

const servers: Server[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const server of servers.splice(0)) server.closeAllConnections(), server.close();
});

const payload = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('Runtime API with the real aws-lambda-ric', () => {
  it('delivers an event and returns the handler response with the request id and deadline', async () => {
    const runtime = new FunctionRuntime({ name: 'echo', arn: 'arn:aws:lambda:us-east-1:000000000000:function:echo', timeoutSeconds: 5 });
    const { port } = await serve(runtime);
    startContainer(port, taskRoot(HANDLER));

    const result = await runtime.invoke({ payload: payload({ hello: 'world' }) });

    expect(result.ok).toBe(true);
    const body = JSON.parse((result as { payload: Buffer }).payload.toString());
    expect(body.echo).toEqual({ hello: 'world' });
    expect(body.requestId).toBe(result.requestId);
    expect(body.remainingMs).toBeGreaterThan(3_000);
    expect(body.remainingMs).toBeLessThanOrEqual(5_000);
  });

  it('reports a thrown error with its type and message', async () => {
    const runtime = new FunctionRuntime({ name: 'echo', arn: 'arn', timeoutSeconds: 5 });
    const { port } = await serve(runtime);
    startContainer(port, taskRoot(HANDLER));

    const result = await runtime.invoke({ payload: payload({ fail: 'on purpose' }) });

    expect(result).toMatchObject({ ok: false, kind: 'Unhandled', error: { errorType: 'TypeError', errorMessage: 'boom: on purpose' } });
  });

  it('times out a handler that runs past the deadline', async () => {
    const onTimeout = jest.fn();
    const runtime = new FunctionRuntime({ name: 'echo', arn: 'arn', timeoutSeconds: 1, onTimeout });
    const { port } = await serve(runtime);
    startContainer(port, taskRoot(HANDLER));

    const result = await runtime.invoke({ payload: payload({ sleepMs: 3_000 }) });

    expect(result).toMatchObject({ ok: false, kind: 'TimedOut', error: { errorMessage: 'Task timed out after 1.00 seconds' } });
    expect(onTimeout).toHaveBeenCalledWith('127.0.0.1', result.requestId);
  });

  it('fails the invocation with the init error of a handler that cannot load', async () => {
    const runtime = new FunctionRuntime({ name: 'echo', arn: 'arn', timeoutSeconds: 5 });
    const { port } = await serve(runtime);
    const pending = runtime.invoke({ payload: payload({}) });
    startContainer(port, taskRoot('throw new Error("Invalid configuration: TOPIC_ARN is required");'));

    const result = await pending;

    expect(result).toMatchObject({ ok: false, kind: 'InitError', error: { errorMessage: expect.stringContaining('TOPIC_ARN is required') } });
  });

  it('runs a burst on four runtime clients at once: four invocations in flight together, every one answered', async () => {
    const runtime = new FunctionRuntime({ name: 'echo', arn: 'arn', timeoutSeconds: 5 });
    const { port } = await serve(runtime);
    const root = taskRoot(HANDLER);
    for (let i = 0; i < 4; i++) startContainer(port, root);
    await until(() => runtime.idleWorkers === 4);
    let mostInFlight = 0;
    const watch = setInterval(() => (mostInFlight = Math.max(mostInFlight, runtime.inFlight)), 5);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => runtime.invoke({ payload: payload({ i, sleepMs: 100 }) })));
    clearInterval(watch);
    expect(results.map((r) => r.ok)).toEqual(Array(40).fill(true));
    expect(mostInFlight).toBe(4);
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

  async function lambdaApi(overrides: Partial<InvokeApiDeps> = {}) {
    const runtime = new FunctionRuntime({ name: 'echo', arn: 'arn:aws:lambda:us-east-1:000000000000:function:echo', timeoutSeconds: 5 });
    const { port } = await serve(runtime);
    startContainer(port, taskRoot(HANDLER));
    const stored: Buffer[] = [];
    const invokeServer = await startHttpServer(
      invokeApiHandler({
        runtimes: new Map([['echo', runtime]]),
        functions: [echo],
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
    expect(Buffer.from(good.LogResult!, 'base64').toString()).toMatch(/^REPORT RequestId: /);

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
      name: 'RequestTooLargeException',
      message: 'Request must be smaller than 1048576 bytes for the InvokeFunction operation',
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

  it('answers a malformed path with 4xx, never 500', async () => {
    const runtime = new FunctionRuntime({ name: 'echo', arn: 'arn', timeoutSeconds: 5 });
    const { port } = await serve(runtime);
    const bad = await fetch(`http://127.0.0.1:${port}/2018-06-01/runtime/invocation/%E0%A4%A/response`, { method: 'POST', body: '{}' });
    expect(bad.status).toBe(400);
  });
});
