// The local Lambda service's own Runtime API, served by the calling process (a suite, the bench) on
// 127.0.0.1 for one image run with --network host: the images are run against the contract the
// service runs.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
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
  const runtime = new FunctionRuntime({ name, arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`, timeoutSeconds });
  const server: Server = await startHttpServer(runtimeApiHandler(runtime, logger), 0, '127.0.0.1', logger);
  return {
    runtime,
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
