// One node:http server for a request handler, with the timeouts a Runtime API needs.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { send } from './http-util';

export function startHttpServer(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  port: number,
  host: string,
  logger: Logger,
): Promise<Server> {
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error, url: req.url }, 'request failed');
      send(res, 500, { errorMessage: 'internal error', errorType: 'ServiceException' });
    });
  });
  // The Runtime API's `/next` is held open for as long as there is no work: no server timeouts.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 0;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
