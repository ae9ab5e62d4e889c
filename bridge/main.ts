// The local Lambda service ("bridge"): runs the stack's functions as containers polling its
// Runtime API, serves the Invoke API, and drives the event sources from stack/stack.ts.
//   AWS_ENDPOINT_URL=http://127.0.0.1:4566 npx tsx bridge/main.ts
import type { Server } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { z } from 'zod';
import { ACCOUNT_ID, REGION, dlqName, eventQueueName, functions, type FunctionSpec } from '#stack';
import { sleep } from '#shared/backoff';
import { loadConfig } from '#shared/config';
import { BRIDGE_PORT, runtimeApiPort } from './addresses';
import { invokeAsync, type DestinationRecord } from './async-invoke';
import { dockerRestarter } from './docker-restarter';
import { FunctionRuntime } from './function-runtime';
import { startHttpServer } from './http-server';
import { invokeApiHandler } from './invoke-api';
import { runtimeApiHandler } from './runtime-api';
import { SqsS3Source } from './sqs-s3-source';
import { StreamSource } from './stream-source';
import { parseTimeoutOverrides } from './timeout-overrides';

const config = loadConfig(
  z.object({
    BRIDGE_PORT: z.coerce.number().int().positive().default(BRIDGE_PORT),
    BRIDGE_HOST: z.string().default('0.0.0.0'),
    DOCKER_SOCKET: z.string().default('/var/run/docker.sock'),
    /** Delays before the two retries of a failed Event invocation (AWS waits about 1 and 2 minutes). */
    ASYNC_RETRY_DELAYS_MS: z
      .string()
      .default('1000,2000')
      .transform((s) => s.split(',').map(Number))
      .refine((d) => d.every((n) => Number.isFinite(n) && n >= 0), 'must be comma-separated milliseconds'),
    SHUTDOWN_GRACE_MS: z.coerce.number().int().nonnegative().default(25_000),
    /** `name=seconds,...`: a local timeout instead of the stack's, e.g. to watch a timeout happen. */
    TIMEOUT_OVERRIDES: z
      .string()
      .default('')
      .transform((value, ctx) => {
        try {
          return parseTimeoutOverrides(value, functions.map((f) => f.name));
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      }),
  }),
);

const logger = pino({ messageKey: 'message', base: { service: 'bridge' }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (level) => ({ level }) } });
// Queue URLs name LocalStack's own host names; the endpoint we were given is the one that resolves.
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
const dynamodb = new DynamoDBClient({});
const streams = new DynamoDBStreamsClient({});
const restart = dockerRestarter(config.DOCKER_SOCKET, logger);
const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`;

async function sendToQueue(queueName: string, body: unknown): Promise<void> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(body) }));
}

const timeoutOf = (fn: FunctionSpec): number => config.TIMEOUT_OVERRIDES.get(fn.name) ?? fn.timeoutSeconds;
const runtimes = new Map(
  functions.map((fn) => [
    fn.name,
    new FunctionRuntime({
      name: fn.name,
      arn: functionArn(fn.name),
      timeoutSeconds: timeoutOf(fn),
      onTimeout: (worker, requestId) => {
        logger.warn({ function: fn.name, requestId, worker }, `task timed out after ${timeoutOf(fn)} seconds`);
        void restart(worker);
      },
    }),
  ]),
);

const servers: Server[] = [];
const sources: Array<{ stop(): Promise<void> }> = [];
const asyncInFlight = new Set<Promise<unknown>>();

for (const fn of functions) {
  const runtime = runtimes.get(fn.name)!;
  servers.push(await startHttpServer(runtimeApiHandler(runtime, logger), runtimeApiPort(fn), config.BRIDGE_HOST, logger));
  // All S3 triggers of a function share its one event queue (bootstrap wires them so).
  if (fn.triggers.some((t) => t.type === 's3')) {
    const source = new SqsS3Source({ sqs, queueName: eventQueueName(fn), runtime, timeoutSeconds: timeoutOf(fn), logger });
    source.start();
    sources.push(source);
  }
  for (const trigger of fn.triggers) {
    if (trigger.type === 'dynamodb-stream') {
      const source = new StreamSource({
        dynamodb,
        streams,
        table: trigger.table,
        batchSize: trigger.batchSize,
        reportBatchItemFailures: trigger.reportBatchItemFailures,
        runtime,
        logger,
        sendToDestination: (batch) => sendToQueue(dlqName(fn), { condition: 'RetryAttemptsExhausted', function: functionArn(fn.name), ...batch }),
      });
      source.start();
      sources.push(source);
    }
  }
}

const invokeServer = await startHttpServer(
  invokeApiHandler({
    runtimes,
    functionArn,
    invokeAsync: (runtime, payload) => {
      const fn = functions.find((f) => f.name === runtime.name)!;
      const work = invokeAsync(runtime, payload, {
        functionArn: functionArn(fn.name),
        retryDelaysMs: config.ASYNC_RETRY_DELAYS_MS,
        sleep,
        sendToDestination: (record: DestinationRecord) => sendToQueue(dlqName(fn), record),
      })
        .then((result) => logger.info({ function: fn.name, source: 'event', requestId: result.requestId, durationMs: result.durationMs, outcome: result.ok ? 'success' : result.kind }, 'invocation'))
        .catch((error: unknown) => logger.error({ function: fn.name, err: error }, 'async invocation could not be settled'));
      asyncInFlight.add(work);
      void work.finally(() => asyncInFlight.delete(work));
    },
    health: () => ({
      status: 'ok',
      functions: Object.fromEntries(
        [...runtimes].map(([name, r]) => [name, { idleContainers: r.idleWorkers, inFlight: r.inFlight, queued: r.queued, initError: r.initFailure }]),
      ),
    }),
  }),
  config.BRIDGE_PORT,
  config.BRIDGE_HOST,
  logger,
);
servers.push(invokeServer);
logger.info(
  { invokeApi: config.BRIDGE_PORT, runtimeApis: Object.fromEntries(functions.map((f) => [f.name, runtimeApiPort(f)])) },
  'local Lambda service ready',
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping: no new work; finishing the invocations in flight');
  // Sources stop receiving; messages not yet received stay in their queues for the next start.
  const stopped = Promise.all(sources.map((s) => s.stop()));
  await Promise.race([Promise.all([stopped, Promise.allSettled(asyncInFlight)]), sleep(config.SHUTDOWN_GRACE_MS)]);
  for (const server of servers) server.close();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
