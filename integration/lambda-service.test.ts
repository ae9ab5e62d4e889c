// The local Lambda service with real function containers: a timed-out invocation is reported and
// its environment removed, the event retried; an environment that dies fails its invocation at
// once and the next event starts another; the Docker proxy makes environments as Lambda's
// sandboxes and nothing else. A stand-in handler
// (fixtures/test-handler/slow.mjs) runs in notify's slot, in a production image and runtime, since
// real work (thumbnails on 2 cores) cannot show either cleanly; the test stack points the function
// at it with ImageConfig.Command, as any CDK app could.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { InvokeCommand, PutFunctionConcurrencyCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { lambdaClient } from '../toolkit/clients';
import { describeWithDocker, eventually, imageOf, removeLabelledContainers } from './support/docker';
import { standIn } from './support/handlers';
import { Probe } from './support/probe';
import { startStack, type RunningStack } from './support/stack';

const TIMEOUT_SECONDS = 5;

describeWithDocker('local Lambda service with function containers', () => {
  let stack: RunningStack;
  let lambda: LambdaClient;
  let fn = '';
  const invoke = (payload: object) => lambda.send(new InvokeCommand({ FunctionName: fn, Payload: Buffer.from(JSON.stringify(payload)) }));
  const answer = (out: { Payload?: Uint8Array }) => JSON.parse(Buffer.from(out.Payload!).toString()) as Record<string, any>;

  beforeAll(async () => {
    removeLabelledContainers();
    stack = await startStack({
      config: { notify: { timeoutSeconds: TIMEOUT_SECONDS, trigger: { visibilityTimeoutSeconds: 8 } } },
      handlers: { notify: standIn('slow.handler') },
    });
    fn = stack.view.functions.find((f) => f.command?.[0] === 'test/slow.handler')!.name;
    lambda = lambdaClient(stack.lambdaApiUrl);
    // One environment at a time: reserved concurrency 1 caps them.
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: fn, ReservedConcurrentExecutions: 1 }));
  }, 300_000);
  afterAll(async () => {
    lambda?.destroy();
    await stack?.stop();
  });

  const environments = () => stack.environments(fn);

  it('a timed-out invocation fails with "Task timed out", its environment is removed, and the next event starts a new one', async () => {
    const before = answer(await invoke({ waitMs: 1 })).container as string;

    const out = await invoke({ waitMs: 60_000 });

    expect(out.FunctionError).toBe('Unhandled');
    expect(answer(out)).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(new RegExp(`^RequestId: \\S+ Error: Task timed out after ${TIMEOUT_SECONDS}.00 seconds$`)) });
    await eventually(async () => (environments().length === 0 ? true : undefined), 'the timed-out environment removed', 30_000);
    const again = await invoke({ waitMs: 1 });
    expect(again.FunctionError).toBeUndefined();
    expect(answer(again).container).not.toBe(before);
  });

  it('an S3 event whose first delivery times out is retried through its queue and processed once', async () => {
    const key = 'images/hang-once.txt';
    const probe = new Probe(stack.localstack.clients, stack);
    await stack.localstack.clients.s3.send(new PutObjectCommand({ Bucket: probe.uploads, Key: key, Body: 'x' }));

    // Deleted from its queue only after the successful retry: nothing left to deliver again.
    await eventually(async () => ((await probe.queueDepth('NotifyEventQueueUrl')) === 0 && (await sqsOutcomes()).includes('success') ? true : undefined), `${key} processed after the timeout`, 90_000);

    const logs = await stack.serviceLogs();
    expect(logs).toMatch(new RegExp(`task timed out after ${TIMEOUT_SECONDS} seconds`));
    expect(logs).toMatch(/"reason":"timed out","message":"environment removed"/);
    expect(await sqsOutcomes()).toEqual(['TimedOut', 'success']);
  });

  /** The outcomes of the function's SQS invocations, in order, from the service's one line per invocation. */
  async function sqsOutcomes(): Promise<string[]> {
    return (await stack.serviceLogs())
      .split('\n')
      .filter((l) => l.includes('"source":"sqs"') && l.includes(`"function":"${fn}"`))
      .map((l) => (JSON.parse(l) as { outcome: string }).outcome);
  }

  it.each([
    ['exits mid-invocation', { exitCode: 3 }, 'Runtime.ExitError', /^RequestId: \S+ Error: Runtime exited with error: exit status 3$/],
    ['runs out of its memory (256 MB, no swap)', { allocateMb: 600 }, 'Runtime.OutOfMemory', /^RequestId: \S+ Error: Runtime exited with error: signal: killed$/],
  ])('an environment that %s fails its invocation at once, as Lambda reports it, and the next event starts another', async (_what, payload, errorType, message) => {
    await invoke({ waitMs: 1 });
    const [before] = environments();
    const started = Date.now();
    const out = await invoke(payload);
    const elapsed = Date.now() - started;

    expect(out.FunctionError).toBe('Unhandled');
    expect(answer(out)).toEqual({ errorType, errorMessage: expect.stringMatching(message) });
    // Noticed when the container died, not at the 5 s deadline.
    expect(elapsed).toBeLessThan(TIMEOUT_SECONDS * 1000 - 1000);
    // Nobody restarts it: the service starts a new environment, which takes work.
    const again = await invoke({ waitMs: 1 });
    expect(again.FunctionError).toBeUndefined();
    expect(environments()).not.toContain(before);
  });

  it('an environment removed by hand (docker rm -f) leaves no network, /tmp volume or loop device behind; the next event starts another', async () => {
    const { execFileSync } = await import('node:child_process');
    const { readdirSync, readFileSync } = await import('node:fs');
    await invoke({ waitMs: 1 });
    const [id] = environments();
    const labels = JSON.parse(execFileSync('docker', ['inspect', id!], { encoding: 'utf8' }))[0].Config.Labels as Record<string, string>;
    const [network, volume] = [labels['lambda-pipelines.network']!, labels['lambda-pipelines.scratch']!];
    execFileSync('docker', ['rm', '-f', id!]);
    const exists = (kind: 'network' | 'volume', name: string) => execFileSync('docker', [kind, 'ls', '-q', '--filter', `name=${name}`], { encoding: 'utf8' }).trim() !== '';
    const loopHolds = (name: string) =>
      readdirSync('/sys/block')
        .filter((d) => d.startsWith('loop'))
        .some((d) => {
          try {
            return readFileSync(`/sys/block/${d}/loop/backing_file`, 'utf8').includes(name);
          } catch {
            return false;
          }
        });
    await eventually(async () => (!exists('network', network) && !exists('volume', volume) && !loopHolds(volume) ? true : undefined), `${network} and ${volume} removed`, 30_000);
    expect((await invoke({ waitMs: 1 })).FunctionError).toBeUndefined();
  });

  it("reaches Docker only through its proxy, which makes, shows and removes this stack's function containers and nothing else", async () => {
    const { execFileSync } = await import('node:child_process');
    const service = JSON.parse(execFileSync('docker', ['inspect', stack.serviceContainerId], { encoding: 'utf8' }))[0];
    expect([service.Config.User, service.HostConfig.ReadonlyRootfs, service.HostConfig.CapDrop]).toEqual(['993:993', true, ['ALL']]);
    expect(service.Mounts.filter((m: { Source: string }) => m.Source.includes('docker.sock'))).toEqual([]);

    await invoke({ waitMs: 1 });
    const listed = (await (await fetch(`${stack.dockerProxyUrl}/containers/json`)).json()) as Array<{ Id: string; Labels: Record<string, string> }>;
    // The stack's function containers only: the stand-in's, and any other function's still warm.
    const names = stack.view.functions.map((f) => f.name);
    expect(listed.map((c) => c.Labels['lambda-pipelines.function'])).toContain(fn);
    expect(listed.filter((c) => !names.includes(c.Labels['lambda-pipelines.function']!))).toEqual([]);
    // What the proxy made: Lambda's sandbox, not what a caller might ask for.
    const made = JSON.parse(execFileSync('docker', ['inspect', environments()[0]!], { encoding: 'utf8' }))[0];
    expect([made.Config.User, made.HostConfig.ReadonlyRootfs, made.HostConfig.CapDrop, made.HostConfig.Privileged, made.HostConfig.Binds ?? [], made.HostConfig.Memory]).toEqual(['993:993', true, ['ALL'], false, [], 256 * 1024 * 1024]);
    // CPU in proportion to memory once the init is over (256 / 1769 of a vCPU); /tmp a volume; a network of its own.
    expect(made.HostConfig.NanoCpus).toBe(Math.round((256 / 1769) * 1e9));
    expect(made.Mounts.map((m: { Type: string; Destination: string }) => [m.Type, m.Destination])).toEqual([['volume', '/tmp']]);
    const networks = Object.keys(made.NetworkSettings.Networks);
    expect(networks).toEqual([made.Config.Labels['lambda-pipelines.network']]);
    const members = JSON.parse(execFileSync('docker', ['network', 'inspect', networks[0]!], { encoding: 'utf8' }))[0];
    expect(members.Internal).toBe(true);
    expect(Object.keys(members.Containers).sort()).toEqual([made.Id, stack.serviceContainerId, stack.localstack.container.getId()].sort());

    const localstackId = stack.localstack.container.getId();
    expect((await fetch(`${stack.dockerProxyUrl}/containers/${localstackId}`, { method: 'DELETE' })).status).toBe(403);
    expect((await fetch(`${stack.dockerProxyUrl}/containers/create`, { method: 'POST' })).status).toBe(403);
    expect((await fetch(`${stack.dockerProxyUrl}/containers/${listed[0]!.Id}/exec`, { method: 'POST' })).status).toBe(403);
    const ask = (body: object) => fetch(`${stack.dockerProxyUrl}/environments`, { method: 'POST', body: JSON.stringify(body) });
    const notAFunction = await ask({ function: 'x', image: imageOf('local-lambda'), memoryMb: 128 });
    expect([notAFunction.status, ((await notAFunction.json()) as { message: string }).message]).toEqual([403, expect.stringContaining('not labelled as a function image')]);
    const withMount = await ask({ function: 'x', image: imageOf('notify'), memoryMb: 128, binds: ['/:/host'] });
    expect(withMount.status).toBe(400);
    expect((await ask({ function: 'x', image: imageOf('notify'), memoryMb: 100_000 })).status).toBe(400);
  });
});
