// One node:http server for a request handler, with the timeouts its kind of traffic needs.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { send } from './http-util';

export interface ServerTimeouts {
  /** Time for a client to send the request's headers (a socket that never finishes them is closed). */
  headersMs: number;
  /** Time for the whole request, body included (0: none, for streamed uploads). */
  requestMs: number;
  /** A socket with no traffic either way this long is closed (0: none). */
  idleMs: number;
}

/**
 * The Runtime API's `/next` is held open for as long as there is no work, and only function
 * containers reach it: no request or idle timeout there.
 */
export const RUNTIME_API_TIMEOUTS: ServerTimeouts = { headersMs: 60_000, requestMs: 0, idleMs: 0 };

export function startHttpServer(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  port: number,
  host: string,
  logger: Logger,
  timeouts: ServerTimeouts = RUNTIME_API_TIMEOUTS,
): Promise<Server> {
  // Node checks the header and request timeouts every `connectionsCheckingInterval` (30 s by
  // default): checked every second, a slow client is closed within a second of its deadline.
  const server = createServer({ connectionsCheckingInterval: 1_000, headersTimeout: timeouts.headersMs, requestTimeout: timeouts.requestMs }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error, url: req.url }, 'request failed');
      send(res, 500, { errorMessage: 'internal error', errorType: 'ServiceException' });
    });
  });
  server.keepAliveTimeout = timeouts.idleMs === 0 ? 0 : Math.min(5_000, timeouts.idleMs);
  if (timeouts.idleMs > 0) server.setTimeout(timeouts.idleMs, (socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
