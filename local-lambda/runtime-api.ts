// The Lambda Runtime API (2018-06-01) that aws-lambda-ric talks to, for one function's containers.
// Contract (from the client's side): `/next` is a long poll that must stay open until work arrives
// (the client crashes on a 5xx), then `/response` or `/error` for that request id, and
// `/init/error` when the handler cannot even load.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { FunctionError, FunctionRuntime } from './function-runtime';
import { readBody, remoteAddress, send } from './http-util';

const PREFIX = '/2018-06-01/runtime';

function parseError(body: Buffer, typeHeader: string | undefined): FunctionError {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as Partial<FunctionError>;
    return {
      errorType: parsed.errorType ?? typeHeader ?? 'Unknown',
      errorMessage: parsed.errorMessage ?? '',
      ...(Array.isArray(parsed.stackTrace) && { stackTrace: parsed.stackTrace }),
    };
  } catch {
    return { errorType: typeHeader ?? 'Unknown', errorMessage: body.toString('utf8') };
  }
}

/** `onWorker` hears of every container that asks for work (to learn which container it is). */
export function runtimeApiHandler(runtime: FunctionRuntime, logger: Logger, onWorker?: (address: string) => void) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === `${PREFIX}/invocation/next`) {
      const worker = remoteAddress(req);
      onWorker?.(worker);
      const remove = runtime.addPoller({
        worker,
        deliver: (inv) => {
          if (res.destroyed || res.writableEnded) return false;
          send(res, 200, inv.payload, {
            'Lambda-Runtime-Aws-Request-Id': inv.requestId,
            'Lambda-Runtime-Deadline-Ms': String(inv.deadlineMs),
            'Lambda-Runtime-Invoked-Function-Arn': inv.functionArn,
            'Lambda-Runtime-Trace-Id': inv.traceId,
            ...inv.headers,
          });
          return true;
        },
      });
      // A container that dies while waiting must not be handed work.
      res.on('close', remove);
      return;
    }
    const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (req.method === 'POST' && match) {
      let requestId: string;
      try {
        requestId = decodeURIComponent(match[1]!);
      } catch {
        return send(res, 400, { errorMessage: `malformed request id in ${url}`, errorType: 'InvalidRequestID' });
      }
      const body = await readBody(req);
      if (body === 'too-large') {
        runtime.fail(requestId, { errorType: 'Function.ResponseSizeTooLarge', errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).' });
        return send(res, 413, { errorMessage: 'payload too large', errorType: 'RequestEntityTooLarge' });
      }
      const known =
        match[2] === 'response'
          ? runtime.complete(requestId, body)
          : runtime.fail(requestId, parseError(body, req.headers['lambda-runtime-function-error-type'] as string | undefined));
      // An unknown id is one that timed out meanwhile: Lambda answers 4xx, the client carries on.
      return known ? send(res, 202, { status: 'OK' }) : send(res, 400, { errorMessage: `unknown or expired request id ${requestId}`, errorType: 'InvalidRequestID' });
    }
    if (req.method === 'POST' && url === `${PREFIX}/init/error`) {
      const body = await readBody(req);
      const error = parseError(body === 'too-large' ? Buffer.from('') : body, req.headers['lambda-runtime-function-error-type'] as string | undefined);
      logger.error({ function: runtime.name, worker: remoteAddress(req), ...error }, 'function init failed');
      runtime.initError(error);
      return send(res, 202, { status: 'OK' });
    }
    send(res, 404, { errorMessage: `no route ${req.method} ${url}`, errorType: 'NotFound' });
  };
}
