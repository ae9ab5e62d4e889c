// The local Lambda service's own Runtime API, served by the calling process (a suite, the bench) on
// 127.0.0.1 for one image run with --network host: the images are run against the contract the
// service runs. The caller starts the container; it is the function's one environment.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { AccountConcurrency, FunctionConcurrency } from '../local-lambda/concurrency';
import { FunctionRuntime } from '../local-lambda/function-runtime';
import { startHttpServer } from '../local-lambda/http-server';
import { runtimeApiHandler } from '../local-lambda/runtime-api';

export interface TestRuntimeApi {
  runtime: FunctionRuntime;
  port: number;
  close(): void;
}

export async function startRuntimeApi(name: string, timeoutSeconds = 30): Promise<TestRuntimeApi> {
  const logger = pino({ level: 'silent' });
  const runtime = new FunctionRuntime({
    name,
    arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    timeoutSeconds,
    memoryMb: 1024,
    concurrency: new FunctionConcurrency(name, new AccountConcurrency(10, 1)),
    launcher: {
      launch: () => Promise.reject(new Error('the environment is the container the caller runs; it is gone')),
      remove: () => undefined,
    },
    // The caller's container may take its time (a cold image cache): no init limit, no idle removal.
    initTimeoutMs: 600_000,
    idleTimeoutMs: 3_600_000,
  });
  runtime.adopt({ id: 'caller', address: '127.0.0.1', logStream: 'caller' });
  const server: Server = await startHttpServer(runtimeApiHandler(runtime), 0, '127.0.0.1', logger);
  return {
    runtime,
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
