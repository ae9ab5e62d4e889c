// `make push` against a real registry: Debian's docker-registry on 127.0.0.1. The image is pushed,
// pulled back by digest and run as a Lambda function; the manifest is a single-platform image
// (Lambda rejects image indexes). The ECR calls go through the real AWS SDK to a stand-in ECR on
// 127.0.0.1 that records them, whose authorization token leads Docker to the same local registry.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { functionEnvironment } from '../local-lambda/function-environment';
import { offlinePlan, planFunction } from '../toolkit/template-plan';
import { LABEL, describeWithDocker } from './support/docker';
import { offlineAnswer, offlineCases } from '../toolkit/offline-events';
import { startRegistry, type LocalRegistry } from './support/registry';
import { startRuntimeApi } from '../toolkit/runtime-api';
import { synthTestStack } from './support/stack';

const ROOT = `${__dirname}/..`;
const FUNCTION = 'notify';
const MANIFEST_TYPES = ['application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.oci.image.manifest.v1+json'];
const INDEX_TYPES = ['application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.oci.image.index.v1+json'];

/**
 * Runs scripts/push/main.ts as `make push` does, with only the given AWS settings. Asynchronously:
 * the stand-in ECR answers from this very process.
 */
/** Where the suite's pushes are recorded: never the checkout's infra/pushed-images.json (make synth reads it). */
const RECORD = join(mkdtempSync(join(tmpdir(), 'pushed-')), 'pushed-images.json');

function push(env: Record<string, string>): Promise<{ status: number | null; out: string; err: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|REGISTRY$|ECR_ENDPOINT_URL$)/.test(k)));
  const child = spawn('npx', ['tsx', 'scripts/push/main.ts'], { cwd: ROOT, env: { ...clean, ALLOW_DIRTY: '1', FUNCTION, PUSHED_IMAGES_FILE: RECORD, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const timer = setTimeout(() => child.kill(), 300_000);
  return new Promise((resolve) =>
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, out, err: err.split('\n').filter((l) => l && !l.startsWith('npm warn')).join('\n') });
    }),
  );
}

interface EcrCall {
  target: string;
  body: Record<string, any>;
  authorization: string;
}

/** A stand-in for the ECR API: records each call, answers as ECR does for a new repository. */
async function startFakeEcr(registryHost: string, answers: Record<string, [number, unknown]> = {}): Promise<{ url: string; calls: EcrCall[]; server: Server }> {
  const calls: EcrCall[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '').split('.').pop()!;
      calls.push({ target, body: body ? JSON.parse(body) : {}, authorization: String(req.headers.authorization ?? '') });
      const created = calls.some((c) => c.target === 'CreateRepository');
      const defaults: Record<string, [number, unknown]> = {
        DescribeRepositories: created ? [200, { repositories: [{ repositoryName: 'x' }] }] : [400, { __type: 'RepositoryNotFoundException', message: 'The repository does not exist' }],
        CreateRepository: [200, { repository: { repositoryName: calls.at(-1)!.body.repositoryName, imageTagMutability: 'IMMUTABLE' } }],
        PutLifecyclePolicy: [200, { repositoryName: calls.at(-1)!.body.repositoryName }],
        GetAuthorizationToken: [200, { authorizationData: [{ authorizationToken: Buffer.from('AWS:local-secret').toString('base64'), proxyEndpoint: `http://${registryHost}`, expiresAt: Date.now() / 1000 + 3600 }] }],
        DescribeImages: [400, { __type: 'ImageNotFoundException', message: 'The image requested does not exist' }],
      };
      const [status, payload] = answers[target] ?? defaults[target] ?? [400, { __type: 'InvalidParameterException', message: `unexpected ${target}` }];
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server };
}

describeWithDocker('make push to a real registry', () => {
  let registry: LocalRegistry;
  const servers: Server[] = [];

  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(() => {
    // What the pushes left on this machine: the login for the registry and the pushed tags.
    spawnSync('docker', ['logout', registry.host], { stdio: 'ignore' });
    const tags = execFileSync('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], { encoding: 'utf8' })
      .split('\n')
      .filter((t) => t.startsWith(`${registry.host}/`) || t.startsWith('127.0.0.1:9/'));
    if (tags.length > 0) spawnSync('docker', ['rmi', ...tags], { stdio: 'ignore' });
    registry?.stop();
    for (const s of servers) s.close();
  });

  it('pushes to REGISTRY=, prints the digest and ImageUri; pulled by digest, the image runs as a function', async () => {
    const result = await push({ REGISTRY: registry.host });

    expect(result.err).toBe('');
    expect(result.status).toBe(0);
    const uri = new RegExp(`ImageUri=(${registry.host.replace(/\./g, '\\.')}/lambda-pipelines/${FUNCTION}@(sha256:[0-9a-f]{64}))`).exec(result.out);
    expect(uri).not.toBeNull();
    const [, imageUri, digest] = uri!;

    // The registry holds one single-platform manifest under that digest, not an index.
    const manifest = await fetch(`http://${registry.host}/v2/lambda-pipelines/${FUNCTION}/manifests/${digest}`, { headers: { accept: [...MANIFEST_TYPES, ...INDEX_TYPES].join(', ') } });
    expect(manifest.status).toBe(200);
    expect(MANIFEST_TYPES).toContain(manifest.headers.get('content-type'));
    expect(manifest.headers.get('docker-content-digest')).toBe(digest);

    // Pulled back by digest (the local copy removed first), it answers an invocation.
    spawnSync('docker', ['rmi', '-f', imageUri!], { stdio: 'ignore' });
    execFileSync('docker', ['pull', '-q', imageUri!]);
    const api = await startRuntimeApi(FUNCTION);
    const fn = planFunction(offlinePlan(synthTestStack().template), FUNCTION);
    const env = Object.entries(functionEnvironment(fn, { region: 'us-east-1', endpointUrl: 'http://127.0.0.1:4566', runtimeApi: `127.0.0.1:${api.port}` })).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const id = execFileSync('docker', ['run', '-d', '--read-only', '--network', 'host', '--label', `${LABEL}=true`, ...env, imageUri!], { encoding: 'utf8' }).trim();
    try {
      const invoked = await api.runtime.invoke({ payload: Buffer.from(JSON.stringify(offlineCases[FUNCTION]!.event)) });
      expect(invoked.ok && JSON.parse(invoked.payload.toString())).toEqual(offlineAnswer(FUNCTION));
    } finally {
      api.close();
      execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
    }
  });

  it('ECR: creates the repository (scan on push, immutable tags, lifecycle), logs Docker in with the token, pushes', async () => {
    const ecr = await startFakeEcr(registry.host);
    servers.push(ecr.server);

    const result = await push({ AWS_ACCOUNT_ID: '123456789012', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret', ECR_ENDPOINT_URL: ecr.url, KEEP_IMAGES: '7' });

    expect(result.err).toBe('');
    expect(result.status).toBe(0);
    expect(ecr.calls.map((c) => c.target)).toEqual(['GetAuthorizationToken', 'DescribeRepositories', 'CreateRepository', 'PutLifecyclePolicy', 'DescribeImages']);
    const call = (t: string) => ecr.calls.find((c) => c.target === t)!.body;
    expect(call('DescribeRepositories')).toEqual({ repositoryNames: [`lambda-pipelines/${FUNCTION}`] });
    expect(call('CreateRepository')).toEqual({ repositoryName: `lambda-pipelines/${FUNCTION}`, imageScanningConfiguration: { scanOnPush: true }, imageTagMutability: 'IMMUTABLE' });
    expect(JSON.parse(call('PutLifecyclePolicy').lifecyclePolicyText).rules[0].selection).toEqual({ tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 7 });
    expect(call('DescribeImages')).toEqual({ repositoryName: `lambda-pipelines/${FUNCTION}`, imageIds: [{ imageTag: expect.stringMatching(/^[0-9a-f]{12}(-dirty)?$/) }] });
    // Signed by the real SDK for ECR in the asked region.
    expect(ecr.calls.every((c) => /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/ecr\/aws4_request/.test(c.authorization))).toBe(true);
    expect(result.out).toMatch(/docker login 127\.0\.0\.1:\d+: ok/);
    expect(result.out).toMatch(new RegExp(`ImageUri=${registry.host.replace(/\./g, '\\.')}/lambda-pipelines/${FUNCTION}@sha256:[0-9a-f]{64}`));
  });

  it('ECR: a tag already in the repository is reported with its digest, not pushed again', async () => {
    const digest = `sha256:${'c'.repeat(64)}`;
    const ecr = await startFakeEcr(registry.host, {
      DescribeRepositories: [200, { repositories: [{ repositoryName: `lambda-pipelines/${FUNCTION}` }] }],
      DescribeImages: [200, { imageDetails: [{ imageDigest: digest }] }],
    });
    servers.push(ecr.server);

    const result = await push({ AWS_ACCOUNT_ID: '123456789012', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret', ECR_ENDPOINT_URL: ecr.url });

    expect(result.status).toBe(0);
    expect(ecr.calls.map((c) => c.target)).not.toContain('CreateRepository');
    expect(result.out).toMatch(/already in lambda-pipelines\/notify \(tags are immutable\): not pushed again/);
    expect(result.out).toContain(`@${digest}`);
  });

  it.each([
    ['no registry configured', {}, /^push: no registry given: set AWS_ACCOUNT_ID and AWS_REGION/],
    ['no AWS credentials', { AWS_ACCOUNT_ID: '123456789012', AWS_REGION: 'eu-west-1', AWS_EC2_METADATA_DISABLED: 'true', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_CONFIG_FILE: '/nonexistent', ECR_ENDPOINT_URL: 'http://127.0.0.1:9' }, /^push: no AWS credentials found: run `aws configure`/],
    ['a malformed region', { AWS_ACCOUNT_ID: '123456789012', AWS_REGION: 'europe' }, /^push: AWS_REGION=europe is not an AWS region name/],
    ['an image that is not built', { REGISTRY: '127.0.0.1:9', PROJECT: 'not-built' }, /^push: image not-built\/notify:\S+ is not built: run make build/],
    ['an unreachable registry', { REGISTRY: '127.0.0.1:9' }, /^push: the registry of 127\.0\.0\.1:9\/lambda-pipelines\/notify:\S+ is unreachable: check REGISTRY/],
  ])('%s: one sentence, non-zero exit', async (_, env, sentence) => {
    const result = await push(env as Record<string, string>);

    expect(result.status).toBe(1);
    expect(result.err).toMatch(sentence);
    expect(result.err.split('\n')).toHaveLength(1);
  });
}, { commands: [['docker-registry', 'apt-get install docker-registry']] });
