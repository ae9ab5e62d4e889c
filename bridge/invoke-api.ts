// The Lambda Invoke API (2015-03-31) for `aws lambda invoke --endpoint-url` and LambdaClient:
// RequestResponse (payload back), Event (202, queued with retries), DryRun (204).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FunctionRuntime } from './function-runtime';
import { readBody, send } from './http-util';

export interface InvokeApiDeps {
  runtimes: ReadonlyMap<string, FunctionRuntime>;
  functionArn: (name: string) => string;
  /** Queues an Event invocation (retries and destination are the caller's business). */
  invokeAsync: (runtime: FunctionRuntime, payload: Buffer) => void;
  health: () => object;
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

export function invokeApiHandler(deps: InvokeApiDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://bridge');
    if (req.method === 'GET' && url.pathname === '/health') return send(res, 200, deps.health());
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
    if (!match || req.method !== 'POST') return awsError(res, 404, 'UnknownOperationException', `Unknown operation ${req.method} ${url.pathname}`);

    const name = functionNameFrom(match[1]!);
    const runtime = deps.runtimes.get(name);
    if (!runtime) return awsError(res, 404, 'ResourceNotFoundException', `Function not found: ${deps.functionArn(name)}`);
    const payload = await readBody(req);
    if (payload === 'too-large') {
      return awsError(res, 413, 'RequestTooLargeException', 'Request must be smaller than 6291456 bytes for the InvokeFunction operation');
    }
    const body = payload.length === 0 ? Buffer.from('{}') : payload;
    try {
      JSON.parse(body.toString('utf8'));
    } catch {
      return awsError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
    }

    const type = (req.headers['x-amz-invocation-type'] as string | undefined) ?? 'RequestResponse';
    if (type === 'DryRun') return send(res, 204);
    if (type === 'Event') {
      deps.invokeAsync(runtime, body);
      return send(res, 202, '', { 'X-Amz-Executed-Version': '$LATEST' });
    }
    if (type !== 'RequestResponse') return awsError(res, 400, 'InvalidParameterValueException', `Unsupported invocation type ${type}`);

    const result = await runtime.invoke({ payload: body });
    const headers: Record<string, string> = { 'X-Amz-Executed-Version': '$LATEST', 'x-amzn-RequestId': result.requestId };
    // Container logs go to `docker compose logs`; the tail carries the request's summary line.
    if (req.headers['x-amz-log-type'] === 'Tail') {
      const summary = `REPORT RequestId: ${result.requestId}\tDuration: ${result.durationMs.toFixed(2)} ms\t${result.ok ? '' : `Status: ${result.kind}`}\n`;
      headers['X-Amz-Log-Result'] = Buffer.from(summary).toString('base64');
    }
    if (result.ok) return send(res, 200, result.payload, headers);
    return send(res, 200, result.error, { ...headers, 'X-Amz-Function-Error': 'Unhandled' });
  };
}
