// The function containers as the local Lambda service knows them: by container id, through the
// Docker proxy (bridge/docker-proxy.ts), which shows it only the containers labelled as this
// stack's functions. A container polls the Runtime API from an address; this maps that address
// to its container, so that a timed-out invocation restarts exactly the container that held it,
// and a container that dies (crash, OOM, kill) fails its invocation at once.
import { request } from 'node:http';
import type { Logger } from 'pino';

export interface ContainerInfo {
  id: string;
  name: string;
  addresses: string[];
  /** The function it runs (its lambda-pipelines.function label). */
  fn: string | undefined;
}

export interface ContainerExit {
  id: string;
  exitCode: number;
  oomKilled: boolean;
}

/** A JSON request to the proxy; resolves with the status and the parsed body. */
function call(base: URL, method: string, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer from the Docker proxy`)));
    req.on('error', reject);
    req.end();
  });
}

export class Containers {
  private readonly byAddress = new Map<string, ContainerInfo>();
  private readonly byId = new Map<string, ContainerInfo>();
  private watching = false;
  private stream: { destroy(): void } | undefined;

  constructor(
    private readonly proxy: URL | undefined,
    private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return this.proxy !== undefined;
  }

  /** Reads the stack's containers again (after a new address polls, or a start). */
  async refresh(): Promise<void> {
    if (!this.proxy) return;
    const { status, body } = await call(this.proxy, 'GET', '/containers/json');
    if (status !== 200 || !Array.isArray(body)) throw new Error(`the Docker proxy answered ${status} to the container list`);
    this.byAddress.clear();
    for (const c of body as Array<{ Id: string; Names?: string[]; Labels?: Record<string, string>; NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> } }>) {
      const info: ContainerInfo = {
        id: c.Id,
        fn: c.Labels?.['lambda-pipelines.function'],
        name: (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''),
        addresses: Object.values(c.NetworkSettings?.Networks ?? {}).map((n) => n.IPAddress ?? '').filter(Boolean),
      };
      // Known ids keep their last addresses: a dead container is no longer listed, but its exit
      // must still find the invocation it held.
      this.byId.set(info.id, info);
      for (const address of info.addresses) this.byAddress.set(address, info);
    }
  }

  /** The container polling from `address`, looked up again once when unknown. */
  async byWorker(address: string): Promise<ContainerInfo | undefined> {
    if (!this.byAddress.has(address)) await this.refresh().catch((error: unknown) => this.logger.warn({ err: (error as Error).message }, 'could not list the function containers'));
    return this.byAddress.get(address);
  }

  addressesOf(id: string): string[] {
    return this.byId.get(id)?.addresses ?? [];
  }

  /** Restarts the container behind `address` (a timed-out sandbox is recycled, as on Lambda). */
  async restart(address: string): Promise<void> {
    const container = await this.byWorker(address);
    if (!this.proxy) return void this.logger.warn({ worker: address }, 'timed-out container not restarted: no Docker proxy configured (DOCKER_PROXY_URL)');
    if (!container) return void this.logger.warn({ worker: address }, 'timed-out container not found among the stack\'s containers; not restarted');
    const { status, body } = await call(this.proxy, 'POST', `/containers/${container.id}/restart?t=0`);
    if (status === 204) this.logger.info({ worker: address, container: container.name }, 'restarted timed-out container');
    else this.logger.error({ worker: address, container: container.name, status, body }, 'could not restart the timed-out container');
  }

  /** Restarts every container of a function (make dev: the new bundle is loaded at start). */
  async restartFunction(fn: string): Promise<number> {
    if (!this.proxy) throw new Error('no Docker proxy configured (DOCKER_PROXY_URL): the service cannot restart containers');
    await this.refresh();
    const mine = [...this.byId.values()].filter((c) => c.fn === fn && [...this.byAddress.values()].includes(c));
    await Promise.all(
      mine.map(async (c) => {
        const { status, body } = await call(this.proxy!, 'POST', `/containers/${c.id}/restart?t=0`);
        if (status !== 204) throw new Error(`restarting ${c.name} failed: ${status} ${JSON.stringify(body)}`);
      }),
    );
    return mine.length;
  }

  /** Calls `onExit` for every stack container that dies, until `stop()`; reconnects on error. */
  watch(onExit: (exit: ContainerExit) => void): void {
    if (!this.proxy || this.watching) return;
    this.watching = true;
    const oomKilled = new Set<string>();
    const connect = () => {
      if (!this.watching) return;
      const req = request(new URL('/events', this.proxy), { method: 'GET' }, (res) => {
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let newline: number;
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            if (!line) continue;
            try {
              const event = JSON.parse(line) as { status?: string; Action?: string; id?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
              const action = event.Action ?? event.status;
              const id = event.Actor?.ID ?? event.id ?? '';
              // Docker reports an OOM kill as an `oom` event just before the container's `die`.
              if (action === 'oom') oomKilled.add(id);
              if (action === 'die') {
                onExit({ id, exitCode: Number(event.Actor?.Attributes?.exitCode ?? -1), oomKilled: oomKilled.delete(id) });
              }
              if (action === 'start') void this.refresh().catch(() => undefined);
            } catch {
              // a partial or foreign line: ignore
            }
          }
        });
        res.on('end', () => setTimeout(connect, 1_000));
        res.on('error', () => setTimeout(connect, 1_000));
      });
      req.on('error', (error) => {
        this.logger.warn({ err: error.message }, 'Docker events unavailable; retrying');
        setTimeout(connect, 2_000);
      });
      req.end();
      this.stream = req;
    };
    connect();
  }

  stop(): void {
    this.watching = false;
    this.stream?.destroy();
  }
}
