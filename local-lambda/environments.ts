// The execution environments of the functions: containers of each function's image, made for the
// service by the Docker proxy (docker-proxy.ts, container-spec.ts) from the function's definition
// in the template. The service keeps each function's environments up: one that exits (a crash, an
// OOM kill, `docker kill`) is replaced, as Lambda starts a new sandbox for the next event; one that
// timed out is removed and replaced; at start the leftovers of an earlier run are removed, at
// shutdown every environment is.
import { request } from 'node:http';
import type { Logger } from 'pino';
import type { EnvironmentRequest } from './container-spec';

export interface EnvironmentInfo {
  id: string;
  name: string;
  /** The container's address on the function network: how its Runtime API calls are known. */
  address: string;
  function: string;
  startedAt: number;
}

export interface EnvironmentExit {
  id: string;
  exitCode: number;
  oomKilled: boolean;
}

/** A JSON request to the proxy; resolves with the status and the parsed body. */
function call(base: URL, method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(new URL(path, base), { method, timeout: timeoutMs, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer from the Docker proxy within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** The service's side of the Docker proxy. */
export class DockerProxyClient {
  private stream: { destroy(): void } | undefined;
  private watching = false;

  constructor(
    private readonly base: URL,
    private readonly logger: Logger,
  ) {}

  async list(): Promise<Array<{ Id: string; Names?: string[]; Labels?: Record<string, string>; State?: string; Address?: string }>> {
    const { status, body } = await call(this.base, 'GET', '/containers/json');
    if (status !== 200 || !Array.isArray(body)) throw new Error(`the Docker proxy answered ${status} to the container list: ${JSON.stringify(body)}`);
    return body;
  }

  async create(environment: EnvironmentRequest): Promise<{ id: string; name: string; address: string }> {
    const { status, body } = await call(this.base, 'POST', '/environments', environment);
    if (status !== 201) throw new Error(`the Docker proxy could not start an environment of ${environment.function} (${status}): ${body?.message ?? JSON.stringify(body)}`);
    return body;
  }

  async remove(id: string): Promise<void> {
    const { status, body } = await call(this.base, 'DELETE', `/containers/${id}`);
    if (status !== 204 && status !== 404) throw new Error(`the Docker proxy could not remove ${id.slice(0, 12)} (${status}): ${body?.message ?? JSON.stringify(body)}`);
  }

  /** Calls `onExit` for every stack container that dies, until `stop()`; reconnects on error. */
  watch(onExit: (exit: EnvironmentExit) => void): void {
    if (this.watching) return;
    this.watching = true;
    const oomKilled = new Set<string>();
    const connect = () => {
      if (!this.watching) return;
      const req = request(new URL('/events', this.base), { method: 'GET' }, (res) => {
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
              if (action === 'die') onExit({ id, exitCode: Number(event.Actor?.Attributes?.exitCode ?? -1), oomKilled: oomKilled.delete(id) });
            } catch {
              // a partial or foreign line: ignore
            }
          }
        });
        res.on('end', () => setTimeout(connect, 1_000));
        res.on('error', () => setTimeout(connect, 1_000));
      });
      req.on('error', (error) => {
        if (this.watching) this.logger.warn({ err: error.message }, 'Docker events unavailable; retrying');
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

export interface PoolOptions {
  /** The function's name, and the container settings Lambda gives it. */
  function: string;
  environment: () => EnvironmentRequest;
  /** How many environments to keep (capped by the function's reserved concurrency). */
  size: number;
  client: DockerProxyClient;
  logger: Logger;
  /** An environment that exits within this long of its start counts as a crash: its replacement waits. */
  crashWindowMs?: number;
  now?: () => number;
}

/** The environments of one function, kept at their number. */
export class EnvironmentPool {
  readonly environments = new Map<string, EnvironmentInfo>();
  private size: number;
  private starting = 0;
  private crashes = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;

  constructor(private readonly options: PoolOptions) {
    this.size = options.size;
  }

  get name(): string {
    return this.options.function;
  }

  get wanted(): number {
    return this.size;
  }

  /** Why the last start failed, until one succeeds. */
  get startError(): string | undefined {
    return this.lastError;
  }

  byAddress(address: string): EnvironmentInfo | undefined {
    return [...this.environments.values()].find((e) => e.address === address);
  }

  /** Starts environments until there are `size`; resolves when they were asked for. */
  async fill(): Promise<void> {
    const missing = this.size - this.environments.size - this.starting;
    await Promise.all(Array.from({ length: Math.max(0, missing) }, () => this.startOne()));
  }

  async resize(size: number): Promise<void> {
    this.size = size;
    const extra = [...this.environments.values()].slice(size);
    await Promise.all(extra.map((e) => this.remove(e.id)));
    await this.fill();
  }

  /** An environment exited: forget it, start another (later, when it keeps crashing). */
  exited(exit: EnvironmentExit): boolean {
    const env = this.environments.get(exit.id);
    if (!env) return false;
    this.environments.delete(exit.id);
    const { crashWindowMs = 10_000, now = Date.now } = this.options;
    this.crashes = now() - env.startedAt < crashWindowMs ? this.crashes + 1 : 0;
    void this.options.client.remove(exit.id).catch(() => undefined);
    if (!this.stopped) {
      // 0, 1, 2, 4 ... 30 s: a function that cannot start does not spin the machine.
      const delay = this.crashes <= 1 ? 0 : Math.min(30_000, 1_000 * 2 ** (this.crashes - 2));
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.fill(), delay);
    }
    return true;
  }

  /** Removes one environment (a timed-out sandbox) and starts a fresh one in its place. */
  async replace(id: string): Promise<void> {
    this.environments.delete(id);
    await this.options.client.remove(id).catch((error: unknown) => this.options.logger.warn({ function: this.name, err: (error as Error).message }, 'could not remove an environment'));
    if (!this.stopped) await this.fill();
  }

  /** Every environment replaced (make dev: the new bundle is loaded at start). */
  async replaceAll(): Promise<number> {
    const old = [...this.environments.keys()];
    await Promise.all(old.map((id) => this.remove(id)));
    await this.fill();
    return old.length;
  }

  async removeAll(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all([...this.environments.keys()].map((id) => this.remove(id)));
  }

  private async remove(id: string): Promise<void> {
    this.environments.delete(id);
    await this.options.client.remove(id).catch((error: unknown) => this.options.logger.warn({ function: this.name, err: (error as Error).message }, 'could not remove an environment'));
  }

  private async startOne(): Promise<void> {
    this.starting++;
    try {
      const started = await this.options.client.create(this.options.environment());
      this.lastError = undefined;
      if (this.stopped) return void (await this.options.client.remove(started.id).catch(() => undefined));
      this.environments.set(started.id, { ...started, function: this.name, startedAt: (this.options.now ?? Date.now)() });
    } catch (error) {
      this.lastError = (error as Error).message;
      this.options.logger.error({ function: this.name, err: this.lastError }, 'could not start an environment; trying again in 5 s');
      clearTimeout(this.timer);
      if (!this.stopped) this.timer = setTimeout(() => void this.fill(), 5_000);
    } finally {
      this.starting--;
    }
  }
}
