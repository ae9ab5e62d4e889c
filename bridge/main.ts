// The local Lambda service ("bridge"): runs the stack's functions as containers polling its
// Runtime API, serves the Lambda API, and runs the event source mappings of stack/topology.ts
// as AWS would: SQS, DynamoDB Streams, the queue of Event invocations, and the stack's schedules;
// and serves each Function URL on a port of its own, with a signing proxy in front for browsers.
//   AWS_ENDPOINT_URL=http://127.0.0.1:4566 npx tsx bridge/main.ts
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { z } from 'zod';
import { stack } from '#stack';
import { functionArn, LOCAL_ACCOUNT_ID, LOCAL_REGION, localEnvironment, queueArn, scheduleArn } from '#stack/local';
import type { EventSourceMapping } from '#stack/topology';
import { sleep } from '#shared/backoff';
import { loadConfig } from '#shared/config';
import { BRIDGE_PORT, functionUrlPort, runtimeApiPort, signingProxyPort } from './addresses';
import { Containers, type ContainerExit } from './containers';
import { AsyncPoller, enqueueEvent, ensureAsyncQueue, MAX_ASYNC_PAYLOAD_BYTES, type AsyncQueue } from './esm/async-poller';
import { DynamoCheckpointStore } from './esm/checkpoints';
import { isDeadLetter, type SendRecord } from './esm/failure-records';
import { EsmWorker, type Poller } from './esm/poller';
import { SchedulePoller } from './esm/schedule-poller';
import { SqsPoller } from './esm/sqs-poller';
import { StreamPoller } from './esm/stream-poller';
import { FunctionRuntime } from './function-runtime';
import { startHttpServer } from './http-server';
import { invokeApiHandler } from './invoke-api';
import { runtimeApiHandler } from './runtime-api';
import { servicePlan } from './service-plan';
import { LOCAL_SECRET_ACCESS_KEY } from './sigv4';
import { signingProxyHandler } from './signing-proxy';
import { functionUrlHandler } from './url-server';

const seconds = (name: string) =>
  z
    .string()
    .transform((s) => s.split(',').map((p) => Number(p.trim())))
    .refine((d) => d.length > 0 && d.every((n) => Number.isInteger(n) && n >= 0 && n <= 900), `${name} must be comma-separated whole seconds (0-900)`);

const config = loadConfig(
  z.object({
    BRIDGE_PORT: z.coerce.number().int().positive().default(BRIDGE_PORT),
    BRIDGE_HOST: z.string().default('0.0.0.0'),
    /** The Docker proxy (bridge/docker-proxy.ts); without it timed-out containers are not restarted. */
    DOCKER_PROXY_URL: z.url().optional(),
    /** Delays before the retries of a failed Event invocation (AWS waits about 1 and 2 minutes). */
    ASYNC_RETRY_DELAYS_SECONDS: seconds('ASYNC_RETRY_DELAYS_SECONDS').default([60, 120]),
    SHUTDOWN_GRACE_MS: z.coerce.number().int().nonnegative().default(25_000),
    /** make dev: POST /dev/reload/<function> restarts its containers on the new bundle. */
    LOCAL_DEV_RELOAD: z.enum(['true', 'false', '']).default('').transform((v) => v === 'true'),
    PROJECT: z.string().default('lambda-pipelines'),
  }),
);

const logger = pino({ messageKey: 'message', base: { service: 'bridge' }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (level) => ({ level }) } });
// A rejection nobody awaited is a bug to fix, never a reason to stop every function locally.
process.on('unhandledRejection', (reason) => logger.error({ err: (reason as Error)?.message ?? String(reason) }, 'unhandled rejection (please report it)'));

// Queue URLs name LocalStack's own host names; the endpoint we were given is the one that resolves.
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
const dynamodb = new DynamoDBClient({});
const streams = new DynamoDBStreamsClient({});
const plan = servicePlan(stack);
const startedAt = new Date();
const containers = new Containers(config.DOCKER_PROXY_URL ? new URL(config.DOCKER_PROXY_URL) : undefined, logger);

const runtimes = new Map(
  plan.functions.map((fn) => [
    fn.name,
    new FunctionRuntime({
      name: fn.name,
      arn: functionArn(fn.name),
      timeoutSeconds: fn.timeoutSeconds,
      onTimeout: (worker, requestId) => {
        logger.warn({ function: fn.name, requestId, worker }, `task timed out after ${fn.timeoutSeconds} seconds`);
        void containers.restart(worker).catch((error: unknown) => logger.error({ worker, err: (error as Error).message }, 'could not restart the timed-out container'));
      },
    }),
  ]),
);

/** A container died: its invocation fails now, as Lambda reports a runtime that exited. */
function onContainerExit(exit: ContainerExit): void {
  const how = exit.oomKilled || exit.exitCode === 137 ? 'signal: killed' : `exit status ${exit.exitCode}`;
  const error = { errorType: exit.oomKilled ? 'Runtime.OutOfMemory' : 'Runtime.ExitError', errorMessage: `Runtime exited with error: ${how}` };
  for (const address of containers.addressesOf(exit.id)) {
    for (const runtime of runtimes.values()) {
      const failed = runtime.workerExited(address, error);
      if (failed > 0) logger.warn({ function: runtime.name, container: exit.id.slice(0, 12), ...error, failed }, 'container exited during an invocation');
    }
  }
}
containers.watch(onContainerExit);

const queueUrls = new Map<string, Promise<string>>();
const queueUrl = (name: string): Promise<string> => {
  if (!queueUrls.has(name)) {
    const url = sqs.send(new GetQueueUrlCommand({ QueueName: name })).then((out) => out.QueueUrl!);
    url.catch(() => queueUrls.delete(name));
    queueUrls.set(name, url);
  }
  return queueUrls.get(name)!;
};
/** The one sender of failure records (to a function's on-failure destination); throws when SQS does. */
const sendRecord: SendRecord = async (queue, record) => {
  const [body, attributes] = isDeadLetter(record) ? [record.body, record.attributes] : [JSON.stringify(record), {}];
  const MessageAttributes = Object.fromEntries(Object.entries(attributes).map(([name, value]): [string, MessageAttributeValue] => [name, { DataType: 'String', StringValue: value }]));
  await sqs.send(new SendMessageCommand({ QueueUrl: await queueUrl(queue), MessageBody: body, ...(Object.keys(MessageAttributes).length > 0 && { MessageAttributes }) }));
};

const asyncQueues = new Map<string, Promise<AsyncQueue>>();
const asyncQueue = (fn: string): Promise<AsyncQueue> => {
  if (!asyncQueues.has(fn)) {
    const spec = stack.functions.find((f) => f.name === fn)!;
    const queue = ensureAsyncQueue(sqs, fn, spec.timeoutSeconds + 60);
    queue.catch(() => asyncQueues.delete(fn));
    asyncQueues.set(fn, queue);
  }
  return asyncQueues.get(fn)!;
};

const checkpoints = new DynamoCheckpointStore(dynamodb);
const pollers: Poller[] = [];
for (const mapping of plan.mappings) {
  const runtime = runtimes.get(mapping.function)!;
  if (mapping.kind === 'sqs') pollers.push(new SqsPoller({ sqs, mapping, runtime, region: LOCAL_REGION, logger }));
  else pollers.push(new StreamPoller({ dynamodb, streams, mapping, runtime, functionArn: functionArn(mapping.function), checkpoints, sendRecord, logger }));
}
for (const spec of plan.asyncInvokes) {
  pollers.push(
    new AsyncPoller({
      sqs,
      queue: () => asyncQueue(spec.function),
      config: spec,
      runtime: runtimes.get(spec.function)!,
      functionArn: functionArn(spec.function),
      sendRecord,
      retryDelaySeconds: (attempt) => config.ASYNC_RETRY_DELAYS_SECONDS[Math.min(attempt, config.ASYNC_RETRY_DELAYS_SECONDS.length) - 1] ?? 60,
      logger,
    }),
  );
}
for (const schedule of plan.schedules) {
  pollers.push(
    new SchedulePoller({
      schedule,
      scheduleArn: scheduleArn(schedule.name),
      targetArn: functionArn(schedule.function),
      deliver: async (payload) => {
        await enqueueEvent(sqs, await asyncQueue(schedule.function), { requestId: randomUUID(), payload: payload.toString('base64'), attempts: 0, acceptedAt: Date.now() });
      },
      sendRecord,
      checkpoints,
      logger,
    }),
  );
}
const workers = pollers.map((poller) => new EsmWorker(poller, { logger }));

const servers: Server[] = [];
for (const fn of stack.functions) {
  const runtime = runtimes.get(fn.name)!;
  servers.push(await startHttpServer(runtimeApiHandler(runtime, logger, (address) => void containers.byWorker(address)), runtimeApiPort(fn), config.BRIDGE_HOST, logger));
}

let accepting = true;
const sourceArn = (m: EventSourceMapping) => (m.kind === 'sqs' ? queueArn(m.queue) : `arn:aws:dynamodb:${LOCAL_REGION}:000000000000:table/${m.table}/stream`);
servers.push(
  await startHttpServer(
    invokeApiHandler({
      runtimes,
      functions: stack.functions,
      mappings: plan.mappings,
      functionArn,
      sourceArn,
      environment: localEnvironment,
      imageUri: (fn) => `${config.PROJECT}/${fn.name}:latest`,
      urls: plan.urls,
      urlOf: (name) => `http://127.0.0.1:${functionUrlPort({ name })}/`,
      maxEventPayloadBytes: MAX_ASYNC_PAYLOAD_BYTES,
      accepting: () => accepting,
      invokeEvent: async (runtime, payload) => {
        const requestId = randomUUID();
        await enqueueEvent(sqs, await asyncQueue(runtime.name), { requestId, payload: payload.toString('base64'), attempts: 0, acceptedAt: Date.now() });
        return requestId;
      },
      ...(config.LOCAL_DEV_RELOAD && {
        devReload: async (name: string) => {
          const runtime = runtimes.get(name)!;
          const started = Date.now();
          // What runs finishes on the old code; what waits runs on the new.
          await runtime.hold(plan.functions.find((f) => f.name === name)!.timeoutSeconds * 1000);
          try {
            const restarted = await containers.restartFunction(name);
            logger.info({ function: name, restarted, ms: Date.now() - started }, 'reloaded on the new bundle');
            return { function: name, restarted };
          } finally {
            runtime.release();
          }
        },
      }),
      onInvoked: (name, result) =>
        logger.info({ function: name, source: 'request-response', requestId: result.requestId, durationMs: result.durationMs, outcome: result.ok ? 'success' : result.kind }, 'invocation'),
      health: () => ({
        status: accepting ? 'ok' : 'stopping',
        functions: Object.fromEntries(
          [...runtimes].map(([name, r]) => [name, { idleContainers: r.idleWorkers, inFlight: r.inFlight, queued: r.queued, initError: r.initFailure }]),
        ),
        eventSourceMappings: pollers.map((p) => p.name),
        functionUrls: Object.fromEntries(plan.urls.map((u) => [u.function, { port: functionUrlPort({ name: u.function }), authType: u.authType, signingProxyPort: signingProxyPort({ name: u.function }) }])),
        dockerProxy: containers.enabled,
      }),
      startedAt,
    }),
    config.BRIDGE_PORT,
    config.BRIDGE_HOST,
    logger,
  ),
);
for (const url of plan.urls) {
  const port = functionUrlPort({ name: url.function });
  const handler = functionUrlHandler({ config: url, runtime: runtimes.get(url.function)!, region: LOCAL_REGION, accountId: LOCAL_ACCOUNT_ID, logger, accepting: () => accepting });
  servers.push(await startHttpServer(handler, port, config.BRIDGE_HOST, logger));
  // The browser's door: signs with the local credentials (any key, LocalStack's secret).
  const proxy = signingProxyHandler({ target: new URL(`http://127.0.0.1:${port}/`), region: LOCAL_REGION, credentials: { accessKeyId: 'local-dashboard', secretAccessKey: LOCAL_SECRET_ACCESS_KEY } });
  servers.push(await startHttpServer(proxy, signingProxyPort({ name: url.function }), config.BRIDGE_HOST, logger));
}
for (const worker of workers) worker.start();
logger.info(
  {
    lambdaApi: config.BRIDGE_PORT,
    runtimeApis: Object.fromEntries(stack.functions.map((f) => [f.name, runtimeApiPort(f)])),
    functionUrls: Object.fromEntries(plan.urls.map((u) => [u.function, functionUrlPort({ name: u.function })])),
    eventSourceMappings: pollers.map((p) => p.name),
  },
  'local Lambda service ready',
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  accepting = false;
  logger.info({ signal }, 'stopping: no new work; finishing the invocations in flight');
  // Pollers stop receiving; what was not received stays in its queue or stream for the next start.
  await Promise.race([Promise.all(workers.map((w) => w.stop())), sleep(config.SHUTDOWN_GRACE_MS)]);
  containers.stop();
  for (const server of servers) server.close();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
