// Lambda's execution model, locally, against the real images: environments start on demand and go
// when idle, concurrency is reserved and throttled as AWS does it (429 for a synchronous call, the
// SQS mapping's messages back to their queue and on to the DLQ at reserved concurrency 0), /tmp is
// ephemeral storage of its own size (ENOSPC, not an OOM kill), an init has 10 s, and an
// environment holds its own invocations and reaches nothing it must not.
// The stack: the test stack with thumbnail at reserved concurrency 3, and two functions a user adds
// with CDK on the stand-in image (integration/fixtures/test-handler/): `probe` (slow.mjs) and
// `slow-init` (an 11 s init).
import { execFileSync } from 'node:child_process';
import { InvokeCommand, LambdaClient, PutFunctionConcurrencyCommand, DeleteFunctionConcurrencyCommand, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { jpeg } from '../functions/thumbnail/test-images';
import { PipelineFunction } from '../infra/constructs/pipeline-function';
import { lambdaClient } from '../toolkit/clients';
import { FUNCTION_LABEL, STACK_LABEL } from '../toolkit/labels';
import { describeWithDocker, eventually, removeLabelledContainers } from './support/docker';
import { buildTestHandlers, TEST_HANDLERS_REPOSITORY } from './support/handlers';
import { Probe } from './support/probe';
import { startStack, type RunningStack } from './support/stack';

const IDLE_SECONDS = 4;

describeWithDocker("Lambda's execution model, locally", () => {
  let stack: RunningStack;
  let lambda: LambdaClient;
  let probe: Probe;
  let probeFn = '';
  let slowInitFn = '';

  const invoke = async (fn: string, payload: object, tail = false) => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: fn, Payload: Buffer.from(JSON.stringify(payload)), ...(tail && { LogType: 'Tail' }) }));
    return { out, body: JSON.parse(Buffer.from(out.Payload!).toString() || 'null') as Record<string, any>, log: out.LogResult ? Buffer.from(out.LogResult, 'base64').toString() : '' };
  };
  /** Every function container of the stack now (a function's, when named). */
  const containers = (fn?: string) =>
    execFileSync('docker', ['ps', '-q', '--filter', `label=${STACK_LABEL}=${stack.stackId}`, '--filter', fn ? `label=${FUNCTION_LABEL}=${fn}` : `label=${FUNCTION_LABEL}`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);

  beforeAll(async () => {
    removeLabelledContainers();
    buildTestHandlers();
    stack = await startStack({
      config: { thumbnail: { reservedConcurrency: 3 } },
      idleSeconds: IDLE_SECONDS,
      extend: (s) => {
        const standIn = (id: string, handler: string, settings: { timeoutSeconds: number; memoryMb: number }, environment: Record<string, string> = {}) =>
          new PipelineFunction(s, id, { code: 'api', project: 'lambda-pipelines', description: `stand-in ${handler}`, repository: TEST_HANDLERS_REPOSITORY, command: [`test/${handler}`], ...settings, environment, logRetentionDays: 1 });
        // 512 MB: 600 MB in a tmpfs /tmp would be an OOM kill; 0.29 vCPU writes it well inside 15 s.
        standIn('Probe', 'slow.handler', { timeoutSeconds: 15, memoryMb: 512 });
        standIn('SlowInit', 'slow-init.handler', { timeoutSeconds: 5, memoryMb: 256 }, { INIT_DELAY_MS: '11000' });
      },
    });
    lambda = lambdaClient(stack.lambdaApiUrl);
    probe = new Probe(stack.localstack.clients, stack);
    probeFn = stack.view.functions.find((f) => f.command?.[0] === 'test/slow.handler')!.name;
    slowInitFn = stack.view.functions.find((f) => f.command?.[0] === 'test/slow-init.handler')!.name;
  }, 300_000);
  afterAll(async () => {
    lambda?.destroy();
    await stack?.stop();
  });

  it('starts no environment before the first event', async () => {
    expect(containers()).toEqual([]);
    const health = await stack.health();
    expect(Object.values(health.functions).every((f) => f.environments.starting + f.environments.idle + f.environments.busy === 0)).toBe(true);
  });

  it('20 concurrent synchronous invokes at reserved concurrency 2 (no SDK retries): 2 answer 200, the rest 429 TooManyRequestsException as AWS answers', async () => {
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: probeFn, ReservedConcurrentExecutions: 2 }));
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => invoke(probeFn, { waitMs: 3_000 })));

    const answered = results.filter((r) => r.status === 'fulfilled');
    const throttled = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(answered).toHaveLength(2);
    expect(throttled).toHaveLength(18);
    for (const { reason } of throttled) {
      expect(reason).toBeInstanceOf(TooManyRequestsException);
      expect(reason).toMatchObject({ Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', Type: 'User', message: 'Rate Exceeded.', $metadata: { httpStatusCode: 429 } });
    }
    expect((await stack.health()).functions[probeFn]).toMatchObject({ throttles: 18, reservedConcurrency: 2 });
    await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: probeFn }));
  });

  it('removes an environment idle past its time; the next REPORT has an Init Duration, the one after it none', async () => {
    await eventually(async () => (containers(probeFn).length === 0 ? true : undefined), `no ${probeFn} environment ${IDLE_SECONDS} s after its last invocation`, 30_000);

    const cold = await invoke(probeFn, { waitMs: 1 }, true);
    const warm = await invoke(probeFn, { waitMs: 1 }, true);

    expect(cold.log).toMatch(/^REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 512 MB\tMax Memory Used: (\d+|-) MB\tInit Duration: [\d.]+ ms$/m);
    expect(warm.log).toMatch(/^REPORT RequestId: \S+\tDuration: [\d.]+ ms/m);
    expect(warm.log).not.toContain('Init Duration');
    // Lambda's own lines are in the function's log, with the Max Memory Used of its cgroup.
    const requestId = cold.out.$metadata.requestId!;
    const report = await eventually(async () => (await stack.serviceLogs()).split('\n').find((l) => l.includes(`REPORT RequestId: ${requestId}`)), 'the REPORT line in the function log', 10_000);
    expect(JSON.parse(report)).toMatchObject({ source: 'function', function: probeFn, message: expect.stringMatching(/Max Memory Used: \d+ MB/) });
  });

  it('gives /tmp the ephemeral storage size apart from memory: 600 MB into 512 MB ends in ENOSPC, not an OOM kill (512 MB of memory)', async () => {
    const { out, body } = await invoke(probeFn, { writeTmpMb: 600 });
    expect([out.FunctionError, body.errorType]).toEqual([undefined, undefined]);
    expect(body.code).toBe('ENOSPC');
    expect(body.writtenMb).toBeGreaterThan(450);
    expect(body.writtenMb).toBeLessThan(512);
    expect((await stack.health()).limits.tmp).toEqual({ kind: 'volume' });
  });

  it('an init of 11 s passes the 10 s init phase: retried inside the invocation under its 5 s timeout, it fails as AWS reports it', async () => {
    const started = Date.now();
    const { out, body } = await invoke(slowInitFn, {});
    const elapsed = Date.now() - started;

    expect(out.FunctionError).toBe('Unhandled');
    expect(body).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/^RequestId: \S+ Error: Task timed out after 5.00 seconds$/) });
    expect(elapsed).toBeGreaterThanOrEqual(15_000);
    const lines = (await stack.serviceLogs()).split('\n').filter((l) => l.includes(slowInitFn) && l.includes('INIT_REPORT'));
    expect(lines.map((l) => (JSON.parse(l) as { message: string }).message.replace(/[\d.]+ ms/, 'N ms'))).toEqual(['INIT_REPORT Init Duration: N ms\tPhase: init\tStatus: timeout', 'INIT_REPORT Init Duration: N ms\tPhase: invoke\tStatus: timeout']);
  }, 60_000);

  it("refuses an environment's answer to another environment's invocation, and a call to another function's Runtime API; reaches LocalStack, never the Docker proxy", async () => {
    const long = invoke(probeFn, { waitMs: 4_000 });
    const requestId = await eventually(async () => {
      const start = (await stack.serviceLogs()).split('\n').reverse().find((l) => l.includes(probeFn) && l.includes('START RequestId'));
      return start ? /START RequestId: (\S+)/.exec((JSON.parse(start) as { message: string }).message)?.[1] : undefined;
    }, 'the long invocation started', 15_000);

    const stolen = await invoke(probeFn, { answer: requestId });
    expect(stolen.body).toEqual({ status: 400, body: { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' } });

    const thumbnailApi = stack.view.functions.findIndex((f) => f.name === stack.functionName('thumbnail'));
    const foreign = await invoke(probeFn, { answer: requestId, runtimeApi: `local-lambda:${9100 + thumbnailApi}` });
    expect(foreign.body).toMatchObject({ status: 403, body: { errorType: 'AccessDeniedException' } });

    expect((await invoke(probeFn, { reach: 'http://localstack:4566/_localstack/health' })).body).toMatchObject({ reached: true, status: 200 });
    expect((await invoke(probeFn, { reach: 'http://docker-proxy:2375/health' })).body).toMatchObject({ reached: false });
    expect((await long).body).toMatchObject({ container: expect.any(String) });
  }, 60_000);

  it('a burst of 60 uploads to thumbnail at reserved concurrency 3: never more than 3 environments, every upload processed once', async () => {
    const photo = await jpeg(1200, 900);
    const keys = Array.from({ length: 60 }, (_, i) => `images/reserved/${String(i).padStart(2, '0')}.jpg`);
    const fn = stack.functionName('thumbnail');
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, containers(fn).length)), 100);
    try {
      await Promise.all(keys.map((key) => probe.put(key, photo)));
      const items = await eventually(async () => {
        const found = (await probe.scanLog()).filter((i) => i.pk.includes('/reserved/') && i.function === 'thumbnail');
        return found.length >= keys.length ? found : undefined;
      }, '60 thumbnail items', 240_000, 1_000);
      expect(items.map((i) => i.status)).toEqual(Array(60).fill('PROCESSED'));
    } finally {
      clearInterval(watch);
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(3);
    // Once: the function's SQS invocations succeeded and carried 60 messages in all.
    const invocations = (await stack.serviceLogs())
      .split('\n')
      .filter((l) => l.includes('"source":"sqs"') && l.includes(`"function":"${fn}"`))
      .map((l) => JSON.parse(l) as { outcome: string; batchSize: number });
    expect(invocations.filter((i) => i.outcome !== 'success')).toEqual([]);
    expect(invocations.reduce((n, i) => n + i.batchSize, 0)).toBe(60);
  }, 300_000);

  it('at reserved concurrency 0 no upload is processed: the messages return to their queue and move to the DLQ after maxReceiveCount receives', async () => {
    const fn = stack.functionName('thumbnail');
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: fn, ReservedConcurrentExecutions: 0 }));
    const photo = await jpeg(300, 200);
    const keys = ['images/zero/a.jpg', 'images/zero/b.jpg'];
    await Promise.all(keys.map((key) => probe.put(key, photo)));

    // maxReceiveCount 3, visibility 20 s: about a minute.
    const dead = await eventually(async () => {
      const messages = await probe.messages('ThumbnailDeadLetterQueueUrl');
      return messages.length >= keys.length ? messages : undefined;
    }, 'both messages in the thumbnail DLQ', 150_000, 2_000);
    const deadKeys = dead.flatMap((m) => (m.Records as Array<{ s3: { object: { key: string } } }>).map((r) => decodeURIComponent(r.s3.object.key)));
    expect(deadKeys.sort()).toEqual(keys);
    expect((await probe.thumbnailKeys()).filter((k) => k.includes('/zero/'))).toEqual([]);
    expect((await probe.scanLog()).filter((i) => i.pk.includes('/zero/') && i.function === 'thumbnail')).toEqual([]);
    expect(containers(fn)).toEqual([]);
    expect((await stack.health()).functions[fn]!.throttles).toBeGreaterThan(0);
    await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: fn }));
  }, 200_000);
});
