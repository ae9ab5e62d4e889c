// The one place a function container's spec is made: what the Docker proxy sends to Docker when the
// local Lambda service asks for an environment of a function. The request names the function and
// what Lambda itself varies per function (image, memory, architecture, environment, handler, /tmp
// size); the proxy decides everything that keeps the machine safe from it: an image labelled as one
// of this project's function images, Lambda's sandbox user, a read-only root, no capabilities, no
// privilege gain, a pids limit, memory without swap, CPU in proportion to memory as Lambda gives it,
// /tmp on its own volume of the ephemeral storage size, no other mounts, no published ports, the
// stack's labels and the environment's own network. Pure: validated and built here, sent by
// docker-proxy.ts.
import { z } from 'zod';

/** Set by docker/Dockerfile on every function image (value: the function folder): no other image runs. */
export const FUNCTION_IMAGE_LABEL = 'lambda-pipelines.function-image';
export const STACK_LABEL = 'lambda-pipelines.stack';
export const FUNCTION_LABEL = 'lambda-pipelines.function';
/** On the environment's container: its own network and its /tmp volume, removed with it. */
export const NETWORK_LABEL = 'lambda-pipelines.network';
export const SCRATCH_LABEL = 'lambda-pipelines.scratch';
/** On the containers an environment's network connects to it (value: the host name it knows them by). */
export const PEER_LABEL = 'lambda-pipelines.peer';

/** Lambda: "At 1,769 MB, a function has the equivalent of one vCPU". */
export const MB_PER_VCPU = 1769;
/**
 * The init phase runs faster than the handler at small memory sizes: measured on AWS (2 vCPUs
 * unthrottled during an on-demand init), not documented by AWS; the init gets them here too.
 */
export const INIT_VCPUS = 2;

/** CPU in Docker's NanoCpus: `vcpus` capped at the machine's cores. */
export const nanoCpus = (vcpus: number, cores: number): number => Math.round(Math.min(vcpus, cores) * 1e9);

/** A function's CPU share when it runs its handler: MemorySize / 1769 vCPU. */
export const invokeVcpus = (memoryMb: number): number => memoryMb / MB_PER_VCPU;

/** Lambda's sandbox user: Lambda ignores an image's USER; uid 993 like its sbx_user1051. */
export const SANDBOX_USER = '993:993';
/** Enough processes for node and libvips' threads, not for a fork bomb. */
export const PIDS_LIMIT = 256;

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const IMAGE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?$/;
const MAX_ENVIRONMENT_BYTES = 64 * 1024;

export const environmentRequestSchema = z
  .object({
    function: z.string().regex(NAME, 'must be a Lambda function name (letters, digits, - and _, at most 64)'),
    image: z.string().regex(IMAGE, 'must be a local image reference (repository[:tag])'),
    memoryMb: z.number().int().min(128, 'Lambda allows 128-10240 MB').max(10_240, 'Lambda allows 128-10240 MB'),
    ephemeralStorageMb: z.number().int().min(512, 'Lambda allows 512-10240 MB').max(10_240, 'Lambda allows 512-10240 MB').default(512),
    architecture: z.enum(['x86_64', 'arm64']).default('x86_64'),
    environment: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not a valid variable name'), z.string()).default({}),
    command: z.array(z.string().max(4096)).max(32).optional(),
    entryPoint: z.array(z.string().max(4096)).max(32).optional(),
    workingDirectory: z.string().regex(/^\/[\w./-]*$/, 'must be an absolute path').optional(),
  })
  .strict()
  .refine((r) => Object.entries(r.environment).reduce((n, [k, v]) => n + k.length + v.length, 0) <= MAX_ENVIRONMENT_BYTES, { message: `the environment is over ${MAX_ENVIRONMENT_BYTES} bytes` });

export type EnvironmentRequest = z.input<typeof environmentRequestSchema>;

export interface ProxyConfig {
  socketPath: string;
  /** The value of the stack label of every container this proxy makes and touches. */
  stackId: string;
  /** More labels for every container, network and volume (e.g. the suites' cleanup label). */
  extraLabels: Record<string, string>;
  /** The IPv4 pool the environments' /28 networks are taken from (ENVIRONMENT_SUBNETS). */
  subnetPool: string;
  /** Where the files behind the /tmp volumes live. */
  scratchDir: string;
  /** A static busybox (mke2fs, losetup, mount) for the /tmp volumes. */
  busybox: string;
  /** The machine's cores (default: what the proxy sees): CPU shares are capped there. */
  cores?: number;
  /** make dev: a host folder whose `<function folder>/` holds a fresh bundle, mounted read-only at /var/task/dev. */
  devBundles?: string;
}

/** Checks a request; throws one sentence naming every problem. */
export function parseEnvironmentRequest(body: unknown): z.output<typeof environmentRequestSchema> {
  const parsed = environmentRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new Error(`not an environment the proxy makes: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'the request'} ${i.message}`).join('; ')}`);
}

/** Where the environment lives: its own network, its /tmp, the machine's cores. */
export interface Placement {
  network: string;
  /** The /tmp volume (ext2 of the ephemeral storage size); undefined: a tmpfs (counted as memory). */
  scratchVolume?: string;
  cores: number;
}

/** Docker's container-create body for an environment of `request`, as this proxy makes every one. */
export function containerSpec(request: z.output<typeof environmentRequestSchema>, config: ProxyConfig, imageFunction: string, placement: Placement): Record<string, unknown> {
  const memory = request.memoryMb * 1024 * 1024;
  const dev = config.devBundles && !request.command && !request.entryPoint;
  const environment = { ...request.environment, ...(dev && { _HANDLER: 'dev/handler.handler', NODE_OPTIONS: '--enable-source-maps' }) };
  return {
    Image: request.image,
    User: SANDBOX_USER,
    Env: Object.entries(environment).map(([k, v]) => `${k}=${v}`),
    ...(dev ? { Cmd: ['dev/handler.handler'] } : request.command && { Cmd: request.command }),
    ...(request.entryPoint && { Entrypoint: request.entryPoint }),
    ...(request.workingDirectory && { WorkingDir: request.workingDirectory }),
    Labels: {
      ...config.extraLabels,
      [STACK_LABEL]: config.stackId,
      [FUNCTION_LABEL]: request.function,
      [NETWORK_LABEL]: placement.network,
      ...(placement.scratchVolume && { [SCRATCH_LABEL]: placement.scratchVolume }),
    },
    HostConfig: {
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      Privileged: false,
      PidsLimit: PIDS_LIMIT,
      Memory: memory,
      MemorySwap: memory,
      // The init's CPU; the proxy lowers it to the function's share once the init is over.
      NanoCpus: nanoCpus(Math.max(INIT_VCPUS, invokeVcpus(request.memoryMb)), placement.cores),
      // Only /tmp is writable, as on Lambda: a volume of the function's ephemeral storage size
      // (ENOSPC past it, never counted as memory), or a tmpfs where loop devices are not available.
      ...(placement.scratchVolume
        ? { Mounts: [{ Type: 'volume', Source: placement.scratchVolume, Target: '/tmp' }] }
        : { Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${request.ephemeralStorageMb}m,mode=1777` } }),
      NetworkMode: placement.network,
      RestartPolicy: { Name: 'no' },
      Binds: dev ? [`${config.devBundles!.replace(/\/$/, '')}/${imageFunction}:/var/task/dev:ro`] : [],
      PortBindings: {},
      PublishAllPorts: false,
    },
    NetworkingConfig: { EndpointsConfig: { [placement.network]: {} } },
  };
}
