// "Local Lambda service vs peers": the same image (audit, with an event that needs no AWS, so only
// the platform is measured) run by our local Lambda service, `sam local start-lambda --warm-containers
// EAGER`, `sam local invoke` and MiniStack, each started by the bench on 127.0.0.1. Cold and warm
// invoke latency, throughput with 8 concurrent clients, resident memory of each idle stack. A peer
// that cannot run is reported with its reason, not dropped.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionEnvironment } from '../../local-lambda/function-environment';
import { readTemplate } from '../../local-lambda/template/template';
import { COMPOSE_PROJECT } from '../../toolkit/compose';
import { freePort } from '../../toolkit/free-port';
import { FUNCTION_LABEL, imageOf, STACK_LABEL } from '../../toolkit/labels';
import { offlineAnswer, offlineCases } from '../../toolkit/offline-events';
import { LAMBDA_API_URL } from '../../toolkit/ports';
import { samLogicalId, samTemplate } from '../../toolkit/sam-template';
import { functionOf, readStack } from '../../toolkit/stack';
import { offlinePlan, planFunction } from '../../toolkit/template-plan';
import { keepAliveClient } from './http-client';
import { percentile, table, verdict } from './stats';

const FUNCTION = 'audit';
const EVENT = Buffer.from(JSON.stringify(offlineCases[FUNCTION]!.event));
const EXPECTED = JSON.stringify(offlineAnswer(FUNCTION));
const cliEnv = { ...process.env, SAM_CLI_TELEMETRY: '0', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1', AWS_REGION: 'us-east-1' };

export interface PeerOptions {
  warmCalls: number;
  coldCalls: number;
  throughputSeconds: number;
}

interface Figures {
  cold?: number[];
  warm?: number[];
  throughput?: number;
  idleMemoryMb?: number;
  note?: string;
}

/** Posts to the Invoke API every peer speaks (`POST /2015-03-31/functions/<name>/invocations`). */
interface InvokeClient {
  invoke(name: string): Promise<{ status: number; error: string | undefined; body: string }>;
  destroy(): void;
}

function lambdaAt(endpoint: string): InvokeClient {
  const client = keepAliveClient();
  return {
    invoke: async (name) => {
      const answer = await client.send(new URL(`/2015-03-31/functions/${name}/invocations`, endpoint).href, 'POST', {}, EVENT);
      return { status: answer.status, error: answer.headers['x-amz-function-error'] as string | undefined, body: answer.body };
    },
    destroy: () => client.destroy(),
  };
}
const tool = (name: string) => execFileSync('scripts/python-tools.sh', [name], { encoding: 'utf8' }).trim();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One invocation, checked; its time in ms. */
async function timedInvoke(lambda: InvokeClient, name: string): Promise<number> {
  const started = performance.now();
  const out = await lambda.invoke(name);
  const elapsed = performance.now() - started;
  let same = false;
  try {
    same = JSON.stringify(JSON.parse(out.body)) === EXPECTED;
  } catch {
    // not JSON
  }
  if (out.status !== 200 || out.error || !same) throw new Error(`${name} answered ${out.status} ${out.error ?? ''} ${out.body.slice(0, 200)}`);
  return elapsed;
}

async function warmLatencies(lambda: InvokeClient, name: string, calls: number): Promise<number[]> {
  for (let i = 0; i < 5; i++) await timedInvoke(lambda, name); // warm-up, not counted
  const times: number[] = [];
  for (let i = 0; i < calls; i++) times.push(await timedInvoke(lambda, name));
  return times;
}

/** Invocations per second with 8 clients calling back to back for `seconds`. */
async function throughput(lambda: InvokeClient, name: string, seconds: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (performance.now() < until) {
        await timedInvoke(lambda, name);
        done++;
      }
    }),
  );
  return done / seconds;
}

const docker = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();

/** Resident memory of containers (docker stats) plus host processes (their RSS), in MB. */
function residentMb(containers: string[], pids: number[] = []): number {
  let bytes = 0;
  if (containers.length > 0) {
    for (const line of docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', ...containers]).split('\n')) {
      const [used = '0'] = line.split('/');
      const m = /([\d.]+)\s*([KMG]i?B)/.exec(used.trim());
      if (m) bytes += Number(m[1]) * ({ KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, KB: 1e3, MB: 1e6, GB: 1e9 }[m[2]!] ?? 1);
    }
  }
  for (const pid of pids) {
    for (const p of [pid, ...childPids(pid)]) {
      try {
        const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1];
        bytes += Number(kb ?? 0) * 1024;
      } catch {
        // gone
      }
    }
  }
  return bytes / 2 ** 20;
}

function childPids(pid: number): number[] {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return kids.flatMap((k) => [k, ...childPids(k)]);
  } catch {
    return [];
  }
}

const composeContainers = (service: string) => docker(['ps', '-q', '--filter', `label=com.docker.compose.project=${COMPOSE_PROJECT}`, '--filter', `label=com.docker.compose.service=${service}`]).split('\n').filter(Boolean);
/** The environments (containers) of a function of `make up`'s stack; all of them without a name. */
const environments = (name?: string) =>
  docker(['ps', '-q', '--filter', `label=${STACK_LABEL}=${COMPOSE_PROJECT}`, ...(name ? ['--filter', `label=${FUNCTION_LABEL}=${name}`] : [])]).split('\n').filter(Boolean);

/** The service's count of a function's environments. */
async function environmentCount(name: string): Promise<number> {
  const health = (await (await fetch(`${LAMBDA_API_URL}/health`)).json()) as { functions: Record<string, { environments: { starting: number; idle: number; busy: number } }> };
  const e = health.functions[name]!.environments;
  return e.starting + e.idle + e.busy;
}

/** Ours: the stack `make up` runs, through its Invoke API; environments on demand. */
async function ours(options: PeerOptions): Promise<Figures> {
  const name = functionOf(await readStack(), FUNCTION).name;
  const lambda = lambdaAt(LAMBDA_API_URL);
  try {
    const warm = await warmLatencies(lambda, name, options.warmCalls);
    // Cold: the function's environments removed (and the service seeing them gone); the event starts a new one.
    const cold: number[] = [];
    for (let i = 0; i < options.coldCalls; i++) {
      for (const container of environments(name)) docker(['rm', '-f', container]);
      const deadline = Date.now() + 30_000;
      while ((await environmentCount(name)) > 0) {
        if (Date.now() > deadline) throw new Error(`the service still counts environments of ${name} 30 s after they were removed`);
        await sleep(50);
      }
      const started = performance.now();
      await timedInvoke(lambda, name);
      cold.push(performance.now() - started);
    }
    const warmEnvironments = environments();
    const idleMemoryMb = residentMb([...composeContainers('local-lambda'), ...composeContainers('docker-proxy'), ...warmEnvironments]);
    // 8 clients: the service starts up to 8 environments (within the account's concurrency).
    return {
      cold,
      warm,
      throughput: await throughput(lambda, name, options.throughputSeconds),
      idleMemoryMb,
      note: `${warmEnvironments.length} environment${warmEnvironments.length === 1 ? '' : 's'} warm when measured; the function runs at its CPU share (${functionOf(await readStack(), FUNCTION).memoryMb} MB / 1,769 of a vCPU), the peers on every core`,
    };
  } finally {
    lambda.destroy();
  }
}

/** The function's environment as the stack's template gives it (beside LocalStack on 127.0.0.1). */
const peerEnvironment = () => {
  const fn = planFunction(offlinePlan(readTemplate(`cdk.out/${process.env.STACK_NAME ?? 'LambdaPipelines'}.template.json`)), FUNCTION);
  return { fn, environment: functionEnvironment(fn, { region: 'us-east-1', endpointUrl: 'http://127.0.0.1:4566' }) };
};

function samTemplateFile(dir: string): string {
  const file = join(dir, 'template.yaml');
  const { fn, environment } = peerEnvironment();
  writeFileSync(file, samTemplate([fn], { image: () => imageOf(FUNCTION), environment: () => environment }));
  return file;
}

/** sam local start-lambda --warm-containers EAGER: warm latency and throughput. */
async function samStartLambda(options: PeerOptions, dir: string): Promise<Figures> {
  const bin = tool('sam');
  const port = await freePort();
  const sam: ChildProcess = spawn(join(bin, 'sam'), ['local', 'start-lambda', '--template', samTemplateFile(dir), '--port', String(port), '--warm-containers', 'EAGER', '--skip-pull-image'], {
    env: cliEnv,
    cwd: dir,
    stdio: 'ignore',
  });
  const lambda = lambdaAt(`http://127.0.0.1:${port}`);
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        await timedInvoke(lambda, samLogicalId(FUNCTION));
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`sam local start-lambda never answered: ${(error as Error).message}`);
        await sleep(500);
      }
    }
    const warm = await warmLatencies(lambda, samLogicalId(FUNCTION), options.warmCalls);
    const containers = docker(['ps', '-q', '--filter', `ancestor=${imageOf(FUNCTION).replace(':latest', ':rapid-x86_64')}`]).split('\n').filter(Boolean);
    const idleMemoryMb = residentMb(containers, [sam.pid!]);
    return { warm, throughput: await throughput(lambda, samLogicalId(FUNCTION), options.throughputSeconds), idleMemoryMb };
  } finally {
    lambda.destroy();
    sam.kill('SIGTERM');
  }
}

/** sam local invoke: every call a new container (cold by design). */
function samLocalInvoke(options: PeerOptions, dir: string): Figures {
  return { cold: samLocalInvokeCold(options.coldCalls, dir) };
}

/** `calls` runs of `sam local invoke` on the audit image, each timed whole (ms). */
export function samLocalInvokeCold(calls: number, dir: string): number[] {
  const bin = tool('sam');
  const template = samTemplateFile(dir);
  const eventFile = join(dir, 'event.json');
  writeFileSync(eventFile, EVENT);
  const cold: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    const out = execFileSync(join(bin, 'sam'), ['local', 'invoke', samLogicalId(FUNCTION), '--template', template, '--event', eventFile, '--skip-pull-image'], {
      encoding: 'utf8',
      env: cliEnv,
      cwd: dir,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    cold.push(performance.now() - started);
    if (!out.includes('batchItemFailures')) throw new Error(`sam local invoke answered ${out.slice(-200)}`);
  }
  return cold;
}

/** MiniStack: create-function --package-type Image, first invoke cold, then warm. */
async function ministack(options: PeerOptions, dir: string): Promise<Figures> {
  const bin = tool('ministack');
  const port = await freePort();
  const proc: ChildProcess = spawn(join(bin, 'ministack'), [], { env: { ...cliEnv, GATEWAY_PORT: String(port) }, cwd: dir, stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const aws = (...args: string[]) => execFileSync('aws', ['--endpoint-url', endpoint, ...args], { encoding: 'utf8', env: cliEnv });
  const lambda = lambdaAt(endpoint);
  try {
    const deadline = Date.now() + 60_000;
    while (!(await fetch(`${endpoint}/`).then(() => true, () => false))) {
      if (Date.now() > deadline) throw new Error('MiniStack never answered');
      await sleep(250);
    }
    const envFile = join(dir, 'env.json');
    writeFileSync(envFile, JSON.stringify({ Variables: Object.fromEntries(Object.entries(peerEnvironment().environment).filter(([k]) => !k.startsWith('AWS_') && k !== '_HANDLER')) }));
    const cold: number[] = [];
    for (let i = 0; i < options.coldCalls; i++) {
      // A new function each time: its first invocation starts a container.
      aws('lambda', 'create-function', '--function-name', `audit-${i}`, '--package-type', 'Image', '--code', `ImageUri=${imageOf(FUNCTION)}`, '--role', 'arn:aws:iam::000000000000:role/lambda-role', '--environment', `file://${envFile}`);
      cold.push(await timedInvoke(lambda, `audit-${i}`));
    }
    const warm = await warmLatencies(lambda, 'audit-0', options.warmCalls);
    const ourEnvironments = new Set(environments().map((c) => c.slice(0, 12)));
    const containers = docker(['ps', '-q', '--filter', `ancestor=${imageOf(FUNCTION)}`]).split('\n').filter(Boolean).filter((id) => !ourEnvironments.has(id.slice(0, 12)));
    const idleMemoryMb = residentMb(containers, [proc.pid!]);
    return { cold, warm, throughput: await throughput(lambda, 'audit-0', options.throughputSeconds), idleMemoryMb };
  } finally {
    lambda.destroy();
    proc.kill('SIGTERM');
  }
}

async function attempt(name: string, run: () => Promise<Figures> | Figures): Promise<Figures> {
  console.log(`  ${name} ...`);
  try {
    return await run();
  } catch (error) {
    const note = (error as Error).message.split('\n')[0]!.slice(0, 200);
    console.log(`  ${name}: could not run: ${note}`);
    return { note: `could not run: ${note}` };
  }
}

export async function benchPeers(options: PeerOptions): Promise<{ markdown: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-peers-'));
  const peers: Array<[string, Figures]> = [
    ['ours: local Lambda service, Invoke API, environments on demand', await attempt('ours', () => ours(options))],
    ['sam local start-lambda --warm-containers EAGER', await attempt('sam local start-lambda', () => samStartLambda(options, dir))],
    ['sam local invoke', await attempt('sam local invoke', () => samLocalInvoke(options, dir))],
    ['MiniStack', await attempt('MiniStack', () => ministack(options, dir))],
  ];
  const f = (xs: number[] | undefined, p: number, digits = 0) => (xs?.length ? percentile(xs, p).toFixed(digits) : '-');
  const versions = [
    `sam ${(() => {
      try {
        return execFileSync(join(tool('sam'), 'sam'), ['--version'], { encoding: 'utf8', env: cliEnv }).trim().replace('SAM CLI, version ', '');
      } catch {
        return 'unavailable';
      }
    })()}`,
    `MiniStack ${(() => {
      try {
        return execFileSync(join(tool('ministack'), 'pip'), ['show', 'ministack'], { encoding: 'utf8' }).match(/^Version: (.+)$/m)?.[1] ?? '?';
      } catch {
        return 'unavailable';
      }
    })()}`,
  ].join(', ');
  const ourWarm = peers[0]![1].warm;
  const samWarm = peers[1]![1].warm;
  const ourCold = peers[0]![1].cold;
  const samCold = peers[2]![1].cold;
  const goals = [
    ourWarm && samWarm ? `warm invoke p50, ours / sam start-lambda: ${verdict(percentile(ourWarm, 50) / percentile(samWarm, 50), 0.25, false)}` : 'warm invoke goal: not measurable (a peer could not run)',
    ourCold && samCold ? `cold invoke p50, ours / sam local invoke: ${verdict(percentile(ourCold, 50) / percentile(samCold, 50), 0.5, false)}` : 'cold invoke goal: not measurable (a peer could not run)',
  ];
  const markdown = [
    `The same image (\`${FUNCTION}\`, an event that needs no AWS call, so only the platform is measured), each peer started by the bench on 127.0.0.1 in one run. Versions: ${versions}.`,
    `Calls: a plain HTTP/1.1 client with keep-alive posting to the Invoke API each peer serves. Warm: ${options.warmCalls} calls one after the other (after 5 not counted). Cold: ${options.coldCalls} calls on a container started for it (ours: the function's environments removed, then the call, which starts one; sam local invoke: the whole command; MiniStack: the first call of a new function).`,
    `Throughput: 8 clients calling back to back for ${options.throughputSeconds} s. Idle memory: the resident memory of what each keeps running for its functions (ours: the local Lambda service, its Docker proxy and the environments still warm; sam: its process and warm container; MiniStack: its process and containers), LocalStack not counted.`,
    '',
    table(
      ['peer', 'cold p50 ms', 'cold p95 ms', 'warm p50 ms', 'warm p95 ms', 'invokes/s (8 clients)', 'idle memory MB', 'note'],
      peers.map(([name, x]) => [
        name,
        f(x.cold, 50),
        f(x.cold, 95),
        f(x.warm, 50, 1),
        f(x.warm, 95, 1),
        x.throughput === undefined ? '-' : x.throughput.toFixed(0),
        x.idleMemoryMb === undefined ? '-' : x.idleMemoryMb.toFixed(0),
        x.note ?? '',
      ]),
    ),
    '',
    ...goals.map((g) => `- ${g}`),
  ].join('\n');
  return { markdown };
}
