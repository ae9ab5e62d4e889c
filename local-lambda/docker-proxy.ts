// The only door from the local Lambda service to Docker. The service runs as a non-root user on a
// read-only root and never sees the Docker socket; this small process (root, with the socket) answers
// five requests, and only about this stack's function containers (label lambda-pipelines.stack):
//   GET    /containers/json   the stack's function containers (id, name, function, address)
//   GET    /events            their start, die and oom events, as a stream
//   POST   /environments      a new environment of a function: the proxy builds the container itself
//                             (container-spec.ts) from the function's settings, starts it, answers
//                             {id, name, address}
//   DELETE /containers/{id}   removes one of them (a timed-out or idle environment)
//   GET    /health
// Everything else is refused with 403.
//   DOCKER_SOCKET=/var/run/docker.sock STACK_ID=lambda-pipelines FUNCTION_NETWORK=... PORT=2375 node docker-proxy.mjs
import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { containerSpec, FUNCTION_IMAGE_LABEL, FUNCTION_LABEL, parseEnvironmentRequest, STACK_LABEL, type ProxyConfig } from './container-spec';

type Route = { kind: 'list' } | { kind: 'events' } | { kind: 'create' } | { kind: 'remove'; id: string } | { kind: 'health' } | { kind: 'refused'; reason: string };

/** Which of the allowed requests this is, if any. Pure. */
export function route(method: string, url: string): Route {
  const { pathname } = new URL(url, 'http://proxy');
  const path = pathname.replace(/^\/v[\d.]+\//, '/');
  if (method === 'GET' && path === '/containers/json') return { kind: 'list' };
  if (method === 'GET' && path === '/events') return { kind: 'events' };
  if (method === 'GET' && path === '/health') return { kind: 'health' };
  if (method === 'POST' && path === '/environments') return { kind: 'create' };
  const remove = /^\/containers\/([a-f0-9]{12,64})$/.exec(path);
  if (method === 'DELETE' && remove) return { kind: 'remove', id: remove[1]! };
  return { kind: 'refused', reason: `${method} ${path} is not allowed by the local Lambda service's Docker proxy` };
}

/** The Docker API filter that keeps a request to this stack's function containers. */
export const stackFilters = (stackId: string, extra: Record<string, string[]> = {}) =>
  encodeURIComponent(JSON.stringify({ label: [`${STACK_LABEL}=${stackId}`, FUNCTION_LABEL], ...extra }));

function docker(config: ProxyConfig, method: string, path: string, body?: unknown): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request({ socketPath: config.socketPath, method, path, headers: { Host: 'docker', ...(data && { 'Content-Type': 'application/json', 'Content-Length': String(data.length) }) } }, resolve);
    req.on('error', reject);
    req.end(data);
  });
}

async function readJson(res: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text || 'null');
  } catch {
    return { message: text };
  }
}

async function readBody(req: IncomingMessage, limit = 256 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(body === undefined ? '' : JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(data.length) });
  res.end(data);
}

/** Only what the service needs of a container: no environment, mounts or image details. */
const summary = (c: Record<string, any>, network: string) => ({
  Id: c.Id,
  Names: c.Names,
  Labels: { [FUNCTION_LABEL]: c.Labels?.[FUNCTION_LABEL] },
  State: c.State,
  Address: c.NetworkSettings?.Networks?.[network]?.IPAddress ?? '',
});

async function isStackContainer(config: ProxyConfig, id: string): Promise<boolean> {
  const inspect = await docker(config, 'GET', `/containers/${id}/json`);
  const container = (await readJson(inspect)) as { Config?: { Labels?: Record<string, string> } } | null;
  const labels = container?.Config?.Labels ?? {};
  return inspect.statusCode === 200 && labels[STACK_LABEL] === config.stackId && Boolean(labels[FUNCTION_LABEL]);
}

export async function handle(config: ProxyConfig, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const r = route(req.method ?? 'GET', req.url ?? '/');
  switch (r.kind) {
    case 'refused':
      return reply(res, 403, { message: r.reason });
    case 'health':
      return reply(res, 200, { status: 'ok', stack: config.stackId });
    case 'list': {
      const out = await docker(config, 'GET', `/containers/json?all=1&filters=${stackFilters(config.stackId)}`);
      const list = (await readJson(out)) as Array<Record<string, any>>;
      return reply(res, out.statusCode ?? 500, Array.isArray(list) ? list.map((c) => summary(c, config.functionNetwork)) : list);
    }
    case 'events': {
      const filters = stackFilters(config.stackId, { type: ['container'], event: ['start', 'die', 'oom'] });
      const out = await docker(config, 'GET', `/events?filters=${filters}`);
      res.writeHead(out.statusCode ?? 500, { 'Content-Type': 'application/json' });
      out.pipe(res);
      req.on('close', () => out.destroy());
      return;
    }
    case 'create': {
      let environment;
      try {
        environment = parseEnvironmentRequest(await readBody(req));
      } catch (error) {
        return reply(res, 400, { message: (error as Error).message });
      }
      const image = await readJson(await docker(config, 'GET', `/images/${encodeURIComponent(environment.image)}/json`));
      const imageFunction = image?.Config?.Labels?.[FUNCTION_IMAGE_LABEL];
      if (!imageFunction) {
        return reply(res, 403, { message: `${environment.image} is ${image?.Id ? 'not labelled as a function image of this project' : 'not on this machine (run make build)'}: only images built from docker/Dockerfile's function target run as functions` });
      }
      const name = `${config.stackId}-${environment.function}`.slice(0, 100).replace(/[^A-Za-z0-9_.-]/g, '-') + `-${randomBytes(4).toString('hex')}`;
      const created = await docker(config, 'POST', `/containers/create?name=${encodeURIComponent(name)}`, containerSpec(environment, config, imageFunction));
      const body = await readJson(created);
      if (created.statusCode !== 201) return reply(res, 502, { message: `Docker refused the container: ${body?.message ?? created.statusCode}` });
      const started = await docker(config, 'POST', `/containers/${body.Id}/start`);
      const startBody = await readJson(started);
      if (started.statusCode !== 204 && started.statusCode !== 304) {
        await docker(config, 'DELETE', `/containers/${body.Id}?force=true&v=true`).then((x) => x.resume());
        return reply(res, 502, { message: `Docker could not start the container: ${startBody?.message ?? started.statusCode}` });
      }
      const inspected = await readJson(await docker(config, 'GET', `/containers/${body.Id}/json`));
      return reply(res, 201, { id: body.Id, name, address: inspected?.NetworkSettings?.Networks?.[config.functionNetwork]?.IPAddress ?? '' });
    }
    case 'remove': {
      if (!(await isStackContainer(config, r.id))) return reply(res, 403, { message: `container ${r.id} is not a function container of stack ${config.stackId}` });
      const out = await docker(config, 'DELETE', `/containers/${r.id}?force=true&v=true`);
      out.resume();
      return reply(res, out.statusCode === 404 ? 204 : (out.statusCode ?? 500), undefined);
    }
  }
}

/** The proxy's settings from its environment; a missing one is named. */
export function proxyConfig(env: NodeJS.ProcessEnv): ProxyConfig {
  const missing = ['STACK_ID', 'FUNCTION_NETWORK'].filter((k) => !env[k]);
  if (missing.length > 0) throw new Error(`docker-proxy: ${missing.join(' and ')} must be set (the stack label of the function containers, and the network they join)`);
  let extraLabels: Record<string, string> = {};
  try {
    extraLabels = env.CONTAINER_LABELS ? (JSON.parse(env.CONTAINER_LABELS) as Record<string, string>) : {};
  } catch {
    throw new Error('docker-proxy: CONTAINER_LABELS must be a JSON object of strings');
  }
  return {
    socketPath: env.DOCKER_SOCKET ?? '/var/run/docker.sock',
    stackId: env.STACK_ID!,
    functionNetwork: env.FUNCTION_NETWORK!,
    extraLabels,
    ...(env.DEV_BUNDLES && { devBundles: env.DEV_BUNDLES }),
  };
}

function main(): void {
  let config: ProxyConfig;
  try {
    config = proxyConfig(process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const port = Number(process.env.PORT ?? 2375);
  createServer((req, res) => {
    handle(config, req, res).catch((error: unknown) => {
      console.error(JSON.stringify({ level: 'error', message: 'docker-proxy request failed', url: req.url, err: (error as Error).message }));
      if (!res.headersSent) reply(res, 502, { message: (error as Error).message });
      else res.destroy();
    });
  }).listen(port, process.env.HOST ?? '0.0.0.0', () => console.log(JSON.stringify({ level: 'info', message: 'docker-proxy ready', port, stack: config.stackId, network: config.functionNetwork })));
  process.on('SIGTERM', () => process.exit(0));
}

if (process.argv[1]?.endsWith('docker-proxy.mjs') || process.argv[1]?.endsWith('docker-proxy.ts')) main();
