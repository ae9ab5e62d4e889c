// The only door from the local Lambda service to Docker. The service runs as a non-root user on a
// read-only root and never sees the Docker socket; this small process (root, with the socket, and
// CAP_SYS_ADMIN for the loop devices behind /tmp) answers these requests, and only about this
// stack's function containers (label lambda-pipelines.stack):
//   GET    /containers/json             the stack's function containers (id, name, function, address)
//   GET    /events                      their start, die and oom events, as a stream
//   POST   /environments                a new environment of a function: the proxy builds it itself
//                                       (container-spec.ts): its own network (environment-network.ts),
//                                       its /tmp (environment-storage.ts), its container; answers
//                                       {id, name, address}
//   DELETE /containers/{id}             removes one of them with its network and /tmp
//   GET    /containers/{id}/logs        its output, as a stream (Docker's multiplexed format)
//   GET    /containers/{id}/stats       its memory now and at its peak, in bytes
//   POST   /containers/{id}/invoke-phase   its init is over: CPU down to the function's share
//   GET    /health                      how /tmp is made here, and the machine's cores
// Everything else is refused with 403.
//   DOCKER_SOCKET=/var/run/docker.sock STACK_ID=lambda-pipelines PORT=2375 node docker-proxy.mjs
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { availableParallelism } from 'node:os';
import { containerSpec, FUNCTION_IMAGE_LABEL, FUNCTION_LABEL, invokeVcpus, nanoCpus, NETWORK_LABEL, parseEnvironmentRequest, SCRATCH_LABEL, STACK_LABEL, type ProxyConfig } from './container-spec';
import { DockerApi } from './docker-api';
import { EnvironmentNetworks } from './environment-network';
import { ScratchVolumes } from './environment-storage';

type Route =
  | { kind: 'list' }
  | { kind: 'events' }
  | { kind: 'create' }
  | { kind: 'remove'; id: string }
  | { kind: 'logs'; id: string }
  | { kind: 'stats'; id: string }
  | { kind: 'invoke-phase'; id: string }
  | { kind: 'health' }
  | { kind: 'refused'; reason: string };

/** Which of the allowed requests this is, if any. Pure. */
export function route(method: string, url: string): Route {
  const { pathname } = new URL(url, 'http://proxy');
  const path = pathname.replace(/^\/v[\d.]+\//, '/');
  if (method === 'GET' && path === '/containers/json') return { kind: 'list' };
  if (method === 'GET' && path === '/events') return { kind: 'events' };
  if (method === 'GET' && path === '/health') return { kind: 'health' };
  if (method === 'POST' && path === '/environments') return { kind: 'create' };
  const container = /^\/containers\/([a-f0-9]{12,64})(\/logs|\/stats|\/invoke-phase)?$/.exec(path);
  if (container) {
    const id = container[1]!;
    if (method === 'DELETE' && !container[2]) return { kind: 'remove', id };
    if (method === 'GET' && container[2] === '/logs') return { kind: 'logs', id };
    if (method === 'GET' && container[2] === '/stats') return { kind: 'stats', id };
    if (method === 'POST' && container[2] === '/invoke-phase') return { kind: 'invoke-phase', id };
  }
  return { kind: 'refused', reason: `${method} ${path} is not allowed by the local Lambda service's Docker proxy` };
}

/** The Docker API filter that keeps a request to this stack's function containers. */
export const stackFilters = (stackId: string, extra: Record<string, string[]> = {}) =>
  encodeURIComponent(JSON.stringify({ label: [`${STACK_LABEL}=${stackId}`, FUNCTION_LABEL], ...extra }));

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
const summary = (c: Record<string, any>) => ({
  Id: c.Id,
  Names: c.Names,
  Labels: { [FUNCTION_LABEL]: c.Labels?.[FUNCTION_LABEL] },
  State: c.State,
  Address: c.NetworkSettings?.Networks?.[c.Labels?.[NETWORK_LABEL]]?.IPAddress ?? '',
});

/** Docker's architecture names for Lambda's. */
const DOCKER_ARCH: Record<string, string> = { x86_64: 'amd64', arm64: 'arm64' };

export class DockerProxy {
  readonly docker: DockerApi;
  readonly networks: EnvironmentNetworks;
  readonly scratch: ScratchVolumes;
  /** Why /tmp is a tmpfs here (undefined: a volume of the ephemeral storage size). */
  scratchUnavailable: string | undefined = 'not probed yet';
  readonly cores: number;

  constructor(readonly config: ProxyConfig) {
    this.docker = new DockerApi(config.socketPath);
    this.networks = new EnvironmentNetworks({ docker: this.docker, stackId: config.stackId, pool: config.subnetPool, labels: config.extraLabels });
    this.scratch = new ScratchVolumes({ docker: this.docker, stackId: config.stackId, labels: config.extraLabels, dir: config.scratchDir, busybox: config.busybox });
    this.cores = config.cores ?? availableParallelism();
  }

  /** Probes the loop devices, removes what an earlier run left (networks and volumes no container uses), watches removals. */
  async start(): Promise<void> {
    this.scratchUnavailable = await this.scratch.probe();
    this.watchRemovals();
    const inUse = new Set((await this.stackContainers()).flatMap((c) => [c.Labels?.[NETWORK_LABEL], c.Labels?.[SCRATCH_LABEL]]));
    for (const name of await this.networks.leftovers()) if (!inUse.has(name)) await this.networks.remove(name).catch(() => undefined);
    for (const name of await this.scratch.leftovers()) if (!inUse.has(name)) await this.scratch.remove(name).catch(() => undefined);
    await this.scratch.detachOrphans(new Set(await this.scratch.leftovers()));
  }

  private async stackContainers(): Promise<Array<Record<string, any>>> {
    const list = await this.docker.must('GET', `/containers/json?all=1&filters=${stackFilters(this.config.stackId)}`);
    return Array.isArray(list) ? list : [];
  }

  private async stackContainer(id: string): Promise<Record<string, any> | undefined> {
    const inspect = await this.docker.call('GET', `/containers/${id}/json`);
    const labels = inspect.body?.Config?.Labels ?? {};
    return inspect.status === 200 && labels[STACK_LABEL] === this.config.stackId && labels[FUNCTION_LABEL] ? inspect.body : undefined;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const r = route(req.method ?? 'GET', req.url ?? '/');
    switch (r.kind) {
      case 'refused':
        return reply(res, 403, { message: r.reason });
      case 'health':
        return reply(res, 200, { status: 'ok', stack: this.config.stackId, cores: this.cores, tmp: this.scratchUnavailable ? { kind: 'tmpfs', why: this.scratchUnavailable } : { kind: 'volume' } });
      case 'list':
        return reply(res, 200, (await this.stackContainers()).map(summary));
      case 'events': {
        const filters = stackFilters(this.config.stackId, { type: ['container'], event: ['start', 'die', 'oom'] });
        const out = await this.docker.stream('GET', `/events?filters=${filters}`);
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
        const image = (await this.docker.call('GET', `/images/${encodeURIComponent(environment.image)}/json`)).body;
        const imageFunction = image?.Config?.Labels?.[FUNCTION_IMAGE_LABEL];
        if (!imageFunction) {
          return reply(res, 403, { message: `${environment.image} is ${image?.Id ? 'not labelled as a function image of this project' : 'not on this machine (run make build)'}: only images built from docker/Dockerfile's function target run as functions` });
        }
        if (image.Architecture && image.Architecture !== DOCKER_ARCH[environment.architecture]) {
          return reply(res, 400, { message: `the function's architecture is ${environment.architecture} but ${environment.image} is built for ${image.Architecture}: build it for ${DOCKER_ARCH[environment.architecture]} (make build ARCH=${environment.architecture})` });
        }
        const name = `${this.config.stackId}-${environment.function}`.slice(0, 90).replace(/[^A-Za-z0-9_.-]/g, '-') + `-${randomBytes(4).toString('hex')}`;
        return reply(res, 201, await this.createEnvironment(name, environment, imageFunction));
      }
      case 'remove': {
        const container = await this.stackContainer(r.id);
        // Gone already (removed by someone else): its destroy event cleaned up after it.
        if (!container && (await this.docker.call('GET', `/containers/${r.id}/json`)).status === 404) return reply(res, 204, undefined);
        if (!container) return reply(res, 403, { message: `container ${r.id} is not a function container of stack ${this.config.stackId}` });
        await this.removeEnvironment(r.id, container.Config.Labels);
        return reply(res, 204, undefined);
      }
      case 'logs': {
        if (!(await this.stackContainer(r.id))) return reply(res, 403, { message: `container ${r.id} is not a function container of stack ${this.config.stackId}` });
        const out = await this.docker.stream('GET', `/containers/${r.id}/logs?follow=1&stdout=1&stderr=1`);
        res.writeHead(out.statusCode ?? 500, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
        out.pipe(res);
        req.on('close', () => out.destroy());
        return;
      }
      case 'stats': {
        if (!(await this.stackContainer(r.id))) return reply(res, 403, { message: `container ${r.id} is not a function container of stack ${this.config.stackId}` });
        const stats = await this.docker.must('GET', `/containers/${r.id}/stats?stream=false&one-shot=true`);
        const memory = stats?.memory_stats ?? {};
        // cgroup v1 keeps the peak (max_usage); v2's stats do not: the usage now is the best known then.
        return reply(res, 200, { memoryBytes: memory.usage ?? 0, maxMemoryBytes: memory.max_usage ?? memory.usage ?? 0 });
      }
      case 'invoke-phase': {
        const container = await this.stackContainer(r.id);
        if (!container) return reply(res, 403, { message: `container ${r.id} is not a function container of stack ${this.config.stackId}` });
        const memoryMb = Math.round((container.HostConfig?.Memory ?? 0) / 1024 / 1024);
        await this.docker.must('POST', `/containers/${r.id}/update`, { NanoCpus: nanoCpus(invokeVcpus(memoryMb), this.cores) }, [404, 409]);
        return reply(res, 204, undefined);
      }
    }
  }

  private async createEnvironment(name: string, environment: ReturnType<typeof parseEnvironmentRequest>, imageFunction: string): Promise<{ id: string; name: string; address: string }> {
    // The network and /tmp are independent: made side by side (a cold start waits for both).
    const [networkResult, scratchResult] = await Promise.allSettled([
      this.networks.create(`${name}-net`),
      this.scratchUnavailable ? Promise.resolve(undefined) : this.scratch.create(`${name}-tmp`, environment.ephemeralStorageMb),
    ]);
    if (networkResult.status === 'rejected' || scratchResult.status === 'rejected') {
      if (networkResult.status === 'fulfilled') await this.networks.remove(networkResult.value).catch(() => undefined);
      if (scratchResult.status === 'fulfilled' && scratchResult.value) await this.scratch.remove(scratchResult.value).catch(() => undefined);
      throw networkResult.status === 'rejected' ? networkResult.reason : (scratchResult as PromiseRejectedResult).reason;
    }
    const network = networkResult.value;
    const scratchVolume = scratchResult.value;
    let id: string | undefined;
    try {
      const spec = containerSpec(environment, this.config, imageFunction, { network, cores: this.cores, ...(scratchVolume && { scratchVolume }) });
      id = (await this.docker.must('POST', `/containers/create?name=${encodeURIComponent(name)}`, spec)).Id as string;
      await this.docker.must('POST', `/containers/${id}/start`, undefined, [304]);
      const inspected = await this.docker.must('GET', `/containers/${id}/json`);
      return { id, name, address: inspected?.NetworkSettings?.Networks?.[network]?.IPAddress ?? '' };
    } catch (error) {
      if (id) await this.docker.call('DELETE', `/containers/${id}?force=true&v=true`);
      if (scratchVolume) await this.scratch.remove(scratchVolume).catch(() => undefined);
      await this.networks.remove(network).catch(() => undefined);
      throw error;
    }
  }

  private async removeEnvironment(id: string, labels: Record<string, string>): Promise<void> {
    const removed = await this.docker.call('DELETE', `/containers/${id}?force=true&v=true`);
    // 409: someone else is removing it already (docker rm -f): its destroy event cleans up after it.
    if (removed.status === 409) return;
    if (removed.status >= 300 && removed.status !== 404) throw new Error(`DELETE /containers/${id}: ${removed.body?.message ?? removed.status}`);
    await this.cleanUp(labels);
  }

  private readonly cleanups = new Map<string, Promise<void>>();

  /** Removes an environment's /tmp and network, once (a removal here and its destroy event both ask). */
  private cleanUp(labels: Record<string, string>): Promise<void> {
    const key = `${labels[SCRATCH_LABEL] ?? ''}|${labels[NETWORK_LABEL] ?? ''}`;
    if (!this.cleanups.has(key)) {
      const work = (async () => {
        if (labels[SCRATCH_LABEL]) await this.scratch.remove(labels[SCRATCH_LABEL]);
        if (labels[NETWORK_LABEL]) await this.networks.remove(labels[NETWORK_LABEL]);
      })();
      this.cleanups.set(key, work);
      // Done: forgotten after a while (the names are never reused); failed: the next ask tries again.
      work.then(
        () => setTimeout(() => this.cleanups.delete(key), 60_000).unref(),
        () => this.cleanups.delete(key),
      );
    }
    return this.cleanups.get(key)!;
  }

  /** An environment removed by anyone (`docker rm -f`, a user's clean-up) leaves no network or /tmp behind. */
  private watchRemovals(): void {
    const connect = async () => {
      try {
        const filters = stackFilters(this.config.stackId, { type: ['container'], event: ['destroy'] });
        const events = await this.docker.stream('GET', `/events?filters=${filters}`);
        let buffered = '';
        events.setEncoding('utf8');
        events.on('data', (chunk: string) => {
          buffered += chunk;
          let newline: number;
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline);
            buffered = buffered.slice(newline + 1);
            try {
              const attributes = (JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } }).Actor?.Attributes ?? {};
              void this.cleanUp(attributes).catch((error: unknown) => console.error(JSON.stringify({ level: 'warn', message: 'could not clean up after a removed environment', err: (error as Error).message })));
            } catch {
              // a partial or foreign line
            }
          }
        });
        events.on('end', () => setTimeout(() => void connect(), 1_000));
        events.on('error', () => setTimeout(() => void connect(), 1_000));
      } catch {
        setTimeout(() => void connect(), 2_000);
      }
    };
    void connect();
  }
}

/** The proxy's settings from its environment; a missing or bad one is named. */
export function proxyConfig(env: NodeJS.ProcessEnv): ProxyConfig {
  if (!env.STACK_ID) throw new Error('docker-proxy: STACK_ID must be set (the stack label of the function containers)');
  let extraLabels: Record<string, string> = {};
  try {
    extraLabels = env.CONTAINER_LABELS ? (JSON.parse(env.CONTAINER_LABELS) as Record<string, string>) : {};
  } catch {
    throw new Error('docker-proxy: CONTAINER_LABELS must be a JSON object of strings');
  }
  return {
    socketPath: env.DOCKER_SOCKET ?? '/var/run/docker.sock',
    stackId: env.STACK_ID,
    extraLabels,
    subnetPool: env.ENVIRONMENT_SUBNETS || '10.213.0.0/16',
    scratchDir: env.SCRATCH_DIR || '/var/lib/lambda-scratch',
    busybox: env.BUSYBOX || '/opt/storage/busybox',
    ...(env.DEV_BUNDLES && { devBundles: env.DEV_BUNDLES }),
  };
}

async function main(): Promise<void> {
  let proxy: DockerProxy;
  try {
    proxy = new DockerProxy(proxyConfig(process.env));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  await proxy.start();
  const port = Number(process.env.PORT ?? 2375);
  createServer((req, res) => {
    proxy.handle(req, res).catch((error: unknown) => {
      console.error(JSON.stringify({ level: 'error', message: 'docker-proxy request failed', url: req.url, err: (error as Error).message }));
      if (!res.headersSent) reply(res, 502, { message: (error as Error).message });
      else res.destroy();
    });
    // Loopback unless told otherwise: compose and the suites run it in a container with HOST=0.0.0.0.
  }).listen(port, process.env.HOST ?? '127.0.0.1', () =>
    console.log(JSON.stringify({ level: 'info', message: 'docker-proxy ready', port, stack: proxy.config.stackId, cores: proxy.cores, tmp: proxy.scratchUnavailable ? `tmpfs (counted as memory: ${proxy.scratchUnavailable})` : 'volume of the ephemeral storage size' })),
  );
  process.on('SIGTERM', () => process.exit(0));
}

if (process.argv[1]?.endsWith('docker-proxy.mjs') || process.argv[1]?.endsWith('docker-proxy.ts')) {
  main().catch((error: unknown) => {
    console.error(`docker-proxy: ${(error as Error).message}`);
    process.exit(1);
  });
}
