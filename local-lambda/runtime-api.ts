// The Lambda Runtime API (2018-06-01) that aws-lambda-ric talks to, for one function's environments.
// Contract (from the client's side): `/next` is a long poll that must stay open until work arrives
// (the client crashes on a 5xx), then `/response` or `/error` for that request id, and
// `/init/error` when the handler cannot even load. Each environment is known by its address (its
// own network, its own IP): a call from anywhere else is refused, and an environment may answer
// only the invocation it holds (the RIE's checks and answers: 400 InvalidRequestID, 403
// InvalidStateTransition).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FunctionError, FunctionRuntime } from './function-runtime';
import { readBody, remoteAddress, send } from './http-util';

const PREFIX = '/2018-06-01/runtime';

/** Lambda's response limit: 6 MB and 100 bytes (the RIE's MaxPayloadSize). */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

/** An environment may call before its start has been reported back to the service: it waits this long to be known. */
const REGISTRATION_WAIT_MS = 10_000;

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

const refused = (res: ServerResponse, runtime: FunctionRuntime, address: string) =>
  send(res, 403, { errorMessage: `${address} is not an execution environment of ${runtime.name}: only an environment may call its Runtime API`, errorType: 'AccessDeniedException' });

export interface RuntimeApiOptions {
  /** Names the environment behind a request: its address on its own network (an environment cannot take another's address: no raw sockets, its own network). */
  identify?: (req: IncomingMessage) => string;
  /** Whether an address is another function's environment: refused at once, it has nothing to wait for. */
  isForeign?: (address: string) => boolean;
}

export function runtimeApiHandler(runtime: FunctionRuntime, { identify = remoteAddress, isForeign = () => false }: RuntimeApiOptions = {}) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '';
    const address = identify(req);
    if (isForeign(address) || !(await runtime.whenKnown(address, REGISTRATION_WAIT_MS))) {
      req.resume();
      return refused(res, runtime, address);
    }
    if (req.method === 'GET' && url === `${PREFIX}/invocation/next`) {
      const closed = runtime.next(address, {
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
      if (!closed) return refused(res, runtime, address);
      // An environment that dies while waiting must not be handed work.
      res.on('close', closed);
      return;
    }
    const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (req.method === 'POST' && match) {
      let requestId: string;
      try {
        requestId = decodeURIComponent(match[1]!);
      } catch {
        return send(res, 400, { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
      }
      const body = await readBody(req, MAX_RESPONSE_BYTES);
      let outcome;
      if (body === 'too-large') {
        outcome = runtime.fail(address, requestId, { errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).` });
        if (outcome === 'accepted') return send(res, 413, { errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`, errorType: 'RequestEntityTooLarge' });
      } else if (match[2] === 'response') {
        outcome = runtime.respond(address, requestId, body);
      } else {
        outcome = runtime.fail(address, requestId, parseError(body, req.headers['lambda-runtime-function-error-type'] as string | undefined));
      }
      switch (outcome) {
        case 'accepted':
          return send(res, 202, { status: 'OK' });
        case 'invalid-state':
          return send(res, 403, { errorMessage: 'State transition from RuntimeResponseSent to InvocationResponse failed for runtime. Error: State transition is not allowed', errorType: 'InvalidStateTransition' });
        case 'unknown-environment':
          return refused(res, runtime, address);
        default:
          // Not the invocation this environment holds (another's, or one that timed out meanwhile).
          return send(res, 400, { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
      }
    }
    if (req.method === 'POST' && url === `${PREFIX}/init/error`) {
      const body = await readBody(req);
      const error = parseError(body === 'too-large' ? Buffer.from('') : body, req.headers['lambda-runtime-function-error-type'] as string | undefined);
      runtime.initError(address, error);
      return send(res, 202, { status: 'OK' });
    }
    send(res, 404, { errorMessage: `no route ${req.method} ${url}`, errorType: 'NotFound' });
  };
}
