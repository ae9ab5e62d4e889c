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

export interface RunningStack {
  localstack: LocalStack;
  bridgeUrl: string;
  functionContainers: Map<string, StartedTestContainer[]>;
  stop(): Promise<void>;
}

export async function startStack({ replicas = 1 }: { replicas?: number } = {}): Promise<RunningStack> {
  const network: StartedNetwork = await new Network().start();
  const localstack = await startLocalStack(network);
  await bootstrap(localstack.clients, () => undefined);

  const bridge = await new GenericContainer(imageOf('bridge'))
    .withNetwork(network)
    .withNetworkAliases('bridge')
    .withLabels({ [LABEL]: 'true' })
    .withEnvironment({ ...localAwsEnv, AWS_ENDPOINT_URL: 'http://localstack:4566', ASYNC_RETRY_DELAYS_MS: '200,400' })
    .withUser('0:0')
    .withBindMounts([{ source: '/var/run/docker.sock', target: '/var/run/docker.sock' }])
    .withExposedPorts(BRIDGE_PORT)
    .withWaitStrategy(Wait.forHttp('/health', BRIDGE_PORT))
    .start();
  const bridgeUrl = `http://127.0.0.1:${bridge.getMappedPort(BRIDGE_PORT)}`;

  const functionContainers = new Map<string, StartedTestContainer[]>();
  const startFunction = (fn: FunctionSpec) =>
    new FunctionContainer(imageOf(fn.name))
      .withNetwork(network)
      .withLabels({ [LABEL]: 'true', 'lambda-pipelines.function': fn.name })
      .withEnvironment(functionEnvironment(fn))
      .withTmpFs({ '/tmp': 'rw' })
      .withUser('993:993')
      .start();
  for (const fn of functions) {
    functionContainers.set(fn.name, await Promise.all(Array.from({ length: replicas }, () => startFunction(fn))));
  }
  // Ready when every replica of every function is polling the bridge for work.
  await eventually(async () => {
    const health = (await (await fetch(`${bridgeUrl}/health`)).json()) as { functions: Record<string, { idleContainers: number }> };
    return functions.every((f) => (health.functions[f.name]?.idleContainers ?? 0) >= replicas) ? true : undefined;
  }, 'every function container polling the bridge', 60_000);

  return {
    localstack,
    bridgeUrl,
    functionContainers,
    async stop() {
      for (const containers of functionContainers.values()) await Promise.allSettled(containers.map((c) => c.stop({ timeout: 1_000 })));
      await bridge.stop({ timeout: 5_000 });
      await localstack.container.stop();
      await network.stop();
    },
  };
}
