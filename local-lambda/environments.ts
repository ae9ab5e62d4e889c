// The execution environments of the functions, as the service gets them: containers of each
// function's image, made by the Docker proxy (docker-proxy.ts) from the function's definition in
// the template, started on demand by each function's runtime (function-runtime.ts) through a
// launcher. The account's concurrency bounds how many environments the machine holds: at the
// bound, an idle environment of another function makes room (AWS reclaims idle ones as it needs).
// Every environment's output is followed into the function's log, with Lambda's own lines.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Logger } from 'pino';
import type { EnvironmentRequest } from './container-spec';
import type { EnvironmentLauncher, LaunchedEnvironment } from './function-runtime';

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

/**
 * Splits Docker's multiplexed log stream (8-byte frame headers: stream, 0, 0, 0, length) into
 * lines; a line cut across frames is joined. Pure over its input: push chunks, get lines.
 */
export class LogDemuxer {
  private pending = Buffer.alloc(0);
  private readonly partial: Record<number, string> = { 1: '', 2: '' };

  constructor(private readonly onLine: (line: string, stream: 'stdout' | 'stderr') => void) {}

  push(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) return;
      const kind = this.pending[0] === 2 ? 2 : 1;
      const text = this.partial[kind] + this.pending.subarray(8, 8 + size).toString('utf8');
      this.pending = this.pending.subarray(8 + size);
      const lines = text.split('\n');
      this.partial[kind] = lines.pop()!;
      for (const line of lines) this.onLine(line.replace(/\r$/, ''), kind === 2 ? 'stderr' : 'stdout');
    }
  }

  /** The stream ended: what is left of a line is a line. */
  end(): void {
    for (const kind of [1, 2] as const) {
      if (this.partial[kind]) this.onLine(this.partial[kind]!, kind === 2 ? 'stderr' : 'stdout');
      this.partial[kind] = '';
    }
  }
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

  async health(): Promise<{ cores: number; tmp: { kind: 'volume' | 'tmpfs'; why?: string } }> {
    const { status, body } = await call(this.base, 'GET', '/health', undefined, 10_000);
    if (status !== 200) throw new Error(`the Docker proxy answered ${status} to /health`);
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

  /** The environment's init is over: its CPU goes down to the function's share. */
  async invokePhase(id: string): Promise<void> {
    const { status, body } = await call(this.base, 'POST', `/containers/${id}/invoke-phase`);
    if (status !== 204) throw new Error(`the Docker proxy could not set the CPU of ${id.slice(0, 12)} (${status}): ${body?.message ?? JSON.stringify(body)}`);
  }

  /** The environment's peak memory in MB. */
  async maxMemoryMb(id: string): Promise<number | undefined> {
    const { status, body } = await call(this.base, 'GET', `/containers/${id}/stats`, undefined, 10_000);
    return status === 200 && typeof body?.maxMemoryBytes === 'number' && body.maxMemoryBytes > 0 ? body.maxMemoryBytes / 1024 / 1024 : undefined;
  }

  /** Follows an environment's output, a line at a time, until it ends. */
  follow(id: string, onLine: (line: string, stream: 'stdout' | 'stderr') => void): void {
    const demuxer = new LogDemuxer(onLine);
    const req = request(new URL(`/containers/${id}/logs`, this.base), { method: 'GET' }, (res) => {
      if (res.statusCode !== 200) return void res.resume();
      res.on('data', (chunk: Buffer) => demuxer.push(chunk));
      res.on('end', () => demuxer.end());
      res.on('error', () => demuxer.end());
    });
    req.on('error', (error) => this.logger.warn({ environment: id.slice(0, 12), err: error.message }, "could not follow an environment's output"));
    req.end();
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

/** A log stream name as Lambda makes one per environment: `2026/11/28/[$LATEST]<32 hex>`. */
export const logStreamName = (now = new Date()): string => `${now.toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${randomBytes(16).toString('hex')}`;

/**
 * How many environments the machine holds at once, across functions: the account's concurrency.
 * At the bound, a new environment waits until `evictIdle` made room (an idle environment of any
 * function removed) or one goes.
 */
export class EnvironmentBudget {
  private readonly live = new Set<string>();
  private reserved = 0;

  constructor(
    readonly limit: number,
    private readonly evictIdle: () => boolean,
  ) {}

  get size(): number {
    return this.live.size + this.reserved;
  }

  /** Room for one more, taken (waits while every environment is busy). */
  async take(): Promise<void> {
    while (this.size >= this.limit && !this.evictIdle()) await new Promise((resolve) => setTimeout(resolve, 50));
    this.reserved++;
  }

  /** The room taken became environment `id` (or, without one, was not used). */
  settle(id: string | undefined): void {
    this.reserved--;
    if (id) this.live.add(id);
  }

  gone(id: string): void {
    this.live.delete(id);
  }
}

export interface LauncherOptions {
  proxy: DockerProxyClient;
  budget: EnvironmentBudget;
  /** The request for one environment, with the log stream it gets. */
  environment: (logStream: string) => EnvironmentRequest;
  /** Where the environment's output goes (its function's log). */
  output: (line: string, logStream: string) => void;
  logger: Logger;
}

/** Starts and removes one function's environments through the Docker proxy. */
export class ProxyLauncher implements EnvironmentLauncher {
  constructor(private readonly options: LauncherOptions) {}

  async launch(): Promise<LaunchedEnvironment> {
    const { proxy, budget, environment, output } = this.options;
    await budget.take();
    const logStream = logStreamName();
    let id: string | undefined;
    try {
      const started = await proxy.create(environment(logStream));
      id = started.id;
      proxy.follow(started.id, (line) => output(line, logStream));
      return { id: started.id, address: started.address, logStream };
    } finally {
      budget.settle(id);
    }
  }

  remove(id: string, reason: string): void {
    const { proxy, budget, logger } = this.options;
    void proxy
      .remove(id)
      .catch((error: unknown) => logger.warn({ environment: id.slice(0, 12), reason, err: (error as Error).message }, 'could not remove an environment'))
      .finally(() => budget.gone(id));
  }

  initDone(id: string): void {
    void this.options.proxy.invokePhase(id).catch((error: unknown) => this.options.logger.warn({ environment: id.slice(0, 12), err: (error as Error).message }, "could not lower an environment's CPU after its init"));
  }

  maxMemoryMb(id: string): Promise<number | undefined> {
    return this.options.proxy.maxMemoryMb(id).catch(() => undefined);
  }
}
