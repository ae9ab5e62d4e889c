// Generates docker-compose.yml from the stack description (stack/stack.ts), so compose can never
// drift from it: one service per function with the function's environment, memory and the Runtime
// API of the local Lambda service. `make compose` rewrites the file; a unit test fails when the
// committed file is stale.
//   npx tsx scripts/generate-compose.ts          # write docker-compose.yml
//   npx tsx scripts/generate-compose.ts --check  # exit 1 when docker-compose.yml is stale
import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { functions, REGION, type FunctionSpec } from '#stack';
import { BRIDGE_PORT, runtimeApiAddress } from '../bridge/addresses';

export const COMPOSE_FILE = 'docker-compose.yml';

const LOCALSTACK_URL = 'http://localstack:4566';
const PROJECT = '${PROJECT:-lambda-pipelines}';

/** Build arguments of docker/Dockerfile, with the same public defaults as the Makefile. */
const buildArgs = (fn: string): Record<string, string> => ({
  FUNCTION: fn,
  ARCH: '${ARCH:-x86_64}',
  NODE_BUILD_IMAGE: '${NODE_BUILD_IMAGE:-node:22-bookworm}',
  NODE_RUNTIME_IMAGE: '${NODE_RUNTIME_IMAGE:-node:22-bookworm-slim}',
});

/** Credentials LocalStack accepts; real AWS never sees them. */
export const localAwsEnv = {
  AWS_REGION: REGION,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_ENDPOINT_URL: LOCALSTACK_URL,
};

/** A function container's environment next to LocalStack and the bridge (compose and tests). */
export const functionEnvironment = (fn: FunctionSpec): Record<string, string> => ({
  ...fn.environment,
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
  // The same constraints as on Lambda: read-only root, only /tmp writable, the configured memory.
  read_only: true,
  tmpfs: ['/tmp'],
  mem_limit: `${fn.memoryMb}m`,
  // aws-lambda-ric exits when the Runtime API goes away and the bridge restarts timed-out containers.
  restart: 'unless-stopped',
  labels: { 'lambda-pipelines.function': fn.name },
  depends_on: { bridge: { condition: 'service_healthy' } },
});

export function composeDocument(): Record<string, unknown> {
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
    bridge: {
      image: `${PROJECT}/bridge:latest`,
      build: { context: '.', dockerfile: 'docker/Dockerfile', target: 'bridge', args: buildArgs('bridge') },
      ports: [`127.0.0.1:${BRIDGE_PORT}:${BRIDGE_PORT}`],
      environment: { ...localAwsEnv, BRIDGE_PORT: String(BRIDGE_PORT) },
      // The Docker socket lets the bridge restart a function container after a timeout, as Lambda
      // recycles a timed-out sandbox; uid 0 is needed to open the socket.
      user: '0:0',
      volumes: ['/var/run/docker.sock:/var/run/docker.sock'],
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
      depends_on: { localstack: { condition: 'service_healthy' } },
    },
  };
  for (const fn of functions) services[fn.name] = functionService(fn);
  return { services };
}

export function composeYaml(): string {
  const header = '# GENERATED from stack/stack.ts by scripts/generate-compose.ts (`make compose`): do not edit.\n';
  return header + stringify(composeDocument(), { lineWidth: 0 });
}

function main(): void {
  const wanted = composeYaml();
  if (process.argv.includes('--check')) {
    const current = readFileSync(COMPOSE_FILE, 'utf8');
    if (current !== wanted) {
      console.error(`${COMPOSE_FILE} is stale: run \`make compose\` and commit the result.`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(COMPOSE_FILE, wanted);
  console.log(`wrote ${COMPOSE_FILE} (${functions.length} functions)`);
}

if (process.argv[1]?.endsWith('generate-compose.ts')) main();
