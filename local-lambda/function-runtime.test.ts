import { FunctionRuntime, type Invocation, type Poller } from './function-runtime';

function poller(worker = '10.0.0.2') {
  const delivered: Invocation[] = [];
  const p: Poller = { worker, deliver: (inv) => (delivered.push(inv), true) };
  return { p, delivered };
}

describe('FunctionRuntime', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('hands queued invocations to pollers in FIFO order with deadline and ARN', async () => {
    const runtime = new FunctionRuntime({ name: 'f', arn: 'arn:aws:lambda:us-east-1:000000000000:function:f', timeoutSeconds: 3, now: () => 1_000 });
    const first = runtime.invoke({ payload: Buffer.from('{"n":1}') });
    runtime.invoke({ payload: Buffer.from('{"n":2}') });
    const { p, delivered } = poller();

    runtime.addPoller(p);

    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ deadlineMs: 4_000, functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f' });
    expect(delivered[0]!.payload.toString()).toBe('{"n":1}');
    expect(delivered[0]!.traceId).toMatch(/^Root=1-[0-9a-f]+-[0-9a-f]{24};Sampled=0$/);
    expect(runtime.queued).toBe(1);
    runtime.complete(delivered[0]!.requestId, Buffer.from('"done"'));
    expect(await first).toMatchObject({ ok: true, payload: Buffer.from('"done"') });
  });

  it('runs as many invocations at once as containers are polling', () => {
    const runtime = new FunctionRuntime({ name: 'f', arn: 'arn', timeoutSeconds: 3 });
    for (let i = 0; i < 5; i++) void runtime.invoke({ payload: Buffer.from('{}') });
    for (let i = 0; i < 3; i++) runtime.addPoller(poller(`10.0.0.${i}`).p);
    expect(runtime.inFlight).toBe(3);
    expect(runtime.queued).toBe(2);
  });

  it('skips a poller whose container went away', () => {
    const runtime = new FunctionRuntime({ name: 'f', arn: 'arn', timeoutSeconds: 3 });
    runtime.addPoller({ worker: 'gone', deliver: () => false });
    const { p, delivered } = poller('alive');
    runtime.addPoller(p);
    void runtime.invoke({ payload: Buffer.from('{}') });
    expect(delivered).toHaveLength(1);
    expect(runtime.inFlight).toBe(1);
  });

  it('fails an invocation that outlives its timeout and asks for the container to be restarted', async () => {
    const onTimeout = jest.fn();
    const runtime = new FunctionRuntime({ name: 'f', arn: 'arn', timeoutSeconds: 2, onTimeout });
    const { p, delivered } = poller('10.0.0.9');
    runtime.addPoller(p);
    const result = runtime.invoke({ payload: Buffer.from('{}') });

    jest.advanceTimersByTime(2_000);

    expect(await result).toMatchObject({ ok: false, kind: 'TimedOut', error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 2.00 seconds' } });
    expect(onTimeout).toHaveBeenCalledWith('10.0.0.9', delivered[0]!.requestId);
    // The late response of the timed-out container is refused.
    expect(runtime.complete(delivered[0]!.requestId, Buffer.from('late'))).toBe(false);
  });

  it('reports a function error with its type and message', async () => {
    const runtime = new FunctionRuntime({ name: 'f', arn: 'arn', timeoutSeconds: 3 });
    const { p, delivered } = poller();
    runtime.addPoller(p);
    const result = runtime.invoke({ payload: Buffer.from('{}') });
    runtime.fail(delivered[0]!.requestId, { errorType: 'TypeError', errorMessage: 'boom' });
    expect(await result).toMatchObject({ ok: false, kind: 'Unhandled', error: { errorType: 'TypeError', errorMessage: 'boom' } });
  });

  it('fails the waiting invocation with the init error of a container that cannot start', async () => {
    const runtime = new FunctionRuntime({ name: 'f', arn: 'arn', timeoutSeconds: 3 });
    const result = runtime.invoke({ payload: Buffer.from('{}') });
    runtime.initError({ errorType: 'Runtime.UserCodeSyntaxError', errorMessage: 'bad' });
    expect(await result).toMatchObject({ ok: false, kind: 'InitError', error: { errorType: 'Runtime.UserCodeSyntaxError' } });
    expect(runtime.initFailure).toEqual({ errorType: 'Runtime.UserCodeSyntaxError', errorMessage: 'bad' });
  });
});
