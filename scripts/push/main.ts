// `make push`: ships every function image (or FUNCTION=name) to ECR, or to any registry with
// REGISTRY=host[:port], tagged with the git sha, and prints each digest and the ImageUri to give
// to Lambda. The images are single-architecture and carry no attestations (the classic builder in
// scripts/build-images.sh makes none), which is what Lambda requires.
//   AWS_ACCOUNT_ID=123456789012 AWS_REGION=eu-west-1 npx tsx scripts/push/main.ts
//   REGISTRY=127.0.0.1:5000 FUNCTION=thumbnail npx tsx scripts/push/main.ts
// Also: ARCH=x86_64|arm64 (must match the built image), ALLOW_DIRTY=1, KEEP_IMAGES=10, PROJECT.
import { spawn, spawnSync } from 'node:child_process';
import { functionFolders } from '../../toolkit/function-folders';
import { PUSHED_IMAGES_FILE, recordPushedImages } from '../../infra/images';
import { dockerLogin, ecrClient, ensureRepository, existingDigest } from './ecr';
import { dockerArchitecture, endpointHost, explainAwsError, explainPushFailure, imageTag, pushedDigest, PushError, repositoryName, resolveRegistry } from './plan';

const env = process.env;
const PROJECT = env.PROJECT ?? 'lambda-pipelines';

function run(cmd: string, args: string[], input?: string): { status: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  return { status: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** `docker push`, its progress shown line by line, its output kept for the digest. */
function dockerPush(target: string): Promise<{ status: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('docker', ['push', target]);
    let out = '';
    const show = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      process.stdout.write(chunk.toString('utf8').replace(/^(?=.)/gm, '    '));
    };
    child.stdout.on('data', show);
    child.stderr.on('data', show);
    child.on('close', (status) => resolve({ status: status ?? 1, out }));
  });
}

function gitState(): { sha: string; dirty: boolean } {
  const sha = run('git', ['rev-parse', '--short=12', 'HEAD']);
  const status = run('git', ['status', '--porcelain']);
  return { sha: sha.status === 0 ? sha.out.trim() : '', dirty: status.out.trim() !== '' };
}

async function main(): Promise<void> {
  const functions = functionFolders();
  const names = env.FUNCTION ? [env.FUNCTION] : functions;
  for (const name of names) {
    if (!functions.includes(name)) throw new PushError(`FUNCTION=${name} is not a folder under functions/ with a handler.ts (${functions.join(', ')})`);
  }
  const registry = resolveRegistry(env);
  const arch = dockerArchitecture(env.ARCH ?? 'x86_64');
  const git = gitState();
  const tag = imageTag(git.sha, git.dirty, env.ALLOW_DIRTY === '1');
  const keep = Number(env.KEEP_IMAGES ?? 10);
  if (run('docker', ['info']).status !== 0) throw new PushError('no Docker engine answers: start Docker, then run make push again');

  // Every image must be there, and of the asked architecture, before anything is created remotely.
  for (const name of names) {
    const local = `${PROJECT}/${name}:${tag}`;
    const inspect = run('docker', ['image', 'inspect', '-f', '{{.Architecture}}', local]);
    if (inspect.status !== 0) throw new PushError(`image ${local} is not built: run make build${env.ARCH ? ` ARCH=${env.ARCH}` : ''} (it tags the current git sha)`);
    if (inspect.out.trim() !== arch) throw new PushError(`image ${local} is ${inspect.out.trim()}, not ${arch}: run make build ARCH=${env.ARCH ?? 'x86_64'}`);
  }

  let host = registry.host;
  const ecr = registry.kind === 'ecr' ? ecrClient(registry.region) : undefined;
  const aws = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw new PushError(explainAwsError(error, registry.kind === 'ecr' ? registry.region : ''));
    }
  };
  if (ecr) {
    console.log(`==> ECR registry ${registry.host}`);
    const login = await aws(() => dockerLogin(ecr));
    host = endpointHost(login.proxyEndpoint);
    const result = run('docker', ['login', '--username', login.username, '--password-stdin', login.proxyEndpoint], login.password);
    if (result.status !== 0) throw new PushError(`docker login to ${host} failed: ${result.out.trim().split('\n').at(-1)}`);
    console.log(`    docker login ${host}: ok`);
  } else {
    console.log(`==> registry ${host} (log in beforehand with docker login if it needs it)`);
  }

  const pushed: Array<{ name: string; target: string; digest: string; note: string }> = [];
  for (const name of names) {
    const repository = repositoryName(PROJECT, name);
    const target = `${host}/${repository}:${tag}`;
    console.log(`==> ${name}: ${PROJECT}/${name}:${tag} -> ${target}`);
    if (ecr) {
      const state = await aws(() => ensureRepository(ecr, repository, keep));
      console.log(`    repository ${repository}: ${state} (scan on push, immutable tags, keep the last ${keep} images)`);
      const existing = await aws(() => existingDigest(ecr, repository, tag));
      if (existing) {
        console.log(`    ${tag} is already in ${repository} (tags are immutable): not pushed again`);
        pushed.push({ name, target, digest: existing, note: 'already there' });
        continue;
      }
    }
    const tagged = run('docker', ['tag', `${PROJECT}/${name}:${tag}`, target]);
    if (tagged.status !== 0) throw new PushError(`docker tag ${target} failed: ${tagged.out.trim()}`);
    const push = await dockerPush(target);
    if (push.status !== 0) throw new PushError(explainPushFailure(push.out, target));
    const digest = pushedDigest(push.out);
    if (!digest) throw new PushError(`docker push ${target} reported no digest`);
    pushed.push({ name, target, digest, note: 'pushed' });
  }

  recordPushedImages(
    Object.fromEntries(
      pushed.map((p) => {
        const repo = p.target.slice(0, p.target.lastIndexOf(':'));
        return [p.name, { repository: repo.slice(repo.indexOf('/') + 1), registry: host, digest: p.digest, tag }];
      }),
    ),
  );
  console.log(`\nRecorded in ${PUSHED_IMAGES_FILE} for make deploy.`);
  console.log('\nPushed images (give ImageUri to Lambda: aws lambda create-function --package-type Image --code ImageUri=...):');
  for (const p of pushed) {
    const repo = p.target.slice(0, p.target.lastIndexOf(':'));
    console.log(`  ${p.name.padEnd(11)} ${p.digest}  ${p.note}\n  ${''.padEnd(11)} ImageUri=${repo}@${p.digest}\n  ${''.padEnd(11)} tag: ${p.target}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof PushError ? `push: ${error.message}` : `push failed: ${(error as Error).message}`);
  process.exitCode = 1;
});
