// The whole local stack for a suite, as `make up` runs it: the CDK app synthesized as a test stack
// (the same app with other settings, or extended by the suite with CDK constructs of its own),
// LocalStack and the local Lambda service on one network, the service and the Docker proxy on
// another, each function environment on its own (made by the proxy). The service deploys the
// template exactly as it deploys `make up`'s, and starts the environments on demand.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenericContainer, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { buildApp, scratchOutdir, synthesize } from '../../infra/app';
import { testConfig, type ConfigChanges } from '../../infra/config';
import type { PipelinesStack, PipelinesStackProps } from '../../infra/pipelines-stack';
import { SANDBOX_USER } from '../../local-lambda/container-spec';
import type { CfnTemplate } from '../../local-lambda/template/template';
import { LOCAL_CREDENTIALS } from '../../toolkit/clients';
import { FUNCTION_LABEL, PEER_LABEL, STACK_LABEL, TEST_LABEL, imageOf } from '../../toolkit/labels';
import { freePort } from '../../toolkit/free-port';
import { CHECKING_ENDPOINT_PORT, FUNCTION_URL_BASE_PORT, LAMBDA_API_PORT, SIGNING_PROXY_BASE_PORT } from '../../toolkit/ports';
import { functionOf, output, readStack, type StackView } from '../../toolkit/stack';
import { eventually } from './docker';
import { startLocalStack, type LocalStack } from './localstack';

export const STACK_NAME = 'LambdaPipelines';

/** A container with the constraints compose applies: read-only root, no capabilities, no privilege gain. */
class HardenedContainer extends GenericContainer {
  constructor(image: string) {
    super(image);
    this.hostConfig.ReadonlyRootfs = true;
    this.hostConfig.CapDrop = ['ALL'];
    this.hostConfig.SecurityOpt = ['no-new-privileges:true'];
  }
}

export interface StackOptions {
  /** The test stack's settings changed, function by function (infra/config.ts). */
  config?: ConfigChanges;
  /** Stand-in handlers: a function folder's image and handler replaced (see ./handlers.ts). */
  handlers?: PipelinesStackProps['handlers'];
  /** CDK added to the stack by the suite before it is synthesized: a trigger, a queue... */
  extend?: (stack: PipelinesStack) => void;
  /** The synthesized template as the suite wants it deployed (a grant removed...). */
  editTemplate?: (template: CfnTemplate) => CfnTemplate;
  /** An environment idle this long is removed (IDLE_ENVIRONMENT_SECONDS; suites: seconds). */
  idleSeconds?: number;
  /** The account's concurrency (ACCOUNT_CONCURRENCY). */
  accountConcurrency?: number;
  /** More environment of the local Lambda service. */
  serviceEnvironment?: Record<string, string>;
  /** More environment of LocalStack (e.g. SQS_CLOUDWATCH_METRICS_REPORT_INTERVAL for a suite that waits on alarms). */
  localstackEnvironment?: Record<string, string>;
}

export interface RunningStack {
  template: CfnTemplate;
  /** The deployed stack as the service describes it: outputs, functions, schedules. */
  view: StackView;
  output(key: string): string;
  /** The function built from functions/<folder>/ (or named so). */
  functionName(folder: string): string;
  localstack: LocalStack;
  lambdaApiUrl: string;
  /** The n-th Function URL as the test reaches it (http://127.0.0.1:<mapped port>/), and its signing proxy. */
  functionUrl(index?: number): string;
  signingProxyUrl(index?: number): string;
  /** The Docker proxy as seen from the test, to check what it refuses. */
  dockerProxyUrl: string;
  /** The stack label on the function containers. */
  stackId: string;
  serviceContainerId: string;
  /** The ids of a function's running environments (containers). */
  environments(folder: string): string[];
  /** Waits until the service has deployed the stack. */
  ready(): Promise<void>;
  /** The service's /health. */
  health(): Promise<ServiceHealth>;
  serviceLogs(): Promise<string>;
  /** Stops the local Lambda service (SIGTERM) and starts it again, as `docker restart` does. */
  restartService(): Promise<void>;
  /** Deploys another template, as `make up` after a change does (the service restarts on it). */
  useTemplate(template: CfnTemplate): Promise<void>;
  stop(): Promise<void>;
}

/** Synthesizes the suite's test stack and writes its template where the service can read it. */
export function synthTestStack(options: Pick<StackOptions, 'config' | 'handlers' | 'extend' | 'editTemplate'> = {}): { template: CfnTemplate; dir: string } {
  const built = buildApp({ config: testConfig(options.config), images: {}, stackName: STACK_NAME, outdir: scratchOutdir(), ...(options.handlers && { handlers: options.handlers }) });
  options.extend?.(built.pipelines);
  const synthesized = synthesize(built) as unknown as CfnTemplate;
  const template = options.editTemplate ? options.editTemplate(structuredClone(synthesized)) : synthesized;
  const dir = mkdtempSync(join(tmpdir(), 'test-stack-'));
  writeFileSync(join(dir, `${STACK_NAME}.template.json`), JSON.stringify(template));
  // The service runs as Lambda's sandbox user: the folder and the file must be readable by it.
  chmodSync(dir, 0o755);
  chmodSync(join(dir, `${STACK_NAME}.template.json`), 0o644);
  return { template, dir };
}

export interface ServiceHealth {
  status: string;
  error?: string;
  account: { concurrency: number; unreservedAvailable: number; environments: number };
  limits: { tmp: { kind: string; why?: string } };
  functions: Record<string, { environments: { starting: number; idle: number; busy: number }; coldStarts: number; throttles: number; waiting: number; reservedConcurrency?: number; initError?: { errorType: string; errorMessage: string }; startError?: string }>;
}

/** The Docker proxy as compose runs it: root with the socket, CAP_SYS_ADMIN and the loop devices for /tmp, nothing else. */
class DockerProxyContainer extends HardenedContainer {
  constructor(image: string, scratchVolume: string) {
    super(image);
    this.hostConfig.CapAdd = ['SYS_ADMIN'];
    this.hostConfig.DeviceCgroupRules = ['b 7:* rwm', 'c 10:237 rwm'];
    this.hostConfig.SecurityOpt = ['no-new-privileges:true', 'apparmor=unconfined'];
    this.hostConfig.Mounts = [{ Type: 'volume', Source: scratchVolume, Target: '/var/lib/lambda-scratch' }];
  }
}

export async function startDockerProxy(network: StartedNetwork, stackId: string, environment: Record<string, string> = {}): Promise<{ container: StartedTestContainer; scratchVolume: string }> {
  const scratchVolume = `${stackId}-scratch`;
  execFileSync('docker', ['volume', 'create', '--label', `${TEST_LABEL}=true`, scratchVolume], { stdio: 'ignore' });
  const proxy = new DockerProxyContainer(imageOf('local-lambda'), scratchVolume)
    .withNetwork(network)
    .withNetworkAliases('docker-proxy')
    .withLabels({ [TEST_LABEL]: 'true' })
    .withEntrypoint(['/usr/local/bin/node', '/var/task/docker-proxy.mjs'])
    .withEnvironment({ STACK_ID: stackId, CONTAINER_LABELS: JSON.stringify({ [TEST_LABEL]: 'true' }), PORT: '2375', HOST: '0.0.0.0', ...environment })
    .withExposedPorts(2375)
    .withUser('0:0')
    .withBindMounts([
      { source: '/var/run/docker.sock', target: '/var/run/docker.sock' },
      { source: '/dev', target: '/dev' },
    ])
    .withWaitStrategy(Wait.forLogMessage('docker-proxy ready'));
  return { container: await proxy.start(), scratchVolume };
}

/**
 * The local Lambda service's container, joined to the control network before it starts (as compose
 * does): joined later, Docker may move its published ports, which the suite has already read.
 */
class ServiceContainer extends HardenedContainer {
  constructor(
    image: string,
    private readonly control: StartedNetwork,
  ) {
    super(image);
  }

  protected override async containerCreated(containerId: string): Promise<void> {
    execFileSync('docker', ['network', 'connect', this.control.getName(), containerId], { stdio: 'ignore' });
  }
}

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const { template, dir } = synthTestStack(options);
  const stackId = `test-${randomUUID().slice(0, 8)}`;
  const peer = (name: string) => ({ [STACK_LABEL]: stackId, [PEER_LABEL]: name });
  // LocalStack and the service on one network, the service and the proxy on another.
  const services: StartedNetwork = await new Network().start();
  const control: StartedNetwork = await new Network().start();
  const localstack = await startLocalStack(services, peer('localstack'), options.localstackEnvironment);
  const { container: dockerProxy, scratchVolume } = await startDockerProxy(control, stackId);

  const ports = [LAMBDA_API_PORT, FUNCTION_URL_BASE_PORT, SIGNING_PROXY_BASE_PORT];
  // The checking endpoint on a host port known before the start: presigned URLs name it.
  const checkingPort = await freePort();
  const service = await new ServiceContainer(imageOf('local-lambda'), control)
    .withNetwork(services)
    .withNetworkAliases('local-lambda')
    .withLabels({ [TEST_LABEL]: 'true', ...peer('local-lambda') })
    .withEnvironment({
      STACK_TEMPLATE: `/var/lambda-stack/${STACK_NAME}.template.json`,
      LAMBDA_API_HOST: '0.0.0.0',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL: 'http://localstack:4566',
      DOCKER_PROXY_URL: 'http://docker-proxy:2375',
      RUNTIME_API_HOST: 'local-lambda',
      FUNCTION_ENDPOINT_URL: 'http://localstack:4566',
      // Presigned URLs for the suite's browser: the checking endpoint as the test process reaches it.
      PUBLIC_ENDPOINT_URL: `http://127.0.0.1:${checkingPort}`,
      ASYNC_RETRY_DELAYS_SECONDS: '1,1',
      IDLE_ENVIRONMENT_SECONDS: String(options.idleSeconds ?? 120),
      ...(options.accountConcurrency && { ACCOUNT_CONCURRENCY: String(options.accountConcurrency) }),
      SHUTDOWN_GRACE_MS: '5000',
      ...options.serviceEnvironment,
    })
    .withBindMounts([{ source: dir, target: '/var/lambda-stack', mode: 'ro' }])
    .withUser(SANDBOX_USER)
    .withExposedPorts(...ports, { container: CHECKING_ENDPOINT_PORT, host: checkingPort })
    // /health answers from the first second; ready() waits for the deploy (no shell in the image to check ports).
    // Host named: the service answers only to loopback names (request-guard.ts), whatever host Docker's ports are on.
    .withWaitStrategy(Wait.forHttp('/health', LAMBDA_API_PORT).withHeaders({ host: '127.0.0.1' }))
    .start();
  // Read again after a restart: Docker may publish the ports anew.
  const url = () => `http://127.0.0.1:${service.getMappedPort(LAMBDA_API_PORT)}`;

  const restartService = async () => {
    await service.restart({ timeout: 30_000 });
    await ready();
    view = await readStack(url());
  };

  // Everything the service has written so far (docker logs: whole, however long the run).
  const logs = async (): Promise<string> => {
    const out = spawnSync('docker', ['logs', service.getId()], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
    return `${out.stdout}${out.stderr}`;
  };
  const health = async (): Promise<ServiceHealth> => {
    try {
      return (await (await fetch(`${url()}/health`)).json()) as ServiceHealth;
    } catch (error) {
      throw new Error(`GET ${url()}/health: ${(error as Error).message} (${String((error as { cause?: unknown }).cause)})`);
    }
  };
  /** Deployed: what a suite may start from (no environment runs before the first event). */
  const ready = async (): Promise<void> => {
    const outcome = await eventually(
      async () => {
        const h = await health();
        if (h.status === 'failed') return { failed: h.error ?? 'no reason given' };
        return h.status === 'ok' ? { failed: undefined } : undefined;
      },
      'the local Lambda service to deploy the test stack',
      180_000,
      500,
    ).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}\nthe service's last log lines:\n${(await logs()).split('\n').slice(-25).join('\n')}`);
    });
    if (outcome.failed) throw new DeployFailed(`the local Lambda service could not deploy the test stack: ${outcome.failed}`);
  };
  await ready();
  let view = await readStack(url());

  return {
    template,
    get view() {
      return view;
    },
    output: (key) => output(view, key),
    functionName: (folder) => functionOf(view, folder).name,
    localstack,
    get lambdaApiUrl() {
      return url();
    },
    functionUrl: (index = 0) => `http://127.0.0.1:${service.getMappedPort(FUNCTION_URL_BASE_PORT + index)}/`,
    signingProxyUrl: (index = 0) => `http://127.0.0.1:${service.getMappedPort(SIGNING_PROXY_BASE_PORT + index)}/`,
    dockerProxyUrl: `http://127.0.0.1:${dockerProxy.getMappedPort(2375)}`,
    stackId,
    serviceContainerId: service.getId(),
    environments: (folder) =>
      execFileSync('docker', ['ps', '-q', '--no-trunc', '--filter', `label=${STACK_LABEL}=${stackId}`, '--filter', `label=${FUNCTION_LABEL}=${functionOf(view, folder).name}`], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean),
    ready,
    health,
    serviceLogs: logs,
    restartService,
    async useTemplate(next: CfnTemplate) {
      writeFileSync(join(dir, `${STACK_NAME}.template.json`), JSON.stringify(next));
      await restartService();
    },
    async stop() {
      // SIGTERM: the service removes its environments itself (container, network, /tmp).
      await service.stop({ timeout: 20_000 }).catch(() => undefined);
      // What it could not remove (a suite killed it): removed through the proxy, which cleans up after them.
      const left = execFileSync('docker', ['ps', '-aq', '--no-trunc', '--filter', `label=${STACK_LABEL}=${stackId}`, '--filter', FUNCTION_LABEL_FILTER], { encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const id of left) await fetch(`http://127.0.0.1:${dockerProxy.getMappedPort(2375)}/containers/${id}`, { method: 'DELETE' }).catch(() => undefined);
      await dockerProxy.stop({ timeout: 1_000 });
      await localstack.container.stop();
      for (const name of execFileSync('docker', ['network', 'ls', '-q', '--filter', `label=${STACK_LABEL}=${stackId}`], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
        execFileSync('docker', ['network', 'rm', name], { stdio: 'ignore' });
      }
      await services.stop();
      await control.stop();
      execFileSync('docker', ['volume', 'rm', '-f', scratchVolume], { stdio: 'ignore' });
    },
  };
}

/** The filter of Docker's CLI for every function container. */
const FUNCTION_LABEL_FILTER = `label=${FUNCTION_LABEL}`;

export class DeployFailed extends Error {
  override name = 'DeployFailed';
}

export type { StartedTestContainer };
