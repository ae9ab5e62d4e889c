// Where the local Lambda service listens. aws-lambda-ric accepts only `host:port` in
// AWS_LAMBDA_RUNTIME_API (no path), so each function gets a Runtime API port of its own:
// the containers of one function poll one port, and the port tells the service which function.
import { DASHBOARD_PORT, functions } from '#stack';
import type { FunctionSpec } from '#stack/model';

/** The Invoke API (`aws lambda invoke --endpoint-url http://127.0.0.1:9001`) and /health. */
export const BRIDGE_PORT = 9001;
const RUNTIME_API_BASE_PORT = 9100;

export function runtimeApiPort(fn: Pick<FunctionSpec, 'name'>): number {
  const index = functions.findIndex((f) => f.name === fn.name);
  if (index < 0) throw new Error(`unknown function ${fn.name}`);
  return RUNTIME_API_BASE_PORT + index;
}

/** The AWS_LAMBDA_RUNTIME_API value for a function's containers. */
export const runtimeApiAddress = (host: string, fn: Pick<FunctionSpec, 'name'>): string => `${host}:${runtimeApiPort(fn)}`;

/** Function URLs: one port each, in the order of the stack's functions that declare a URL. */
const FUNCTION_URL_BASE_PORT = 9010;
/** The browser's door to an AWS_IAM URL: a proxy that signs each request (bridge/signing-proxy.ts). */
const SIGNING_PROXY_BASE_PORT = DASHBOARD_PORT;

function urlIndex(fn: Pick<FunctionSpec, 'name'>): number {
  const index = functions.filter((f) => f.url).findIndex((f) => f.name === fn.name);
  if (index < 0) throw new Error(`function ${fn.name} has no url in the stack description`);
  return index;
}

export const functionUrlPort = (fn: Pick<FunctionSpec, 'name'>): number => FUNCTION_URL_BASE_PORT + urlIndex(fn);
export const signingProxyPort = (fn: Pick<FunctionSpec, 'name'>): number => SIGNING_PROXY_BASE_PORT + urlIndex(fn);
