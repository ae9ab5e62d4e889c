// The local Lambda service with real function containers: a timed-out invocation is reported, its
// container restarted and the event retried; replicas of a function share a burst. The function's
// production image and runtime run a stand-in handler (fixtures/test-handler/slow.mjs) that waits
// or hangs on demand, since real work (thumbnails on 2 cores) cannot show either cleanly.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { eventQueueName } from '#stack/topology';
import { describeWithDocker, eventually, removeLabelledContainers } from './support/docker';
import { Probe } from './support/probe';
import { startStack, type RunningStack } from './support/stack';

const FUNCTION = 'notify'; // the slot the stand-in runs in: its S3 trigger covers images/
const TIMEOUT_SECONDS = 5;

describeWithDocker('local Lambda service with function containers', () => {
  let stack: RunningStack;
  let lambda: LambdaClient;
  const stateDir = mkdtempSync(join(tmpdir(), 'lambda-service-'));
  chmodSync(stateDir, 0o777); // the function runs as uid 993
  const processed = (): string[] => {
    try {
      return readFileSync(join(stateDir, 'processed.log'), 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };

  beforeAll(async () => {
    removeLabelledContainers();
    stack = await startStack({
      only: [FUNCTION],
      stackOverrides: { functions: { [FUNCTION]: { timeoutSeconds: TIMEOUT_SECONDS, triggers: [{ visibilityTimeoutSeconds: 8 }] } } },
      overrides: { [FUNCTION]: { taskRoot: resolve(__dirname, 'fixtures/test-handler'), handler: 'slow.handler', stateDir } },
    });
    lambda = new LambdaClient({ endpoint: stack.bridgeUrl, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  }, 300_000);
  afterAll(async () => {
    lambda?.destroy();
    await stack?.stop();
  });

  it('a timed-out invocation fails with "Task timed out", and its container is restarted', async () => {
    const container = stack.functionContainers.get(FUNCTION)![0]!;
    const startedBefore = await startedAt(container.getId());

    const out = await lambda.send(new InvokeCommand({ FunctionName: FUNCTION, Payload: Buffer.from(JSON.stringify({ waitMs: 60_000 })) }));

    expect(out.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(out.Payload!).toString())).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${TIMEOUT_SECONDS}.00 seconds` });
    await eventually(async () => ((await startedAt(container.getId())) !== startedBefore ? true : undefined), 'the timed-out container to be restarted', 30_000);
    // The restarted container takes work again.
    const again = await lambda.send(new InvokeCommand({ FunctionName: FUNCTION, Payload: Buffer.from(JSON.stringify({ waitMs: 1 })) }));
    expect(again.FunctionError).toBeUndefined();
  });

  it('an S3 event whose first delivery times out is retried through its queue and processed once', async () => {
    const key = 'images/hang-once.txt';
    await stack.localstack.clients.s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: key, Body: 'x' }));

    await eventually(async () => (processed().includes(key) ? true : undefined), `${key} processed after the timeout`, 90_000);

    const logs = await stack.bridgeLogs();
    expect(logs).toMatch(new RegExp(`task timed out after ${TIMEOUT_SECONDS} seconds`));
    expect(logs).toMatch(/restarted timed-out container/);
    // Deleted from its queue only after the successful retry: nothing left to deliver again.
    const queue = eventQueueName({ name: FUNCTION });
    const probe = new Probe(stack.localstack.clients);
    await eventually(async () => ((await probe.queueDepth(queue)) === 0 ? true : undefined), `the ${queue} queue drained`, 30_000);
    expect(processed().filter((k) => k === key)).toHaveLength(1);
  });

  it.each([
    ['exits mid-invocation', { exitCode: 3 }, 'Runtime.ExitError', /^RequestId: \S+ Error: Runtime exited with error: exit status 3$/],
    ['runs out of its memory (256 MB, no swap)', { allocateMb: 600 }, 'Runtime.OutOfMemory', /^RequestId: \S+ Error: Runtime exited with error: signal: killed$/],
  ])('a container that %s fails its invocation at once, as Lambda reports it, and is started again', async (_what, payload, errorType, message) => {
    const started = Date.now();
    const out = await lambda.send(new InvokeCommand({ FunctionName: FUNCTION, Payload: Buffer.from(JSON.stringify(payload)) }));
    const elapsed = Date.now() - started;

    expect(out.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(out.Payload!).toString())).toEqual({ errorType, errorMessage: expect.stringMatching(message) });
    // Noticed when the container died, not at the 5 s deadline.
    expect(elapsed).toBeLessThan(TIMEOUT_SECONDS * 1000 - 1000);
    // Its restart policy starts it again, and it takes work.
    const again = await lambda.send(new InvokeCommand({ FunctionName: FUNCTION, Payload: Buffer.from(JSON.stringify({ waitMs: 1 })) }));
    expect(again.FunctionError).toBeUndefined();
  });

  it('reaches Docker only through its proxy, which shows and restarts this stack\'s function containers and nothing else', async () => {
    const bridge = JSON.parse(execFileSync('docker', ['inspect', stack.bridgeContainerId], { encoding: 'utf8' }))[0];
    expect([bridge.Config.User, bridge.HostConfig.ReadonlyRootfs, bridge.HostConfig.CapDrop]).toEqual(['993:993', true, ['ALL']]);
    expect(bridge.Mounts.filter((m: { Source: string }) => m.Source.includes('docker.sock'))).toEqual([]);

    const listed = (await (await fetch(`${stack.dockerProxyUrl}/containers/json`)).json()) as Array<{ Id: string; Labels: Record<string, string> }>;
    expect(listed.map((c) => c.Labels['lambda-pipelines.function'])).toEqual([FUNCTION]);
    const localstackId = stack.localstack.container.getId();
    expect((await fetch(`${stack.dockerProxyUrl}/containers/${localstackId}/restart`, { method: 'POST' })).status).toBe(403);
    expect((await fetch(`${stack.dockerProxyUrl}/containers/${listed[0]!.Id}`, { method: 'DELETE' })).status).toBe(403);
    expect((await fetch(`${stack.dockerProxyUrl}/containers/create`, { method: 'POST' })).status).toBe(403);
  });

  it('four replicas take a burst of 40 events of 500 ms in at most 0.35x the time one replica takes', async () => {
    const burst = async () => {
      const started = Date.now();
      const results = await Promise.all(
        Array.from({ length: 40 }, () => lambda.send(new InvokeCommand({ FunctionName: FUNCTION, Payload: Buffer.from(JSON.stringify({ waitMs: 500 })) }))),
      );
      const containers = new Set(results.map((r) => (JSON.parse(Buffer.from(r.Payload!).toString()) as { container: string }).container));
      expect(results.every((r) => r.StatusCode === 200 && r.FunctionError === undefined)).toBe(true);
      return { ms: Date.now() - started, containers: containers.size };
    };

    const one = await burst();
    await stack.addReplicas(FUNCTION, 3);
    const four = await burst();

    console.log(`40 events x 500 ms: 1 replica ${one.ms} ms, 4 replicas ${four.ms} ms, ratio ${(four.ms / one.ms).toFixed(2)}`);
    expect(one.containers).toBe(1);
    expect(four.containers).toBe(4);
    expect(one.ms).toBeGreaterThanOrEqual(40 * 500);
    expect(four.ms / one.ms).toBeLessThanOrEqual(0.35);
  });
});

async function startedAt(id: string): Promise<string> {
  return execFileSync('docker', ['inspect', '-f', '{{.State.StartedAt}}', id], { encoding: 'utf8' }).trim();
}
