// Generates docker-compose.yml from the stack description (stack/stack.ts), so compose can never
// drift from it: one service per function with the function's environment, memory and the Runtime
// API of the local Lambda service. `make compose` rewrites the file; a unit test fails when the
// committed file is stale.
//   npx tsx scripts/generate-compose.ts          # write docker-compose.yml
//   npx tsx scripts/generate-compose.ts --check  # exit 1 when docker-compose.yml is stale
import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { stack as defaultStack } from '#stack';
import { LOCAL_REGION, localEnvironment, localOnlyEnvironment } from '#stack/local';
import type { FunctionSpec, StackSpec } from '#stack/model';
import { BRIDGE_PORT, functionUrlPort, runtimeApiAddress, signingProxyPort } from '../bridge/addresses';
import { FUNCTION_LABEL, STACK_LABEL } from '../bridge/docker-proxy';

export const COMPOSE_FILE = 'docker-compose.yml';

const LOCALSTACK_URL = 'http://localstack:4566';
const PROJECT = '${PROJECT:-lambda-pipelines}';
/** The value of the stack label on the function containers: what the Docker proxy lets the service touch. */
export const COMPOSE_STACK_ID = 'lambda-pipelines';
const DOCKER_PROXY_PORT = 2375;
/** Lambda's sandbox user: Lambda ignores an image's USER, the local stack sets it explicitly. */
export const SANDBOX_USER = '993:993';
/** Enough processes for node and libvips' threads, not for a fork bomb. */
export const PIDS_LIMIT = 256;

/** Build arguments of docker/Dockerfile, with the same public defaults as the Makefile. */
const buildArgs = (fn: string): Record<string, string> => ({
  FUNCTION: fn,
  ARCH: '${ARCH:-x86_64}',
  NODE_BUILD_IMAGE: '${NODE_BUILD_IMAGE:-node:22-bookworm}',
  NODE_RUNTIME_IMAGE: '${NODE_RUNTIME_IMAGE:-node:22-bookworm-slim}',
});

/** Credentials LocalStack accepts; real AWS never sees them. */
export const localAwsEnv = {
  AWS_REGION: LOCAL_REGION,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_ENDPOINT_URL: LOCALSTACK_URL,
};

/** A function container's environment next to LocalStack and the bridge (compose and tests). */
export const functionEnvironment = (fn: FunctionSpec): Record<string, string> => ({
  ...localOnlyEnvironment(fn),
  ...localEnvironment(fn),
  ...localAwsEnv,
  AWS_LAMBDA_RUNTIME_API: runtimeApiAddress('bridge', fn),
  AWS_LAMBDA_FUNCTION_NAME: fn.name,
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
  AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
  AWS_LAMBDA_LOG_STREAM_NAME: 'local',
});

const functionService = (fn: FunctionSpec) => ({
  image: `${PROJECT}/${fn.name}:latest`,
  build: { context: '.', dockerfile: 'docker/Dockerfile', args: buildArgs(fn.name) },
  environment: functionEnvironment(fn),
  // The same constraints as on Lambda: an unprivileged user, a read-only root with only /tmp
  // writable, the configured memory and no swap beyond it, no capabilities.
  user: SANDBOX_USER,
  read_only: true,
  tmpfs: ['/tmp'],
  mem_limit: `${fn.memoryMb}m`,
  memswap_limit: `${fn.memoryMb}m`,
  pids_limit: PIDS_LIMIT,
  cap_drop: ['ALL'],
  security_opt: ['no-new-privileges:true'],
  // aws-lambda-ric exits when the Runtime API goes away and the service restarts timed-out containers.
  restart: 'unless-stopped',
  labels: { [FUNCTION_LABEL]: fn.name, [STACK_LABEL]: COMPOSE_STACK_ID },
  depends_on: { bridge: { condition: 'service_healthy' } },
});

export function composeDocument(stack: StackSpec = defaultStack): Record<string, unknown> {
  const services: Record<string, unknown> = {
    localstack: {
      image: '${LOCALSTACK_IMAGE:-localstack/localstack:4.14.0}',
      ports: ['127.0.0.1:4566:4566'],
      environment: {
        // Empty unless you set it: 4.14.0 starts without a token; newer images need one.
        LOCALSTACK_AUTH_TOKEN: '${LOCALSTACK_AUTH_TOKEN:-}',
        SERVICES: 's3,sqs,sns,dynamodb,dynamodbstreams',
        // Queue URLs as http://<endpoint>/<account>/<queue>: they resolve from every container.
        SQS_ENDPOINT_STRATEGY: 'path',
        // DynamoDB Local's own streams: no npm download at first use.
        PROVIDER_OVERRIDE_DYNAMODBSTREAMS: 'v2',
      },
      healthcheck: {
        test: [
          'CMD',
          'python3',
          '-c',
          "import urllib.request; urllib.request.urlopen('http://127.0.0.1:4566/_localstack/health', timeout=3)",
        ],
        interval: '2s',
        timeout: '5s',
        retries: 60,
      },
    },
    // The only holder of the Docker socket: it lets the service list, watch and restart this
    // stack's function containers, and nothing else (bridge/docker-proxy.ts).
    'docker-proxy': {
      image: `${PROJECT}/bridge:latest`,
      entrypoint: ['/usr/local/bin/node', '/var/task/docker-proxy.mjs'],
      environment: { STACK_ID: COMPOSE_STACK_ID, PORT: String(DOCKER_PROXY_PORT) },
      user: '0:0',
      read_only: true,
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
      volumes: ['/var/run/docker.sock:/var/run/docker.sock'],
      restart: 'unless-stopped',
    },
    bridge: {
      image: `${PROJECT}/bridge:latest`,
      build: { context: '.', dockerfile: 'docker/Dockerfile', target: 'bridge', args: buildArgs('bridge') },
      // The Lambda API; each Function URL, and the signing proxy a browser opens it through.
      ports: [
        `127.0.0.1:${BRIDGE_PORT}:${BRIDGE_PORT}`,
        ...stack.functions.filter((f) => f.url).flatMap((f) => [functionUrlPort(f), signingProxyPort(f)].map((p) => `127.0.0.1:${p}:${p}`)),
      ],
      environment: {
        ...localAwsEnv,
        BRIDGE_PORT: String(BRIDGE_PORT),
        DOCKER_PROXY_URL: `http://docker-proxy:${DOCKER_PROXY_PORT}`,
        PROJECT: '${PROJECT:-lambda-pipelines}',
        // Layered over the stack description, as the suites do; empty: the stack as written.
        STACK_OVERRIDES: '${STACK_OVERRIDES:-}',
      },
      // A non-root service on a read-only root: it reaches Docker only through docker-proxy.
      user: SANDBOX_USER,
      read_only: true,
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
      restart: 'unless-stopped',
      healthcheck: {
        test: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${BRIDGE_PORT}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ],
        interval: '2s',
        timeout: '5s',
        retries: 30,
      },
      depends_on: { localstack: { condition: 'service_healthy' }, 'docker-proxy': { condition: 'service_started' } },
    },
  };
  for (const fn of stack.functions) services[fn.name] = functionService(fn);
  return { services };
}

/** `make dev` runs each function's bundle from .cache/dev/<fn>/, rebuilt on save (scripts/dev.ts). */
export const DEV_COMPOSE_FILE = 'docker-compose.dev.yml';
export const devBundleDir = (fn: string): string => `.cache/dev/${fn}`;
/** Inside /var/task, so that the bundle still finds the image's node_modules (sharp). */
const DEV_HANDLER = 'dev/handler.handler';

/** The override `make dev` layers over docker-compose.yml: mounted bundles, reloads allowed. */
export function composeDevDocument(stack: StackSpec = defaultStack): Record<string, unknown> {
  const services: Record<string, unknown> = { bridge: { environment: { LOCAL_DEV_RELOAD: 'true' } } };
  for (const fn of stack.functions) {
    services[fn.name] = {
      command: [DEV_HANDLER],
      environment: { _HANDLER: DEV_HANDLER, NODE_OPTIONS: '--enable-source-maps' },
      volumes: [`./${devBundleDir(fn.name)}:/var/task/dev:ro`],
    };
  }
  return { services };
}

const HEADER = '# GENERATED from stack/stack.ts by scripts/generate-compose.ts (`make compose`): do not edit.\n';

export function composeYaml(): string {
  return HEADER + stringify(composeDocument(), { lineWidth: 0 });
}

export function composeDevYaml(): string {
  return `${HEADER}# \`make dev\` layers it over docker-compose.yml (COMPOSE_FILE=docker-compose.yml:docker-compose.dev.yml).\n${stringify(composeDevDocument(), { lineWidth: 0 })}`;
}

function main(): void {
  for (const [file, wanted] of [
    [COMPOSE_FILE, composeYaml()],
    [DEV_COMPOSE_FILE, composeDevYaml()],
  ] as const) {
    if (process.argv.includes('--check')) {
      if (readFileSync(file, 'utf8') !== wanted) {
        console.error(`${file} is stale: run \`make compose\` and commit the result.`);
        process.exit(1);
      }
      continue;
    }
    writeFileSync(file, wanted);
    console.log(`wrote ${file} (${defaultStack.functions.length} functions)`);
  }
}

if (process.argv[1]?.endsWith('generate-compose.ts')) main();
