import { AccountConcurrency, FunctionConcurrency } from './concurrency';
import { FunctionRuntime, type EnvironmentLauncher, type Invocation, type InvocationResult, type LaunchedEnvironment } from './function-runtime';

/** A launcher whose environments the test starts by hand: launch() resolves when started(). */
class FakeLauncher implements EnvironmentLauncher {
  readonly launches: Array<{ resolve: (e: LaunchedEnvironment) => void; reject: (e: Error) => void }> = [];
  readonly removed: Array<{ id: string; reason: string }> = [];
  readonly initsDone: string[] = [];
  private n = 0;

  initDone(id: string): void {
    this.initsDone.push(id);
  }

  launch(): Promise<LaunchedEnvironment> {
    return new Promise((resolve, reject) => this.launches.push({ resolve, reject }));
  }

  remove(id: string, reason: string): void {
    this.removed.push({ id, reason });
  }

  async maxMemoryMb(): Promise<number> {
    return 71.2;
  }

  /** Starts the oldest launch not yet started; returns its address. */
  started(): string {
    const launch = this.launches.shift();
    if (!launch) throw new Error('nothing was launched');
    this.n++;
    const address = `10.0.0.${this.n}`;
    launch.resolve({ id: `c${this.n}`, address, logStream: `stream-${this.n}` });
    return address;
  }
}

/** What an environment at `address` would do: ask for work, collecting what it gets. */
function ask(runtime: FunctionRuntime, address: string): Invocation[] {
  const got: Invocation[] = [];
  const closed = runtime.next(address, { deliver: (inv) => (got.push(inv), true) });
  if (!closed) throw new Error(`${address} is not an environment`);
  return got;
}

const flush = () => new Promise((resolve) => jest.requireActual<typeof import('node:timers')>('node:timers').setImmediate(resolve));

function setUp(options: { reserved?: number; account?: number; timeoutSeconds?: number; idleTimeoutMs?: number } = {}) {
  const account = new AccountConcurrency(options.account ?? 10, 1);
  const concurrency = new FunctionConcurrency('f', account, options.reserved);
  const launcher = new FakeLauncher();
  const lines: string[] = [];
  let clock = 1_000_000;
  const runtime = new FunctionRuntime({
    name: 'f',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
    timeoutSeconds: options.timeoutSeconds ?? 3,
    memoryMb: 512,
    concurrency,
    launcher,
    log: (line, stream) => lines.push(`${stream} ${line}`),
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    now: () => clock,
  });
  const advance = async (ms: number) => {
    clock += ms;
    jest.advanceTimersByTime(ms);
    await flush();
  };
  return { runtime, launcher, lines, concurrency, account, advance };
}

describe('FunctionRuntime: environments on demand', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('starts an environment for the first invocation (a cold start), reuses it warm, and reports Init Duration once', async () => {
    const { runtime, launcher, lines, advance } = setUp();
    const first = runtime.invoke({ payload: Buffer.from('{"n":1}') });
    expect(launcher.launches).toHaveLength(1);
    const env = launcher.started();
    await flush();
    await advance(250); // init
    const got = ask(runtime, env);
    expect(got).toHaveLength(1);
    expect(got[0]!.payload.toString()).toBe('{"n":1}');
    expect(got[0]!.functionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:f');
    await advance(40);
    expect(runtime.respond(env, got[0]!.requestId, Buffer.from('"one"'))).toBe('accepted');
    expect(await first).toMatchObject({ ok: true, payload: Buffer.from('"one"'), durationMs: 40, initDurationMs: 250 });

    const got2 = ask(runtime, env);
    const second = runtime.invoke({ payload: Buffer.from('{"n":2}') });
    expect(launcher.launches).toHaveLength(0);
    expect(got2).toHaveLength(1);
    runtime.respond(env, got2[0]!.requestId, Buffer.from('"two"'));
    const result = await second;
    expect(result).toMatchObject({ ok: true });
    expect(result.initDurationMs).toBeUndefined();
    expect(runtime.coldStarts).toBe(1);
    await flush();
    const reports = lines.filter((l) => l.includes('REPORT'));
    expect(reports[0]).toBe(`stream-1 REPORT RequestId: ${got[0]!.requestId}\tDuration: 40.00 ms\tBilled Duration: 290 ms\tMemory Size: 512 MB\tMax Memory Used: 72 MB\tInit Duration: 250.00 ms`);
    expect(reports[1]).not.toContain('Init Duration');
    expect(lines.filter((l) => l.includes('START RequestId'))).toHaveLength(2);
  });

  it('removes an environment idle past the idle time; the next invocation starts another', async () => {
    const { runtime, launcher, advance } = setUp({ idleTimeoutMs: 5_000 });
    const first = runtime.invoke({ payload: Buffer.from('{}') });
    const env = launcher.started();
    await flush();
    const got = ask(runtime, env);
    runtime.respond(env, got[0]!.requestId, Buffer.from('1'));
    await first;
    ask(runtime, env);
    await advance(4_999);
    expect(launcher.removed).toEqual([]);
    await advance(1);
    expect(launcher.removed).toEqual([{ id: 'c1', reason: 'idle' }]);
    expect(runtime.environmentCounts()).toEqual({ starting: 0, idle: 0, busy: 0 });
    void runtime.invoke({ payload: Buffer.from('{}') });
    expect(launcher.launches).toHaveLength(1);
    expect(runtime.coldStarts).toBe(2);
  });

  it('starts one environment per invocation that finds none idle or coming', async () => {
    const { runtime, launcher } = setUp();
    for (let i = 0; i < 4; i++) void runtime.invoke({ payload: Buffer.from('{}') });
    expect(launcher.launches).toHaveLength(4);
    expect(runtime.environmentCounts().starting).toBe(4);
  });
});

describe('FunctionRuntime: concurrency and throttles', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('throttles what is over the reserved concurrency at once, with the reason, and never has more environments than it', async () => {
    const { runtime, launcher, concurrency } = setUp({ reserved: 2 });
    const results = Array.from({ length: 5 }, () => runtime.invoke({ payload: Buffer.from('{}') }));
    const settled = await Promise.race([Promise.all(results.slice(2)), new Promise((r) => setImmediate(r, 'pending'))]);
    expect(settled).toEqual(
      Array.from({ length: 3 }, () => expect.objectContaining({ ok: false, kind: 'Throttled', throttleReason: 'ReservedFunctionConcurrentInvocationLimitExceeded', error: { errorType: 'TooManyRequestsException', errorMessage: 'Rate Exceeded.' } })),
    );
    expect(launcher.launches).toHaveLength(2);
    expect(concurrency.throttles).toBe(3);
  });

  it('gives the concurrency back once an invocation is answered; the next one waits for that environment, no cold start', async () => {
    const { runtime, launcher } = setUp({ reserved: 1 });
    const first = runtime.invoke({ payload: Buffer.from('{}') });
    const env = launcher.started();
    await flush();
    const got = ask(runtime, env);
    runtime.respond(env, got[0]!.requestId, Buffer.from('1'));
    await first;
    // Answered; the environment has not asked for more yet: the next invocation waits for it.
    const second = runtime.invoke({ payload: Buffer.from('{}') });
    expect(launcher.launches).toHaveLength(0);
    expect(runtime.environmentCounts()).toEqual({ starting: 0, idle: 0, busy: 1 });
    const got2 = ask(runtime, env);
    runtime.respond(env, got2[0]!.requestId, Buffer.from('2'));
    expect(await second).toMatchObject({ ok: true });
    expect(runtime.coldStarts).toBe(1);
  });

  it('throttles every invocation at reserved concurrency 0', async () => {
    const { runtime, launcher } = setUp({ reserved: 0 });
    expect(await runtime.invoke({ payload: Buffer.from('{}') })).toMatchObject({ kind: 'Throttled' });
    expect(launcher.launches).toHaveLength(0);
    expect(runtime.throttledForGood).toBe(true);
  });

  it("throttles a function without a reservation when the account's unreserved pool is used up", async () => {
    const { runtime } = setUp({ account: 3 });
    // The account of 3 keeps 1 unreserved at least: all 3 are the unreserved pool here.
    const results = Array.from({ length: 4 }, () => runtime.invoke({ payload: Buffer.from('{}') }));
    expect(await results[3]).toMatchObject({ kind: 'Throttled', throttleReason: 'ConcurrentInvocationLimitExceeded' });
  });

  it('lowering the reservation removes idle environments beyond it', async () => {
    const { runtime, launcher } = setUp({ reserved: 3 });
    const results = Array.from({ length: 3 }, () => runtime.invoke({ payload: Buffer.from('{}') }));
    const envs = [launcher.started(), launcher.started(), launcher.started()];
    await flush();
    const got = envs.map((env) => ask(runtime, env));
    envs.forEach((env, i) => runtime.respond(env, got[i]![0]!.requestId, Buffer.from('1')));
    for (const env of envs) ask(runtime, env);
    await Promise.all(results);
    runtime.setReservedConcurrency(1);
    expect(launcher.removed.map((r) => r.reason)).toEqual(['reserved concurrency lowered', 'reserved concurrency lowered']);
    expect(runtime.environmentCounts().idle).toBe(1);
  });
});

describe('FunctionRuntime: Lambda limits and failures', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('times out an invocation, reports Status: timeout and removes the environment', async () => {
    const { runtime, launcher, lines, advance } = setUp({ timeoutSeconds: 2 });
    const result = runtime.invoke({ payload: Buffer.from('{}') });
    const env = launcher.started();
    await flush();
    const got = ask(runtime, env);
    await advance(2_000);
    expect(await result).toMatchObject({ ok: false, kind: 'TimedOut', error: { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${got[0]!.requestId} Error: Task timed out after 2.00 seconds` } });
    expect(launcher.removed).toEqual([{ id: 'c1', reason: 'timed out' }]);
    expect(runtime.respond(env, got[0]!.requestId, Buffer.from('late'))).toBe('unknown-environment');
    await flush();
    expect(lines.find((l) => l.includes('REPORT'))).toMatch(/Duration: 2000.00 ms.*\tStatus: timeout$/);
  });

  it('retries an init that passes 10 s inside the invocation, under its timeout (suppressed init)', async () => {
    const { runtime, launcher, lines, advance } = setUp({ timeoutSeconds: 5 });
    const slow = runtime.invoke({ payload: Buffer.from('{}') });
    launcher.started();
    await flush();
    await advance(10_000);
    expect(lines).toContain('stream-1 INIT_REPORT Init Duration: 10000.00 ms\tPhase: init\tStatus: timeout');
    expect(launcher.removed).toEqual([{ id: 'c1', reason: 'init timed out' }]);
    // A second environment, its init inside the invocation; it takes 6 s > the 5 s timeout.
    expect(launcher.launches).toHaveLength(1);
    launcher.started();
    await flush();
    await advance(5_000);
    expect(await slow).toMatchObject({ ok: false, kind: 'TimedOut', error: { errorType: 'Sandbox.Timedout' }, durationMs: 5_000 });
    expect(lines.at(-1)).toBe('stream-2 INIT_REPORT Init Duration: 5000.00 ms\tPhase: invoke\tStatus: timeout');
  });

  it('counts a suppressed init that ends in time inside the Duration, without an Init Duration', async () => {
    const { runtime, launcher, advance } = setUp({ timeoutSeconds: 30 });
    const slow = runtime.invoke({ payload: Buffer.from('{}') });
    launcher.started();
    await flush();
    await advance(10_000);
    const second = launcher.started();
    await flush();
    await advance(4_000);
    const got = ask(runtime, second);
    // The deadline counts from the start of the retried init.
    expect(got[0]!.deadlineMs).toBe(1_000_000 + 10_000 + 30_000);
    await advance(100);
    runtime.respond(second, got[0]!.requestId, Buffer.from('1'));
    const result = await slow;
    expect(result).toMatchObject({ ok: true, durationMs: 4_100 });
    expect(result.initDurationMs).toBeUndefined();
  });

  it('fails the waiting invocation with the init error and removes the environment', async () => {
    const { runtime, launcher, lines } = setUp();
    const result = runtime.invoke({ payload: Buffer.from('{}') });
    const env = launcher.started();
    await flush();
    runtime.initError(env, { errorType: 'Runtime.ImportModuleError', errorMessage: 'Cannot find module' });
    expect(await result).toMatchObject({ ok: false, kind: 'InitError', error: { errorType: 'Runtime.ImportModuleError' } });
    expect(runtime.initFailure).toEqual({ errorType: 'Runtime.ImportModuleError', errorMessage: 'Cannot find module' });
    expect(launcher.removed).toEqual([{ id: 'c1', reason: 'init failed' }]);
    expect(lines.at(-1)).toMatch(/INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError$/);
  });

  it('fails what an environment ran when it exits, and the next invocation starts a new one', async () => {
    const { runtime, launcher } = setUp();
    const result = runtime.invoke({ payload: Buffer.from('{}') });
    const env = launcher.started();
    await flush();
    const got = ask(runtime, env);
    runtime.exited('c1', { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited with error: signal: killed' });
    expect(await result).toMatchObject({ ok: false, kind: 'ExitError', error: { errorMessage: `RequestId: ${got[0]!.requestId} Error: Runtime exited with error: signal: killed` } });
    expect(runtime.hasFreeConcurrency()).toBe(true);
    void runtime.invoke({ payload: Buffer.from('{}') });
    expect(launcher.launches).toHaveLength(1);
  });

  it('an invocation waiting for an environment that dies in its init starts another for what still waits', async () => {
    const { runtime, launcher } = setUp();
    const a = runtime.invoke({ payload: Buffer.from('{"a":1}') });
    const b = runtime.invoke({ payload: Buffer.from('{"b":1}') });
    launcher.started();
    launcher.started();
    await flush();
    runtime.exited('c1', { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited with error: exit status 1' });
    expect(await a).toMatchObject({ kind: 'InitError', error: { errorType: 'Runtime.ExitError' } });
    // b still has c2 coming: nothing more is started for it.
    expect(launcher.launches).toHaveLength(0);
    const got = ask(runtime, '10.0.0.2');
    runtime.respond('10.0.0.2', got[0]!.requestId, Buffer.from('1'));
    expect(await b).toMatchObject({ ok: true });
  });

  it('fails the invocation an environment could not be started for, and waits before the next start', async () => {
    const { runtime, launcher, advance } = setUp();
    const result = runtime.invoke({ payload: Buffer.from('{}') });
    const waiting = runtime.invoke({ payload: Buffer.from('{}') });
    launcher.launches.shift()!.reject(new Error('image not found'));
    launcher.launches.shift()!.reject(new Error('image not found'));
    expect(await result).toMatchObject({ ok: false, kind: 'InitError', error: { errorType: 'Runtime.EnvironmentStartFailed' } });
    expect(await waiting).toMatchObject({ ok: false, kind: 'InitError' });
    expect(runtime.startError).toBe('image not found');
    void runtime.invoke({ payload: Buffer.from('{}') });
    expect(launcher.launches).toHaveLength(0);
    await advance(2_000);
    expect(launcher.launches).toHaveLength(1);
  });

  it('ends an invocation whose environment never comes (Docker stuck) as a timeout, its concurrency given back', async () => {
    const { runtime, launcher, concurrency, advance } = setUp({ timeoutSeconds: 3, reserved: 1 });
    let settled: InvocationResult | undefined;
    void runtime.invoke({ payload: Buffer.from('{}') }).then((r) => (settled = r));
    expect(launcher.launches).toHaveLength(1); // never resolved
    // Init limit (10 s) + timeout (3 s) + 10 s for the container start.
    await advance(22_900);
    expect(settled).toBeUndefined();
    await advance(200);
    expect(settled).toMatchObject({ ok: false, kind: 'TimedOut', error: { errorType: 'Sandbox.Timedout', errorMessage: expect.stringContaining('no environment could start for the invocation within 23 seconds') } });
    expect([concurrency.executions, runtime.queued]).toEqual([0, 0]);
  });

  it('takes room before the payload is read (admit), and gives it back once whatever happens', async () => {
    const { runtime, concurrency } = setUp({ reserved: 1 });
    const admission = runtime.admit();
    expect(admission.ok).toBe(true);
    expect(runtime.admit()).toEqual({ ok: false, reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
    if (admission.ok) {
      admission.release();
      admission.release();
    }
    expect(concurrency.executions).toBe(0);
  });
});

describe('FunctionRuntime: each environment holds its own invocations', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("refuses another environment's answer, an unknown request id and a second answer", async () => {
    const { runtime, launcher } = setUp();
    const results: Array<Promise<InvocationResult>> = [runtime.invoke({ payload: Buffer.from('{}') }), runtime.invoke({ payload: Buffer.from('{}') })];
    const [a, b] = [launcher.started(), launcher.started()];
    await flush();
    const gotA = ask(runtime, a);
    const gotB = ask(runtime, b);
    expect(runtime.respond(b, gotA[0]!.requestId, Buffer.from('"stolen"'))).toBe('invalid-request-id');
    expect(runtime.respond('172.30.0.9', gotA[0]!.requestId, Buffer.from('"stolen"'))).toBe('unknown-environment');
    expect(runtime.next('172.30.0.9', { deliver: () => true })).toBeUndefined();
    expect(runtime.respond(a, gotA[0]!.requestId, Buffer.from('"mine"'))).toBe('accepted');
    expect(runtime.respond(a, gotA[0]!.requestId, Buffer.from('"again"'))).toBe('invalid-state');
    runtime.respond(b, gotB[0]!.requestId, Buffer.from('"b"'));
    expect(await results[0]).toMatchObject({ ok: true, payload: Buffer.from('"mine"') });
  });

  it('knows an environment that calls before its launch was reported, and refuses an address that never becomes one', async () => {
    const { runtime, launcher, advance } = setUp();
    void runtime.invoke({ payload: Buffer.from('{}') });
    const early = runtime.whenKnown('10.0.0.1', 5_000);
    const stranger = runtime.whenKnown('10.9.9.9', 5_000);
    launcher.started();
    await flush();
    expect(await early).toBe(true);
    await advance(5_000);
    expect(await stranger).toBe(false);
  });

  it('make dev: idle environments go at once, busy ones once their invocation is answered', async () => {
    const { runtime, launcher } = setUp();
    const results = [runtime.invoke({ payload: Buffer.from('{}') }), runtime.invoke({ payload: Buffer.from('{}') })];
    const [a, b] = [launcher.started(), launcher.started()];
    await flush();
    const gotA = ask(runtime, a);
    const gotB = ask(runtime, b);
    runtime.respond(a, gotA[0]!.requestId, Buffer.from('1'));
    ask(runtime, a);
    await results[0];
    expect(runtime.retireAll()).toBe(2);
    expect(launcher.removed).toEqual([{ id: 'c1', reason: 'replaced by a new one (make dev reload)' }]);
    runtime.respond(b, gotB[0]!.requestId, Buffer.from('1'));
    await results[1];
    expect(runtime.next(b, { deliver: () => true })).toBeDefined();
    expect(launcher.removed.map((r) => r.id)).toEqual(['c1', 'c2']);
  });
});
