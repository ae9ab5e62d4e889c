// The local Lambda service's settings, from its environment, validated once at start with a
// message naming the variable.
import { availableParallelism, totalmem } from 'node:os';
import { z } from 'zod';
import { loadConfig } from '#shared/config';
import { LAMBDA_API_PORT } from './ports';

const seconds = (name: string) =>
  z
    .string()
    .transform((s) => s.split(',').map((p) => Number(p.trim())))
    .refine((d) => d.length > 0 && d.every((n) => Number.isInteger(n) && n >= 0 && n <= 900), `${name} must be comma-separated whole seconds (0-900)`);

/**
 * The account's concurrency, sized for this machine: AWS's default is 1,000 per region; here four
 * per core, and no more than the memory holds at 512 MB each (a burst must not swap the machine).
 */
export const defaultAccountConcurrency = (cores = availableParallelism(), memoryBytes = totalmem()): number =>
  Math.max(2, Math.min(cores * 4, Math.floor(memoryBytes / (512 * 1024 * 1024))));

export const serviceConfigSchema = z.object({
  /** The synthesized template to deploy and run (cdk.out/<stack>.template.json). */
  STACK_TEMPLATE: z.string({ error: 'missing' }).min(1),
  /** The stack's name (default: the template file's name before .template.json). */
  STACK_NAME: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'must be a CloudFormation stack name').optional(),
  LAMBDA_API_PORT: z.coerce.number().int().positive().default(LAMBDA_API_PORT),
  /** Where every endpoint listens: loopback, unless the service runs in a container (0.0.0.0 there). */
  LAMBDA_API_HOST: z.string().default('127.0.0.1'),
  /** The Docker proxy (local-lambda/docker-proxy.ts): functions run in containers it makes. */
  DOCKER_PROXY_URL: z.url({ error: 'must be the Docker proxy\'s URL, e.g. http://docker-proxy:2375' }),
  /** How function containers reach this service's Runtime API (a host name on their network). */
  RUNTIME_API_HOST: z.string().default('local-lambda'),
  /** Where LocalStack answers the service (and, with IAM_MODE=off, the functions). */
  FUNCTION_ENDPOINT_URL: z.url().default('http://localstack:4566'),
  /** How a browser on the developer's machine reaches AWS (presigned URLs): the checking endpoint's published port. */
  PUBLIC_ENDPOINT_URL: z.url().default('http://127.0.0.1:4567'),
  /**
   * Each function runs as its role from the template: enforce (AWS's AccessDenied), warn (logs what
   * AWS would refuse, lets it through), off (functions reach LocalStack directly, unchecked).
   */
  IAM_MODE: z.enum(['enforce', 'warn', 'off'], { error: 'must be enforce, warn or off' }).default('enforce'),
  /** The account's concurrent executions (AWS: 1,000); reservations come out of it. */
  ACCOUNT_CONCURRENCY: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(2, 'must be at least 2').max(10_000).default(defaultAccountConcurrency())),
  /** An environment idle this long is removed (AWS keeps them for minutes, unpredictably; suites: seconds). */
  IDLE_ENVIRONMENT_SECONDS: z.coerce.number().positive().max(86_400).default(300),
  /** Lambda's limit on an on-demand init: 10 s (then the init is retried inside the invocation). */
  INIT_TIMEOUT_SECONDS: z.coerce.number().positive().max(900).default(10),
  /** The tag of the function images built locally (`make build` tags `latest`). */
  IMAGE_TAG: z.string().regex(/^[\w][\w.-]{0,127}$/).default('latest'),
  /** Delays before the retries of a failed Event invocation (AWS waits about 1 and 2 minutes). */
  ASYNC_RETRY_DELAYS_SECONDS: seconds('ASYNC_RETRY_DELAYS_SECONDS').default([60, 120]),
  /**
   * Host names the endpoints answer to besides loopback (comma-separated), e.g. the address of a
   * Docker VM whose ports you reach by IP. Any other Host is refused (DNS rebinding).
   */
  ALLOWED_HOST_NAMES: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean))
    .refine((names) => names.every((n) => /^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/.test(n)), 'must be comma-separated host names or addresses (no ports)'),
  /** A client must send a request's headers within this (then its socket is closed). */
  REQUEST_HEADERS_TIMEOUT_SECONDS: z.coerce.number().positive().max(300).default(10),
  /** ...and the whole request, body included (the checking endpoint streams uploads: no limit there). */
  REQUEST_TIMEOUT_SECONDS: z.coerce.number().positive().max(3_600).default(60),
  /** Request bodies held in memory at once across the endpoints; beyond it an invocation answers 429. */
  REQUEST_BODIES_MAX_MB: z.coerce.number().int().min(6).max(16_384).default(128),
  /** Function logs, AWS/Lambda and EMF metrics into LocalStack's CloudWatch Logs and CloudWatch (its `logs` and `cloudwatch` services). */
  CLOUDWATCH: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().nonnegative().default(25_000),
  /** make dev: POST /dev/reload/<function> replaces its environments (new bundle). */
  LOCAL_DEV_RELOAD: z.enum(['true', 'false', '']).default('').transform((v) => v === 'true'),
  AWS_REGION: z.string().default('us-east-1'),
  /** LocalStack's account. */
  AWS_ACCOUNT_ID: z.string().regex(/^\d{12}$/).default('000000000000'),
});

export type ServiceConfig = z.infer<typeof serviceConfigSchema>;

export const loadServiceConfig = (env: Record<string, string | undefined> = process.env): ServiceConfig => loadConfig(serviceConfigSchema, env);
