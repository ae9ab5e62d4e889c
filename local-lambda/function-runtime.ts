// The heart of the local Lambda service, one per function: invocations wait in a FIFO queue until
// a container asks for work (`/next`), then run under the function's deadline until the container
// posts a response or an error. Concurrency = the number of containers polling. Pure: no HTTP.
import { randomUUID } from 'node:crypto';

export interface InvocationRequest {
  payload: Buffer;
  /** Lambda-Runtime-Trace-Id, Client-Context... passed through to the container as headers. */
  headers?: Record<string, string>;
  /** The request id, when the caller already named it (a Function URL event carries it). */
  requestId?: string;
}

export interface Invocation {
  requestId: string;
  payload: Buffer;
  deadlineMs: number;
  functionArn: string;
  traceId: string;
  headers: Record<string, string>;
}

export interface FunctionError {
  errorType: string;
  errorMessage: string;
  stackTrace?: string[];
}

export type InvocationResult =
  | { ok: true; payload: Buffer; durationMs: number; requestId: string }
  | { ok: false; error: FunctionError; kind: 'Unhandled' | 'TimedOut' | 'InitError' | 'ExitError'; durationMs: number; requestId: string };

interface Pending {
  request: InvocationRequest;
  requestId: string;
  enqueuedAt: number;
  resolve: (result: InvocationResult) => void;
}

interface Running extends Pending {
  startedAt: number;
  timer: NodeJS.Timeout;
  /** Identifies the container that took it (its remote address), to restart it on timeout. */
  worker: string;
}

export interface Poller {
  /** The container's remote address. */
  worker: string;
  /** Hands the invocation to the waiting `/next`; false when the container went away meanwhile. */
  deliver: (invocation: Invocation) => boolean;
}

export interface FunctionRuntimeOptions {
  name: string;
  arn: string;
  timeoutSeconds: number;
  /** Reserved concurrency: 0 throttles every invocation; unset: no limit of its own. */
  reservedConcurrency?: number;
  now?: () => number;
  /** Called when an invocation timed out: Lambda recycles the sandbox, we restart the container. */
  onTimeout?: (worker: string, requestId: string) => void;
}

export class FunctionRuntime {
  private readonly queue: Pending[] = [];
  private readonly pollers: Poller[] = [];
  private readonly running = new Map<string, Running>();
  private lastInitError: FunctionError | undefined;
  /** While held (make dev reloading the code), nothing is handed out; invocations wait in the queue. */
  private held = false;
  private readonly now: () => number;
  private reserved: number | undefined;

  constructor(private readonly options: FunctionRuntimeOptions) {
    this.now = options.now ?? Date.now;
    this.reserved = options.reservedConcurrency;
  }

  /** Reserved concurrency now (PutFunctionConcurrency changes it); undefined: none. */
  get reservedConcurrency(): number | undefined {
    return this.reserved;
  }

  set reservedConcurrency(value: number | undefined) {
    this.reserved = value;
  }

  /** Reserved concurrency 0: Lambda throttles every invocation of the function. */
  get throttled(): boolean {
    return this.reserved === 0;
  }

  get name(): string {
    return this.options.name;
  }

  /** Containers waiting for work right now. */
  get idleWorkers(): number {
    return this.pollers.length;
  }

  get inFlight(): number {
    return this.running.size;
  }

  get queued(): number {
    return this.queue.length;
  }

  /**
   * Whether an event source may receive work now: a container is idle that no queued invocation
   * waits for. Asked before each receive, so that what is received runs at once instead of waiting
   * in the service while its visibility timeout runs out. Not a reservation: the sources of one
   * function (its SQS mappings, its Event-invocation queue) long-poll side by side, and when two
   * receive at the same moment one batch waits one invocation long, well inside its visibility
   * timeout (direct invocations do the same). An exclusive claim held across a long poll let an
   * empty Event-invocation queue keep the only container from the SQS mapping for the whole
   * poll: with one container, every other upload waited about one second.
   */
  canTakeWork(): boolean {
    return !this.throttled && this.pollers.length > this.queue.length;
  }

  /**
   * The container behind `worker` exited (crash, OOM, kill): its invocation fails at once, as
   * Lambda reports a runtime that exited, instead of at its deadline.
   */
  workerExited(worker: string, error: FunctionError): number {
    let failed = 0;
    for (const [requestId, run] of [...this.running]) {
      if (run.worker !== worker) continue;
      this.finish(requestId);
      run.resolve({ ok: false, kind: 'ExitError', error: { ...error, errorMessage: `RequestId: ${requestId} Error: ${error.errorMessage}` }, durationMs: this.now() - run.startedAt, requestId });
      failed++;
    }
    return failed;
  }

  /** Queues an invocation; resolves when a container finished it (or it failed or timed out). */
  invoke(request: InvocationRequest): Promise<InvocationResult> {
    return new Promise((resolve) => {
      this.queue.push({ request, requestId: request.requestId ?? randomUUID(), enqueuedAt: this.now(), resolve });
      this.dispatch();
    });
  }

  /** A container's `/next`: it gets the oldest queued invocation now or when one arrives. */
  addPoller(poller: Poller): () => void {
    this.lastInitError = undefined;
    this.pollers.push(poller);
    this.dispatch();
    return () => {
      const i = this.pollers.indexOf(poller);
      if (i >= 0) this.pollers.splice(i, 1);
    };
  }

  complete(requestId: string, payload: Buffer): boolean {
    const run = this.finish(requestId);
    if (!run) return false;
    run.resolve({ ok: true, payload, durationMs: this.now() - run.startedAt, requestId });
    return true;
  }

  fail(requestId: string, error: FunctionError): boolean {
    const run = this.finish(requestId);
    if (!run) return false;
    run.resolve({ ok: false, error, kind: 'Unhandled', durationMs: this.now() - run.startedAt, requestId });
    return true;
  }

  /**
   * A container could not initialise (bad config, import error). Like Lambda, the invocation that
   * was waiting for a sandbox fails with the init error; the container restarts and tries again.
   */
  initError(error: FunctionError): void {
    this.lastInitError = error;
    const waiting = this.queue.shift();
    waiting?.resolve({ ok: false, error, kind: 'InitError', durationMs: 0, requestId: waiting.requestId });
  }

  get initFailure(): FunctionError | undefined {
    return this.lastInitError;
  }

  /** Stops handing out work; resolves when the invocations in flight are done (or the grace ends). */
  async drain(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.running.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  private finish(requestId: string): Running | undefined {
    const run = this.running.get(requestId);
    if (!run) return undefined;
    clearTimeout(run.timer);
    this.running.delete(requestId);
    return run;
  }

  /** Stops handing out work until `release()`; resolves once no invocation runs (or `graceMs` passed). */
  async hold(graceMs: number): Promise<void> {
    this.held = true;
    await this.drain(graceMs);
  }

  release(): void {
    this.held = false;
    this.dispatch();
  }

  private dispatch(): void {
    while (!this.held && this.queue.length > 0 && this.pollers.length > 0) {
      const poller = this.pollers.shift()!;
      const pending = this.queue[0]!;
      const startedAt = this.now();
      const timeoutMs = this.options.timeoutSeconds * 1000;
      const invocation: Invocation = {
        requestId: pending.requestId,
        payload: pending.request.payload,
        deadlineMs: startedAt + timeoutMs,
        functionArn: this.options.arn,
        traceId: `Root=1-${Math.floor(startedAt / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)};Sampled=0`,
        headers: pending.request.headers ?? {},
      };
      if (!poller.deliver(invocation)) continue; // that container is gone: try the next poller
      this.queue.shift();
      const timer = setTimeout(() => this.timeOut(pending.requestId), timeoutMs);
      this.running.set(pending.requestId, { ...pending, startedAt, timer, worker: poller.worker });
    }
  }

  private timeOut(requestId: string): void {
    const run = this.finish(requestId);
    if (!run) return;
    const seconds = this.options.timeoutSeconds.toFixed(2);
    run.resolve({
      ok: false,
      kind: 'TimedOut',
      error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${seconds} seconds` },
      durationMs: this.now() - run.startedAt,
      requestId,
    });
    this.options.onTimeout?.(run.worker, requestId);
  }
}
