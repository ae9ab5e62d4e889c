// The whole local stack for a suite, as compose runs it: LocalStack, the local Lambda service
// ("bridge") and the function containers on one Docker network, resources bootstrapped from the
// stack description.
import { GenericContainer, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { functions, type FunctionSpec } from '#stack';
import { BRIDGE_PORT } from '../../bridge/addresses';
import { bootstrap } from '../../scripts/bootstrap';
import { functionEnvironment, localAwsEnv } from '../../scripts/generate-compose';
import { LABEL, eventually, imageOf } from './docker';
import { startLocalStack, type LocalStack } from './localstack';

/** A Lambda-like container: read-only root filesystem, only /tmp writable. */
class FunctionContainer extends GenericContainer {
  constructor(image: string) {
    super(image);
    this.hostConfig.ReadonlyRootfs = true;
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
  /** Extra environment of the local Lambda service, e.g. TIMEOUT_OVERRIDES. */
  bridgeEnvironment?: Record<string, string>;
  overrides?: Record<string, HandlerOverride>;
}

export interface RunningStack {
  localstack: LocalStack;
  bridgeUrl: string;
  functionContainers: Map<string, StartedTestContainer[]>;
  /** Starts `count` more containers of a function and waits until all of them poll for work. */
  addReplicas(name: string, count: number): Promise<void>;
  /** The local Lambda service's logs so far. */
  bridgeLogs(): Promise<string>;
  stop(): Promise<void>;
}

export async function startStack({ replicas = 1, only, bridgeEnvironment = {}, overrides = {} }: StackOptions = {}): Promise<RunningStack> {
  const started = functions.filter((f) => !only || only.includes(f.name));
  const network: StartedNetwork = await new Network().start();
  const localstack = await startLocalStack(network);
  await bootstrap(localstack.clients, () => undefined);

  const bridge = await new GenericContainer(imageOf('bridge'))
    .withNetwork(network)
    .withNetworkAliases('bridge')
    .withLabels({ [LABEL]: 'true' })
    .withEnvironment({ ...localAwsEnv, AWS_ENDPOINT_URL: 'http://localstack:4566', ASYNC_RETRY_DELAYS_MS: '200,400', ...bridgeEnvironment })
    .withUser('0:0')
    .withBindMounts([{ source: '/var/run/docker.sock', target: '/var/run/docker.sock' }])
    .withExposedPorts(BRIDGE_PORT)
    .withWaitStrategy(Wait.forHttp('/health', BRIDGE_PORT))
    .start();
  const bridgeUrl = `http://127.0.0.1:${bridge.getMappedPort(BRIDGE_PORT)}`;

  const functionContainers = new Map<string, StartedTestContainer[]>();
  const startFunction = (fn: FunctionSpec) => {
    const override = overrides[fn.name];
    let container = new FunctionContainer(imageOf(fn.name))
      .withNetwork(network)
      .withLabels({ [LABEL]: 'true', 'lambda-pipelines.function': fn.name })
      .withEnvironment(functionEnvironment(fn))
      .withTmpFs({ '/tmp': 'rw' })
      .withUser('993:993');
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
      const health = (await (await fetch(`${bridgeUrl}/health`)).json()) as { functions: Record<string, { idleContainers: number }> };
      return Object.entries(counts).every(([name, n]) => (health.functions[name]?.idleContainers ?? 0) >= n) ? true : undefined;
    }, `function containers polling the bridge (${JSON.stringify(counts)})`, 60_000);
  for (const fn of started) {
    functionContainers.set(fn.name, await Promise.all(Array.from({ length: replicas }, () => startFunction(fn))));
  }
  // Ready when every replica of every started function is polling the bridge for work.
  await pollingAtLeast(Object.fromEntries(started.map((f) => [f.name, replicas])));

  return {
    localstack,
    bridgeUrl,
    functionContainers,
    async addReplicas(name, count) {
      const fn = functions.find((f) => f.name === name)!;
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
    async stop() {
      for (const containers of functionContainers.values()) await Promise.allSettled(containers.map((c) => c.stop({ timeout: 1_000 })));
      await bridge.stop({ timeout: 5_000 });
      await localstack.container.stop();
      await network.stop();
    },
  };
}
