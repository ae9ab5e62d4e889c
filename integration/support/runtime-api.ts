// The bridge's own Runtime API, served by the test process on 127.0.0.1, for containers started
// with --network host: the images are tested against the same contract the local service runs.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { FunctionRuntime } from '../../bridge/function-runtime';
import { startHttpServer } from '../../bridge/http-server';
import { runtimeApiHandler } from '../../bridge/runtime-api';

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
