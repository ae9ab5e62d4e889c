// One function as Lambda runs it: its invocations and its execution environments. An invocation
// first needs room in the function's concurrency (its reservation, or the account's unreserved
// pool): without it, it is throttled at once. With it, it goes to an idle environment, or one is
// started for it (a cold start) when none is idle or coming; an environment idle for longer than
// the idle time is removed. An environment's init has 10 s; past that, as on Lambda, the init is
// retried inside the first invocation, under the function's timeout ("suppressed init"). A timeout
// removes the environment; one that exits fails what it ran. Each environment is known by its
// address: only it may take or answer its invocations. Lambda's own log lines (START, END,
// REPORT, INIT_REPORT) are written here. No HTTP, no Docker: the launcher starts and removes
// environments, the Runtime API (runtime-api.ts) calls next/respond/fail/initError.
import { randomUUID } from 'node:crypto';
import type { FunctionConcurrency, ThrottleReason } from './concurrency';
import { billedDurationMs, endLine, initReportLine, reportLine, startLine } from './function-log';

export interface InvocationRequest {
  payload: Buffer;
  /** Lambda-Runtime-Trace-Id, Client-Context... passed through to the environment as headers. */
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

export type FailureKind = 'Unhandled' | 'TimedOut' | 'InitError' | 'ExitError' | 'Throttled';

export type InvocationResult =
  | { ok: true; payload: Buffer; durationMs: number; requestId: string; initDurationMs?: number }
  | { ok: false; error: FunctionError; kind: FailureKind; durationMs: number; requestId: string; throttleReason?: ThrottleReason; initDurationMs?: number };

/** A waiting `/next` of an environment. */
export interface Poller {
  /** Hands the invocation to the waiting `/next`; false when the connection went away meanwhile. */
  deliver: (invocation: Invocation) => boolean;
}

export interface LaunchedEnvironment {
  /** The container's id. */
  id: string;
  /** Its address: its Runtime API calls come from here, and from nowhere else. */
  address: string;
  /** Its log stream, named as Lambda names one: `2026/11/28/[$LATEST]<32 hex>`. */
  logStream: string;
}

export interface EnvironmentLauncher {
  /** Starts an environment of the function; resolves once its container runs. */
  launch(): Promise<LaunchedEnvironment>;
  /** Removes an environment (idle past its time, timed out, failed, retired). */
  remove(id: string, reason: string): void;
  /** Its init is over: from now on it gets the function's share of CPU. */
  initDone?(id: string): void;
  /** The environment's peak memory so far in MB (REPORT's Max Memory Used). */
  maxMemoryMb?(id: string): Promise<number | undefined>;
}

export interface RuntimeEvents {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** What Lambda reports of an invocation an environment ran. */
export interface InvocationRecord {
  requestId: string;
  durationMs: number;
  /** Rounded up to the millisecond, INIT included (billed since August 2025). */
  billedDurationMs: number;
  initDurationMs?: number;
  memoryMb: number;
  /** An error or a timeout (AWS/Lambda Errors). */
  failed: boolean;
}

export interface FunctionRuntimeOptions {
  name: string;
  arn: string;
  timeoutSeconds: number;
  memoryMb: number;
  concurrency: FunctionConcurrency;
  launcher: EnvironmentLauncher;
  /** Lambda's log lines of the function, with the log stream of the environment they concern. */
  log?: (line: string, logStream: string | undefined) => void;
  /** The service's own log (environments started and removed, init failures). */
  events?: RuntimeEvents;
  /** Each invocation an environment ran, as its REPORT line tells it (metrics, usage). */
  onInvocation?: (record: InvocationRecord) => void;
  /** Lambda gives an on-demand init 10 s. */
  initTimeoutMs?: number;
  /** An environment idle this long is removed (AWS keeps them minutes, unpredictably). */
  idleTimeoutMs: number;
  now?: () => number;
}

type Phase = 'launching' | 'initialising' | 'idle' | 'busy' | 'gone';

interface Pending {
  request: InvocationRequest;
  requestId: string;
  release: () => void;
  resolve: (result: InvocationResult) => void;
  /** Suppressed init: the environment whose init runs inside this invocation, since `boundAt`. */
  env?: Environment;
  boundAt?: number;
  deadlineTimer?: NodeJS.Timeout;
  /** No environment took it in time (QUEUE_MARGIN_MS past the init limit and the timeout): it fails. */
  waitTimer?: NodeJS.Timeout;
}

/** Time for an environment's container to start, beyond Lambda's own init limit and timeout. */
const QUEUE_MARGIN_MS = 10_000;

interface Running {
  pending: Pending;
  startedAt: number;
  deadlineMs: number;
  initDurationMs?: number;
  timer: NodeJS.Timeout;
}

interface Environment {
  seq: number;
  id?: string;
  address?: string;
  logStream?: string;
  phase: Phase;
  initStartedAt?: number;
  /** A normal init's duration, reported (and billed) with the environment's first invocation. */
  initDurationMs?: number;
  initReported: boolean;
  initFailed: boolean;
  /** Suppressed init: the invocation this environment runs first. */
  bound?: Pending;
  poller?: Poller;
  running?: Running;
  /** The request ids it answered lately: a second answer is a state error, not an unknown id. */
  answered: string[];
  retired: boolean;
  timer?: NodeJS.Timeout;
  idleSince: number;
}

/** How the Runtime API's answer to a `/response` or `/error` goes, after the RIE. */
export type AnswerOutcome = 'accepted' | 'unknown-environment' | 'invalid-request-id' | 'invalid-state';

const once = (fn: () => void) => {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
};

export class FunctionRuntime {
  private readonly queue: Pending[] = [];
  private readonly environments = new Set<Environment>();
  private readonly addressWaiters = new Map<string, Array<(known: boolean) => void>>();
  private readonly now: () => number;
  private seq = 0;
  private launchFailures = 0;
  private launchRetry: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastInitError: FunctionError | undefined;
  private lastStartError: string | undefined;
  /** Environments started since the service started: every one a cold start. */
  coldStarts = 0;

  constructor(private readonly options: FunctionRuntimeOptions) {
    this.now = options.now ?? Date.now;
  }

  get name(): string {
    return this.options.name;
  }

  get reservedConcurrency(): number | undefined {
    return this.options.concurrency.reservedConcurrency;
  }

  /** PutFunctionConcurrency: throws a ConcurrencyError as AWS refuses; idle environments beyond it go. */
  setReservedConcurrency(reserved: number | undefined): void {
    this.options.concurrency.setReserved(reserved);
    if (reserved === undefined) return;
    const idle = [...this.environments].filter((e) => e.phase === 'idle').sort((a, b) => a.idleSince - b.idleSince);
    let extra = this.liveEnvironments() - reserved;
    for (const env of idle) if (extra-- > 0) this.removeEnvironment(env, 'reserved concurrency lowered');
  }

  /**
   * UpdateFunctionConfiguration: new memory or timeout for what comes next; every environment is
   * replaced (what runs finishes as it started), as Lambda does on a configuration change.
   */
  reconfigure(changes: { memoryMb?: number; timeoutSeconds?: number }): void {
    if (changes.memoryMb !== undefined) this.options.memoryMb = changes.memoryMb;
    if (changes.timeoutSeconds !== undefined) this.options.timeoutSeconds = changes.timeoutSeconds;
    this.retireAll();
  }

  /** Reserved concurrency 0: every invocation is throttled. */
  get throttledForGood(): boolean {
    return this.options.concurrency.reservedConcurrency === 0;
  }

  /** Whether one more invocation would be admitted now (event sources ask before they receive). */
  hasFreeConcurrency(): boolean {
    return this.options.concurrency.hasRoom;
  }

  get throttles(): number {
    return this.options.concurrency.throttles;
  }

  /** Invocations admitted and waiting for an environment. */
  get queued(): number {
    return this.queue.length;
  }

  get initFailure(): FunctionError | undefined {
    return this.lastInitError;
  }

  get startError(): string | undefined {
    return this.lastStartError;
  }

  /** The environments now, by phase. */
  environmentCounts(): { starting: number; idle: number; busy: number } {
    const counts = { starting: 0, idle: 0, busy: 0 };
    for (const e of this.environments) {
      if (e.phase === 'launching' || e.phase === 'initialising') counts.starting++;
      else if (e.phase === 'idle') counts.idle++;
      else if (e.phase === 'busy') counts.busy++;
    }
    return counts;
  }

  /** Ids of the environments whose containers run now. */
  environmentIds(): string[] {
    return [...this.environments].flatMap((e) => (e.id ? [e.id] : []));
  }

  /**
   * Takes room for one invocation now, before its payload is read (then `invoke(.., { admitted })`
   * uses it), or says why there is none (a throttle, counted). `release` is safe to call twice.
   */
  admit(): { ok: true; release: () => void } | { ok: false; reason: ThrottleReason } {
    const admission = this.options.concurrency.acquire();
    if (!admission.ok) return admission;
    return { ok: true, release: once(() => this.options.concurrency.release()) };
  }

  /**
   * Runs an invocation: throttled at once without room in the function's concurrency, unless
   * `waitForRoomMs` lets it wait in line for room that long (an event source's batch); otherwise
   * resolves when it ended.
   */
  async invoke(request: InvocationRequest, options: { waitForRoomMs?: number; admitted?: () => void } = {}): Promise<InvocationResult> {
    const requestId = request.requestId ?? randomUUID();
    const admission = options.admitted ? ({ ok: true } as const) : this.options.concurrency.acquire();
    if (!admission.ok) {
      const throttled: InvocationResult = { ok: false, kind: 'Throttled', throttleReason: admission.reason, error: { errorType: 'TooManyRequestsException', errorMessage: 'Rate Exceeded.' }, durationMs: 0, requestId };
      if (!options.waitForRoomMs || options.waitForRoomMs <= 0 || this.stopped) return throttled;
      const wait = this.options.concurrency.waitForRoom();
      const timer = setTimeout(wait.cancel, options.waitForRoomMs);
      const granted = await wait.granted;
      clearTimeout(timer);
      if (!granted) return throttled;
    }
    const release = options.admitted ?? once(() => this.options.concurrency.release());
    if (this.stopped) {
      release();
      return this.stoppedResult(requestId);
    }
    return new Promise((resolve) => {
      const pending: Pending = { request, requestId, resolve, release };
      // Bounded wait: an invocation whose environment never comes (Docker stuck, a burst of starts)
      // ends as a timeout, as on Lambda, instead of holding its caller and payload for ever.
      const waitMs = (this.options.initTimeoutMs ?? 10_000) + this.options.timeoutSeconds * 1000 + QUEUE_MARGIN_MS;
      pending.waitTimer = setTimeout(() => this.waitedTooLong(pending, waitMs), waitMs);
      pending.waitTimer.unref();
      this.queue.push(pending);
      this.dispatch();
      this.scale();
    });
  }

  /**
   * An environment started by someone else (a tool running an image by hand against this Runtime
   * API): it is known from now on, initialising, as if launched for the function.
   */
  adopt(environment: LaunchedEnvironment): void {
    const env: Environment = { seq: ++this.seq, ...environment, phase: 'initialising', initStartedAt: this.now(), initReported: false, initFailed: false, answered: [], retired: false, idleSince: this.now() };
    this.environments.add(env);
  }

  /** Resolves true once an environment with this address is known (it may call before its launch returned). */
  whenKnown(address: string, timeoutMs: number): Promise<boolean> {
    if (this.byAddress(address)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiters = this.addressWaiters.get(address) ?? [];
      const timer = setTimeout(() => {
        const list = this.addressWaiters.get(address) ?? [];
        list.splice(list.indexOf(done), 1);
        resolve(false);
      }, timeoutMs);
      const done = (known: boolean) => {
        clearTimeout(timer);
        resolve(known);
      };
      waiters.push(done);
      this.addressWaiters.set(address, waiters);
    });
  }

  isEnvironment(address: string): boolean {
    return this.byAddress(address) !== undefined;
  }

  /**
   * An environment's `/next`: it ends the init (the first time) or the previous invocation (its
   * concurrency is free again); the environment then takes waiting work or stays idle. Returns a
   * function to call when the `/next` connection closes; undefined for an unknown address.
   */
  next(address: string, poller: Poller): (() => void) | undefined {
    const env = this.byAddress(address);
    if (!env) return undefined;
    if (env.running) {
      // Asked again while holding an invocation: the RIE hands the same one again.
      poller.deliver(this.invocationOf(env.running));
      return () => undefined;
    }
    if (env.phase === 'initialising') {
      clearTimeout(env.timer);
      if (!env.bound) env.initDurationMs = this.now() - env.initStartedAt!;
      this.options.launcher.initDone?.(env.id!);
    }
    if (env.retired) {
      this.removeEnvironment(env, 'replaced by a new one (make dev reload)');
      return () => undefined;
    }
    env.phase = 'idle';
    env.poller = poller;
    env.idleSince = this.now();
    this.dispatch();
    if (env.phase === 'idle') this.armIdleTimer(env);
    return () => {
      if (env.poller === poller) env.poller = undefined;
    };
  }

  /** `/invocation/{id}/response`. */
  respond(address: string, requestId: string, payload: Buffer): AnswerOutcome {
    return this.answer(address, requestId, { ok: true, payload });
  }

  /** `/invocation/{id}/error`: the handler failed (Unhandled). */
  fail(address: string, requestId: string, error: FunctionError): AnswerOutcome {
    return this.answer(address, requestId, { ok: false, kind: 'Unhandled', error });
  }

  private answer(address: string, requestId: string, outcome: { ok: true; payload: Buffer } | { ok: false; kind: 'Unhandled'; error: FunctionError }): AnswerOutcome {
    const check = this.answerCheck(address, requestId);
    if (check !== 'accepted') return check;
    const env = this.byAddress(address)!;
    const run = this.finishRunning(env);
    this.report(env, run);
    run.pending.resolve({ ...outcome, durationMs: this.now() - run.startedAt, requestId, ...(run.initDurationMs !== undefined && { initDurationMs: run.initDurationMs }) });
    return 'accepted';
  }

  /** `/init/error`: the handler could not load. The invocation waiting for this environment fails with it. */
  initError(address: string, error: FunctionError): boolean {
    const env = this.byAddress(address);
    if (!env || env.phase !== 'initialising') return false;
    env.initFailed = true;
    this.lastInitError = error;
    clearTimeout(env.timer);
    this.log(initReportLine({ durationMs: this.now() - env.initStartedAt!, phase: env.bound ? 'invoke' : 'init', status: 'error', errorType: error.errorType }), env);
    this.options.events?.warn({ function: this.name, environment: env.id?.slice(0, 12), ...error }, 'function init failed');
    const victim = env.bound ?? this.queue.find((p) => !p.env);
    if (victim) this.failPending(victim, 'InitError', error, env.initStartedAt);
    this.removeEnvironment(env, 'init failed');
    this.scale();
    return true;
  }

  /** An environment's container exited (a crash, an OOM kill, `docker kill`). */
  exited(id: string, error: FunctionError): boolean {
    const env = [...this.environments].find((e) => e.id === id);
    if (!env) return false;
    if (env.running) {
      const run = this.finishRunning(env);
      this.report(env, run, { kind: 'error', errorType: error.errorType });
      run.pending.resolve({ ok: false, kind: 'ExitError', error: { ...error, errorMessage: `RequestId: ${run.pending.requestId} Error: ${error.errorMessage}` }, durationMs: this.now() - run.startedAt, requestId: run.pending.requestId });
    } else if ((env.phase === 'initialising' || env.phase === 'launching') && !env.initFailed) {
      this.log(initReportLine({ durationMs: this.now() - (env.initStartedAt ?? this.now()), phase: env.bound ? 'invoke' : 'init', status: 'error', errorType: error.errorType }), env);
      this.lastInitError = error;
      const victim = env.bound ?? this.queue.find((p) => !p.env);
      if (victim) this.failPending(victim, 'InitError', error, env.initStartedAt);
    }
    this.options.events?.warn({ function: this.name, environment: id.slice(0, 12), ...error }, 'an environment exited');
    // Its container is gone; what it leaves (its network, its /tmp) goes with the removal.
    this.removeEnvironment(env, 'exited');
    this.scale();
    return true;
  }

  /** make dev: every environment is replaced; what runs finishes on the old code. Returns how many. */
  retireAll(): number {
    let count = 0;
    for (const env of [...this.environments]) {
      count++;
      if (env.phase === 'idle') this.removeEnvironment(env, 'replaced by a new one (make dev reload)');
      else env.retired = true;
    }
    this.scale();
    return count;
  }

  /** Removes the longest-idle environment, to make room for another function's; false when none is idle. */
  evictIdle(): boolean {
    const idle = [...this.environments].filter((e) => e.phase === 'idle').sort((a, b) => a.idleSince - b.idleSince)[0];
    if (!idle) return false;
    this.removeEnvironment(idle, 'room for another function');
    return true;
  }

  /** Service stop: invocations still waiting fail, every environment goes. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.launchRetry);
    for (const pending of this.queue.splice(0)) {
      clearTimeout(pending.deadlineTimer);
      clearTimeout(pending.waitTimer);
      pending.release();
      pending.resolve(this.stoppedResult(pending.requestId));
    }
    for (const env of [...this.environments]) {
      if (env.running) {
        const run = this.finishRunning(env);
        run.pending.resolve(this.stoppedResult(run.pending.requestId));
      }
      this.removeEnvironment(env, 'the service stops');
    }
  }

  private stoppedResult(requestId: string): InvocationResult {
    return { ok: false, kind: 'ExitError', error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: the local Lambda service stopped` }, durationMs: 0, requestId };
  }

  private byAddress(address: string): Environment | undefined {
    for (const env of this.environments) if (env.address === address) return env;
    return undefined;
  }

  private liveEnvironments(): number {
    return this.environments.size;
  }

  private log(line: string, env: Environment | undefined): void {
    this.options.log?.(line, env?.logStream);
  }

  private answerCheck(address: string, requestId: string): AnswerOutcome {
    const env = this.byAddress(address);
    if (!env) return 'unknown-environment';
    if (env.running?.pending.requestId === requestId) return 'accepted';
    return env.answered.includes(requestId) ? 'invalid-state' : 'invalid-request-id';
  }

  private invocationOf(run: Running): Invocation {
    const { pending } = run;
    return {
      requestId: pending.requestId,
      payload: pending.request.payload,
      deadlineMs: run.deadlineMs,
      functionArn: this.options.arn,
      traceId: `Root=1-${Math.floor(run.startedAt / 1000).toString(16)}-${pending.requestId.replace(/-/g, '').slice(0, 24).padEnd(24, '0')};Sampled=0`,
      headers: pending.request.headers ?? {},
    };
  }

  /** Starts environments for the invocations that wait, up to the reservation (if any). */
  private scale(): void {
    if (this.stopped || this.launchRetry) return;
    const waiting = this.queue.filter((p) => !p.env).length;
    // Coming: starting for no invocation in particular, or answered and about to ask for the next
    // one (an invocation right after an answer waits for that environment, no cold start).
    const coming = [...this.environments].filter((e) => !e.retired && !e.initFailed && !e.bound && (e.phase === 'launching' || e.phase === 'initialising' || (e.phase === 'busy' && !e.running))).length;
    const cap = this.options.concurrency.reservedConcurrency ?? Number.POSITIVE_INFINITY;
    for (let missing = waiting - coming; missing > 0 && this.liveEnvironments() < cap; missing--) this.launch();
  }

  private launch(bound?: Pending): void {
    const env: Environment = { seq: ++this.seq, phase: 'launching', initReported: false, initFailed: false, answered: [], retired: false, idleSince: this.now(), ...(bound && { bound }) };
    if (bound) bound.env = env;
    this.environments.add(env);
    this.coldStarts++;
    this.options.launcher.launch().then(
      (launched) => {
        if (env.phase === 'gone') {
          this.options.launcher.remove(launched.id, 'no longer needed');
          return;
        }
        Object.assign(env, { id: launched.id, address: launched.address, logStream: launched.logStream, phase: 'initialising', initStartedAt: this.now() });
        this.launchFailures = 0;
        this.lastStartError = undefined;
        // A suppressed init is bounded by its invocation's deadline instead (deadlineTimer).
        if (!bound) env.timer = setTimeout(() => this.initTimedOut(env), this.options.initTimeoutMs ?? 10_000);
        for (const waiter of this.addressWaiters.get(launched.address) ?? []) waiter(true);
        this.addressWaiters.delete(launched.address);
      },
      (error: unknown) => {
        this.environments.delete(env);
        env.phase = 'gone';
        this.coldStarts--;
        this.launchFailures++;
        this.lastStartError = (error as Error).message;
        this.options.events?.warn({ function: this.name, err: this.lastStartError }, 'could not start an environment');
        // The invocation it was for fails, as on Lambda when a sandbox cannot be created; a function
        // whose environments cannot start does not spin the machine: the next try waits (1, 2 ... 30 s).
        const victim = env.bound ?? this.queue.find((p) => !p.env);
        if (victim) this.failPending(victim, 'InitError', { errorType: 'Runtime.EnvironmentStartFailed', errorMessage: `the environment could not start: ${this.lastStartError}` }, undefined);
        const delay = Math.min(30_000, 1_000 * 2 ** Math.min(5, this.launchFailures - 1));
        clearTimeout(this.launchRetry);
        this.launchRetry = setTimeout(() => {
          this.launchRetry = undefined;
          this.scale();
        }, delay);
      },
    );
  }

  /** The 10 s init phase ran out: Lambda retries the init inside the first invocation, under its timeout. */
  private initTimedOut(env: Environment): void {
    if (env.phase !== 'initialising') return;
    this.log(initReportLine({ durationMs: this.now() - env.initStartedAt!, phase: 'init', status: 'timeout' }), env);
    this.options.events?.warn({ function: this.name, environment: env.id?.slice(0, 12), initTimeoutMs: this.options.initTimeoutMs ?? 10_000 }, 'init timed out; retrying it inside the invocation');
    env.initFailed = true;
    this.removeEnvironment(env, 'init timed out');
    const head = this.queue.find((p) => !p.env);
    if (!head || this.stopped) return this.scale();
    head.boundAt = this.now();
    head.deadlineTimer = setTimeout(() => this.boundTimedOut(head), this.options.timeoutSeconds * 1000);
    this.launch(head);
    this.scale();
  }

  /** No environment took the invocation within its wait (a bound one has its own deadline). */
  private waitedTooLong(pending: Pending, waitMs: number): void {
    if (pending.env || !this.queue.includes(pending)) return;
    this.options.events?.warn({ function: this.name, requestId: pending.requestId, waitedMs: waitMs }, 'no environment took the invocation in time; it times out');
    this.failPending(pending, 'TimedOut', { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${pending.requestId} Error: no environment could start for the invocation within ${(waitMs / 1000).toFixed(0)} seconds (init limit, timeout and container start)` }, undefined);
  }

  /** A suppressed init did not end before its invocation's deadline. */
  private boundTimedOut(pending: Pending): void {
    const env = pending.env;
    if (!env || env.running || !this.queue.includes(pending)) return;
    this.log(initReportLine({ durationMs: this.now() - (env.initStartedAt ?? pending.boundAt!), phase: 'invoke', status: 'timeout' }), env);
    this.failPending(pending, 'TimedOut', this.timeoutError(pending.requestId), pending.boundAt);
    this.removeEnvironment(env, 'init timed out inside the invocation');
    this.scale();
  }

  private timeoutError(requestId: string): FunctionError {
    return { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${this.options.timeoutSeconds.toFixed(2)} seconds` };
  }

  private failPending(pending: Pending, kind: FailureKind, error: FunctionError, since: number | undefined): void {
    const i = this.queue.indexOf(pending);
    if (i < 0) return;
    this.queue.splice(i, 1);
    clearTimeout(pending.deadlineTimer);
    clearTimeout(pending.waitTimer);
    pending.release();
    pending.resolve({ ok: false, kind, error, durationMs: since === undefined ? 0 : this.now() - since, requestId: pending.requestId });
  }

  private dispatch(): void {
    const idle = [...this.environments].filter((e) => e.phase === 'idle' && e.poller).sort((a, b) => b.idleSince - a.idleSince);
    for (const env of idle) {
      const pending = this.queue.find((p) => p.env === env) ?? this.queue.find((p) => !p.env);
      if (!pending) continue;
      this.deliver(env, pending);
    }
  }

  private deliver(env: Environment, pending: Pending): void {
    const now = this.now();
    const startedAt = pending.boundAt ?? now;
    const deadlineMs = startedAt + this.options.timeoutSeconds * 1000;
    const initDurationMs = !env.initReported && env.initDurationMs !== undefined ? env.initDurationMs : undefined;
    const run: Running = { pending, startedAt, deadlineMs, ...(initDurationMs !== undefined && { initDurationMs }), timer: undefined as unknown as NodeJS.Timeout };
    if (!env.poller!.deliver(this.invocationOf(run))) {
      // That `/next` is gone (the container is going): the exit event cleans up.
      env.poller = undefined;
      return;
    }
    this.queue.splice(this.queue.indexOf(pending), 1);
    clearTimeout(pending.deadlineTimer);
    clearTimeout(pending.waitTimer);
    clearTimeout(env.timer);
    env.initReported = true;
    env.poller = undefined;
    env.phase = 'busy';
    run.timer = setTimeout(() => this.timedOut(env), Math.max(0, deadlineMs - now));
    env.running = run;
    this.log(startLine(pending.requestId), env);
  }

  private finishRunning(env: Environment): Running {
    const run = env.running!;
    clearTimeout(run.timer);
    env.running = undefined;
    env.answered = [...env.answered.slice(-15), run.pending.requestId];
    // The request is no longer in flight: its concurrency returns (the environment is the
    // function's until it asks for the next one, so the reservation still bounds environments).
    run.pending.release();
    return run;
  }

  private report(env: Environment, run: Running, status?: { kind: 'timeout' } | { kind: 'error'; errorType: string }): void {
    const durationMs = this.now() - run.startedAt;
    const { requestId } = run.pending;
    this.options.onInvocation?.({
      requestId,
      durationMs,
      billedDurationMs: billedDurationMs(durationMs, run.initDurationMs),
      ...(run.initDurationMs !== undefined && { initDurationMs: run.initDurationMs }),
      memoryMb: this.options.memoryMb,
      failed: status !== undefined,
    });
    // END and REPORT together, once the peak memory is read: by then the environment's own output
    // for the invocation (followed from Docker, a moment behind) is in the log before them, as on AWS.
    const write = (maxMemoryUsedMb: number | undefined) => {
      this.log(endLine(requestId), env);
      this.log(reportLine({ requestId, durationMs, memorySizeMb: this.options.memoryMb, ...(maxMemoryUsedMb !== undefined && { maxMemoryUsedMb }), ...(run.initDurationMs !== undefined && { initDurationMs: run.initDurationMs }), ...(status && { status }) }), env);
    };
    const memory = env.id ? this.options.launcher.maxMemoryMb?.(env.id) : undefined;
    if (!memory) return write(undefined);
    memory.then(write, () => write(undefined));
  }

  private timedOut(env: Environment): void {
    if (!env.running) return;
    const run = this.finishRunning(env);
    this.report(env, run, { kind: 'timeout' });
    run.pending.resolve({ ok: false, kind: 'TimedOut', error: this.timeoutError(run.pending.requestId), durationMs: this.now() - run.startedAt, requestId: run.pending.requestId });
    this.options.events?.warn({ function: this.name, requestId: run.pending.requestId, environment: env.id?.slice(0, 12) }, `task timed out after ${this.options.timeoutSeconds} seconds; the environment is removed`);
    this.removeEnvironment(env, 'timed out');
    this.scale();
  }

  private armIdleTimer(env: Environment): void {
    clearTimeout(env.timer);
    env.timer = setTimeout(() => {
      if (env.phase === 'idle') this.removeEnvironment(env, 'idle');
    }, this.options.idleTimeoutMs);
    // An idle environment alone does not keep the process alive (the service's servers do).
    env.timer.unref();
  }

  /** Forgets an environment and removes its container (`reason` undefined: nothing to remove). */
  private removeEnvironment(env: Environment, reason: string | undefined): void {
    if (env.phase === 'gone') return;
    env.phase = 'gone';
    clearTimeout(env.timer);
    this.environments.delete(env);
    if (env.running) {
      clearTimeout(env.running.timer);
      env.running.pending.release();
    }
    if (env.bound && this.queue.includes(env.bound)) {
      // Its invocation waits for another environment.
      clearTimeout(env.bound.deadlineTimer);
      delete env.bound.env;
      delete env.bound.boundAt;
    }
    if (env.id && reason) {
      this.options.launcher.remove(env.id, reason);
      this.options.events?.info({ function: this.name, environment: env.id.slice(0, 12), reason }, 'environment removed');
    }
  }
}
