// The whole local stack for a suite, as compose runs it: LocalStack, the Docker proxy, the local
// Lambda service ("bridge") and the function containers on one Docker network, with the limits
// compose sets (read-only roots, memory without swap, no capabilities, a pids limit), resources
// bootstrapped from the suite's test stack (integration/support/test-stack.ts).
import { randomUUID } from 'node:crypto';
import { GenericContainer, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import type { FunctionSpec, StackOverrides, StackSpec } from '#stack/model';
import { BRIDGE_PORT, functionUrlPort, signingProxyPort } from '../../bridge/addresses';
import { FUNCTION_LABEL, STACK_LABEL } from '../../bridge/docker-proxy';
import { bootstrap } from '../../scripts/bootstrap';
import { functionEnvironment, localAwsEnv, PIDS_LIMIT, SANDBOX_USER } from '../../scripts/generate-compose';
import { LABEL, eventually, imageOf } from './docker';
import { startLocalStack, type LocalStack } from './localstack';
import { testStack } from './test-stack';

/** A container with the constraints compose applies: read-only root, no capabilities, no privilege gain. */
class HardenedContainer extends GenericContainer {
  constructor(image: string) {
    super(image);
    this.hostConfig.ReadonlyRootfs = true;
    this.hostConfig.CapDrop = ['ALL'];
    this.hostConfig.SecurityOpt = ['no-new-privileges:true'];
  }
}

/** A function container: hardened, and the memory Lambda gives the function, without swap. */
class FunctionContainer extends HardenedContainer {
  constructor(image: string, memoryMb: number) {
    super(image);
    this.hostConfig.Memory = memoryMb * 1024 * 1024;
    this.hostConfig.MemorySwap = memoryMb * 1024 * 1024;
    this.hostConfig.PidsLimit = PIDS_LIMIT;
    // As compose runs them: aws-lambda-ric exits when the Runtime API goes away (a restart of the
    // local Lambda service) and Docker starts it again.
    this.hostConfig.RestartPolicy = { Name: 'unless-stopped', MaximumRetryCount: 0 };
  }
}

/** Runs other code in a function's slot: its production image and runtime, a test handler. */
export interface HandlerOverride {
  /** Host directory mounted read-only as the task root, holding `<module>.mjs`. */
  taskRoot: string;
  /** `module.export`, e.g. `slow.handler`. */
  handler: string;
  /** Host directory mounted read-write at /state, for the handler to leave evidence in. */
  stateDir?: string;
}

export interface StackOptions {
  /** Containers per function. */
  replicas?: number;
  /** The functions to start containers for (default: all); the others' events wait in their queues. */
  only?: string[];
  /** Changes to the test stack (timeouts, batch sizes...), rendered for LocalStack and the service alike. */
  stackOverrides?: StackOverrides;
  /** Extra environment of the local Lambda service. */
  bridgeEnvironment?: Record<string, string>;
  overrides?: Record<string, HandlerOverride>;
}

export interface RunningStack {
  spec: StackSpec;
  /** The Docker proxy as seen from the test, to check what it refuses. */
  dockerProxyUrl: string;
  /** The stack id on the function containers' labels. */
  stackId: string;
  bridgeContainerId: string;
  localstack: LocalStack;
  bridgeUrl: string;
  /** A Function URL as the test reaches it (http://127.0.0.1:<mapped port>/), and its signing proxy. */
  functionUrl(fn: string): string;
  signingProxyUrl(fn: string): string;
  functionContainers: Map<string, StartedTestContainer[]>;
  /** Starts `count` more containers of a function and waits until all of them poll for work. */
  addReplicas(name: string, count: number): Promise<void>;
  /** The local Lambda service's logs so far. */
  bridgeLogs(): Promise<string>;
  /** Stops the local Lambda service (SIGTERM) and starts it again, as `docker restart` does. */
  restartBridge(): Promise<void>;
  stop(): Promise<void>;
}

export async function startStack({ replicas = 1, only, stackOverrides, bridgeEnvironment = {}, overrides = {} }: StackOptions = {}): Promise<RunningStack> {
  const { spec, overrides: allOverrides } = testStack(stackOverrides);
  const started = spec.functions.filter((f) => !only || only.includes(f.name));
  const stackId = `test-${randomUUID().slice(0, 8)}`;
  const network: StartedNetwork = await new Network().start();
  const localstack = await startLocalStack(network);
  await bootstrap(localstack.clients, spec, () => undefined);

  const urlFunctions = spec.functions.filter((f) => f.url);
  const dockerProxy = await new GenericContainer(imageOf('bridge'))
    .withNetwork(network)
    .withNetworkAliases('docker-proxy')
    .withLabels({ [LABEL]: 'true' })
    .withEntrypoint(['/usr/local/bin/node', '/var/task/docker-proxy.mjs'])
    .withEnvironment({ STACK_ID: stackId, PORT: '2375' })
    .withExposedPorts(2375)
    .withUser('0:0')
    .withBindMounts([{ source: '/var/run/docker.sock', target: '/var/run/docker.sock' }])
    .withWaitStrategy(Wait.forLogMessage('docker-proxy ready'))
    .start();

  const bridge = await new HardenedContainer(imageOf('bridge'))
    .withNetwork(network)
    .withNetworkAliases('bridge')
    .withLabels({ [LABEL]: 'true' })
    .withEnvironment({
      ...localAwsEnv,
      AWS_ENDPOINT_URL: 'http://localstack:4566',
      DOCKER_PROXY_URL: 'http://docker-proxy:2375',
      ASYNC_RETRY_DELAYS_SECONDS: '1,1',
      STACK_OVERRIDES: JSON.stringify(allOverrides),
      ...bridgeEnvironment,
    })
    .withUser(SANDBOX_USER)
    .withExposedPorts(BRIDGE_PORT, ...urlFunctions.flatMap((f) => [functionUrlPort(f), signingProxyPort(f)]))
    .withWaitStrategy(Wait.forHttp('/health', BRIDGE_PORT))
    .start();
  // Read again after a restart: Docker may publish the port anew.
  const url = () => `http://127.0.0.1:${bridge.getMappedPort(BRIDGE_PORT)}`;

  const functionContainers = new Map<string, StartedTestContainer[]>();
  const startFunction = (fn: FunctionSpec) => {
    const override = overrides[fn.name];
    let container = new FunctionContainer(imageOf(fn.name), fn.memoryMb)
      .withNetwork(network)
      .withLabels({ [LABEL]: 'true', [FUNCTION_LABEL]: fn.name, [STACK_LABEL]: stackId })
      .withEnvironment(functionEnvironment(fn))
      .withTmpFs({ '/tmp': 'rw' })
      .withUser(SANDBOX_USER);
    if (override) {
      container = container
        .withEnvironment({ ...functionEnvironment(fn), LAMBDA_TASK_ROOT: '/opt/test-task', _HANDLER: override.handler })
        .withWorkingDir('/opt/test-task')
        .withCommand([override.handler])
        .withBindMounts([
          { source: override.taskRoot, target: '/opt/test-task', mode: 'ro' },
          ...(override.stateDir ? [{ source: override.stateDir, target: '/state', mode: 'rw' as const }] : []),
        ]);
    }
    return container.start();
  };
  const pollingAtLeast = (counts: Record<string, number>) =>
    eventually(async () => {
      const health = (await (await fetch(`${url()}/health`)).json()) as { functions: Record<string, { idleContainers: number }> };
      return Object.entries(counts).every(([name, n]) => (health.functions[name]?.idleContainers ?? 0) >= n) ? true : undefined;
    }, `function containers polling the bridge (${JSON.stringify(counts)})`, 60_000);
  for (const fn of started) {
    functionContainers.set(fn.name, await Promise.all(Array.from({ length: replicas }, () => startFunction(fn))));
  }
  // Ready when every replica of every started function is polling the bridge for work.
  await pollingAtLeast(Object.fromEntries(started.map((f) => [f.name, replicas])));

  return {
    spec,
    dockerProxyUrl: `http://127.0.0.1:${dockerProxy.getMappedPort(2375)}`,
    stackId,
    bridgeContainerId: bridge.getId(),
    localstack,
    get bridgeUrl() {
      return url();
    },
    functionUrl: (fn) => `http://127.0.0.1:${bridge.getMappedPort(functionUrlPort({ name: fn }))}/`,
    signingProxyUrl: (fn) => `http://127.0.0.1:${bridge.getMappedPort(signingProxyPort({ name: fn }))}/`,
    functionContainers,
    async addReplicas(name, count) {
      const fn = spec.functions.find((f) => f.name === name)!;
      const more = await Promise.all(Array.from({ length: count }, () => startFunction(fn)));
      functionContainers.set(name, [...(functionContainers.get(name) ?? []), ...more]);
      await pollingAtLeast({ [name]: functionContainers.get(name)!.length });
    },
    async bridgeLogs() {
      const chunks: Buffer[] = [];
      const stream = await bridge.logs();
      // Logs of a running container stream on; take what has been written so far.
      return new Promise((resolve) => {
        stream.on('data', (c: Buffer | string) => chunks.push(Buffer.from(c)));
        setTimeout(() => {
          stream.destroy();
          resolve(Buffer.concat(chunks).toString('utf8'));
        }, 500);
      });
    },
    async restartBridge() {
      await bridge.restart({ timeout: 30_000 });
      await eventually(async () => ((await fetch(`${url()}/health`).catch(() => undefined))?.ok ? true : undefined), 'the local Lambda service answering again', 60_000);
    },
    async stop() {
      for (const containers of functionContainers.values()) await Promise.allSettled(containers.map((c) => c.stop({ timeout: 1_000 })));
      await bridge.stop({ timeout: 5_000 });
      await dockerProxy.stop({ timeout: 1_000 });
      await localstack.container.stop();
      await network.stop();
    },
  };
}
