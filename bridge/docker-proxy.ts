// The only door from the local Lambda service to Docker. The service itself runs as a non-root
// user on a read-only root and never sees the Docker socket; this small process (root, with the
// socket) answers exactly three requests, and only about containers labelled as this stack's
// functions (`lambda-pipelines.stack=<STACK_ID>`):
//   GET  /containers/json             the stack's function containers (id, name, addresses)
//   GET  /events                      their start, die and oom events, as a stream
//   POST /containers/{id}/restart     restart one of them (a timed-out sandbox)
// Everything else is refused with 403.
//   DOCKER_SOCKET=/var/run/docker.sock STACK_ID=lambda-pipelines PORT=2375 node docker-proxy.mjs
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';

export const STACK_LABEL = 'lambda-pipelines.stack';
export const FUNCTION_LABEL = 'lambda-pipelines.function';

export interface ProxyConfig {
  socketPath: string;
  stackId: string;
}

type Route = { kind: 'list' } | { kind: 'events' } | { kind: 'restart'; id: string } | { kind: 'refused'; reason: string };

/** Which of the allowed requests this is, if any. Pure. */
export function route(method: string, url: string): Route {
  const { pathname } = new URL(url, 'http://proxy');
  const path = pathname.replace(/^\/v[\d.]+\//, '/');
  if (method === 'GET' && path === '/containers/json') return { kind: 'list' };
  if (method === 'GET' && path === '/events') return { kind: 'events' };
  const restart = /^\/containers\/([a-f0-9]{12,64})\/restart$/.exec(path);
  if (method === 'POST' && restart) return { kind: 'restart', id: restart[1]! };
  return { kind: 'refused', reason: `${method} ${path} is not allowed by the local Lambda service's Docker proxy` };
}

/** The Docker API filter that keeps a request to this stack's function containers. */
export const stackFilters = (stackId: string, extra: Record<string, string[]> = {}) =>
  encodeURIComponent(JSON.stringify({ label: [`${STACK_LABEL}=${stackId}`, FUNCTION_LABEL], ...extra }));

function docker(config: ProxyConfig, method: string, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: config.socketPath, method, path, headers: { Host: 'docker' } }, resolve);
    req.on('error', reject);
    req.end();
  });
}

async function readJson(res: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(body === undefined ? '' : JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(data.length) });
  res.end(data);
}

export async function handle(config: ProxyConfig, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const r = route(req.method ?? 'GET', req.url ?? '/');
  switch (r.kind) {
    case 'refused':
      return reply(res, 403, { message: r.reason });
    case 'list': {
      const out = await docker(config, 'GET', `/containers/json?filters=${stackFilters(config.stackId)}`);
      const list = (await readJson(out)) as Array<Record<string, any>>;
      // Only what the service needs: no environment, mounts or image details.
      return reply(
        res,
        out.statusCode ?? 500,
        Array.isArray(list) ? list.map((c) => ({ Id: c.Id, Names: c.Names, Labels: { [FUNCTION_LABEL]: c.Labels?.[FUNCTION_LABEL] }, State: c.State, NetworkSettings: c.NetworkSettings })) : list,
      );
    }
    case 'events': {
      const filters = stackFilters(config.stackId, { type: ['container'], event: ['start', 'die', 'oom'] });
      const out = await docker(config, 'GET', `/events?filters=${filters}`);
      res.writeHead(out.statusCode ?? 500, { 'Content-Type': 'application/json' });
      out.pipe(res);
      req.on('close', () => out.destroy());
      return;
    }
    case 'restart': {
      const inspect = await docker(config, 'GET', `/containers/${r.id}/json`);
      const container = (await readJson(inspect)) as { Config?: { Labels?: Record<string, string> } } | null;
      const labels = container?.Config?.Labels ?? {};
      if (inspect.statusCode !== 200 || labels[STACK_LABEL] !== config.stackId || !labels[FUNCTION_LABEL]) {
        return reply(res, 403, { message: `container ${r.id} is not a function container of stack ${config.stackId}` });
      }
      const out = await docker(config, 'POST', `/containers/${r.id}/restart?t=0`);
      out.resume();
      return reply(res, out.statusCode ?? 500, undefined);
    }
  }
}

function main(): void {
  const config: ProxyConfig = { socketPath: process.env.DOCKER_SOCKET ?? '/var/run/docker.sock', stackId: process.env.STACK_ID ?? '' };
  if (!config.stackId) {
    console.error('docker-proxy: STACK_ID is required (the value of the lambda-pipelines.stack label of the function containers)');
    process.exit(1);
  }
  const port = Number(process.env.PORT ?? 2375);
  createServer((req, res) => {
    handle(config, req, res).catch((error: unknown) => {
      console.error(JSON.stringify({ level: 'error', message: 'docker-proxy request failed', url: req.url, err: (error as Error).message }));
      if (!res.headersSent) reply(res, 502, { message: (error as Error).message });
      else res.destroy();
    });
  }).listen(port, '0.0.0.0', () => console.log(JSON.stringify({ level: 'info', message: 'docker-proxy ready', port, stack: config.stackId })));
  process.on('SIGTERM', () => process.exit(0));
}

if (process.argv[1]?.endsWith('docker-proxy.mjs') || process.argv[1]?.endsWith('docker-proxy.ts')) main();
