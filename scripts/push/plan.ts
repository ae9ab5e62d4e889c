// The decisions of `make push`, as plain functions: where the images go, under which name and tag,
// the ECR settings, and one sentence for each way a push can fail.

export class PushError extends Error {
  override name = 'PushError';
}

export type Registry =
  | { kind: 'ecr'; host: string; account: string; region: string }
  | { kind: 'other'; host: string };

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$/;

/** REGISTRY= wins (any registry); else AWS_ACCOUNT_ID + AWS_REGION name an ECR registry. */
export function resolveRegistry(env: Record<string, string | undefined>): Registry {
  const registry = env.REGISTRY?.trim();
  if (registry) {
    if (/^[a-z]+:\/\//i.test(registry) || registry.includes('/')) throw new PushError(`REGISTRY=${registry} should be a host[:port] only, e.g. 127.0.0.1:5000 or registry.example.com`);
    return { kind: 'other', host: registry };
  }
  const account = env.AWS_ACCOUNT_ID?.trim();
  const region = (env.AWS_REGION ?? env.AWS_DEFAULT_REGION)?.trim();
  if (!account || !region) {
    throw new PushError('no registry given: set AWS_ACCOUNT_ID and AWS_REGION to push to ECR (make push AWS_ACCOUNT_ID=123456789012 AWS_REGION=eu-west-1), or REGISTRY=host[:port] for another registry');
  }
  if (!ACCOUNT.test(account)) throw new PushError(`AWS_ACCOUNT_ID=${account} is not an AWS account id (12 digits)`);
  if (!REGION.test(region)) throw new PushError(`AWS_REGION=${region} is not an AWS region name (e.g. eu-west-1)`);
  return { kind: 'ecr', host: `${account}.dkr.ecr.${region}.amazonaws.com`, account, region };
}

/** The git sha names what was pushed; a dirty tree would make that name a lie unless asked for. */
export function imageTag(sha: string, dirty: boolean, allowDirty: boolean): string {
  if (!/^[0-9a-f]{7,40}$/.test(sha)) throw new PushError('not in a git checkout: the image tag is the git sha; clone the repository (or set REGISTRY and tag by hand)');
  if (!dirty) return sha;
  if (!allowDirty) throw new PushError(`the working tree has uncommitted changes, so ${sha} would not describe the image: commit them, or set ALLOW_DIRTY=1 to push it as ${sha}-dirty`);
  return `${sha}-dirty`;
}

export const repositoryName = (project: string, fn: string): string => `${project}/${fn}`;

/** ECR lifecycle policy: keep the newest `keep` images, expire older ones. */
export function lifecyclePolicy(keep: number): string {
  if (!Number.isInteger(keep) || keep < 1) throw new PushError(`KEEP_IMAGES=${keep} must be a positive whole number`);
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: `keep the last ${keep} images`,
        selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: keep },
        action: { type: 'expire' },
      },
    ],
  });
}

/** Docker's architecture name for ARCH (what `docker image inspect` reports). */
export function dockerArchitecture(arch: string): 'amd64' | 'arm64' {
  if (arch === 'x86_64' || arch === 'amd64') return 'amd64';
  if (arch === 'arm64' || arch === 'aarch64') return 'arm64';
  throw new PushError(`ARCH=${arch} is not a Lambda architecture: use x86_64 or arm64`);
}

/** ECR's authorization token is base64 of `AWS:<password>`. */
export function decodeAuthorizationToken(token: string): { username: string; password: string } {
  const text = Buffer.from(token, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 1) throw new PushError('ECR returned an authorization token that is not user:password');
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The registry host of an ECR proxy endpoint (`https://<account>.dkr.ecr.<region>.amazonaws.com`). */
export const endpointHost = (proxyEndpoint: string): string => new URL(proxyEndpoint).host;

/** The digest `docker push` reports: `<tag>: digest: sha256:<hex> size: <n>`. */
export function pushedDigest(output: string): string | undefined {
  return /digest: (sha256:[0-9a-f]{64})/.exec(output)?.[1];
}

/** One sentence for a failed AWS call: what is wrong and what to do. */
export function explainAwsError(error: unknown, region: string): string {
  const e = error as { name?: string; message?: string; code?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  if (e.name === 'CredentialsProviderError' || /Could not load credentials/.test(e.message ?? '')) {
    return 'no AWS credentials found: run `aws configure` or `aws sso login`, or set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)';
  }
  if (['UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'InvalidClientTokenId'].includes(e.name ?? '')) {
    return `AWS rejected the credentials (${e.name}): refresh them (aws sso login, or new keys) and check they belong to the account in AWS_ACCOUNT_ID`;
  }
  if (e.name === 'AccessDeniedException') return `the AWS identity may not use ECR here: ${e.message} (it needs ecr:CreateRepository, ecr:PutLifecyclePolicy, ecr:GetAuthorizationToken and the push permissions)`;
  if (['ENOTFOUND', 'EAI_AGAIN'].includes(code) || e.name === 'UnknownEndpoint') return `cannot resolve the ECR endpoint of region ${region}: check AWS_REGION (e.g. eu-west-1) and the network`;
  if (['ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH'].includes(code) || e.name === 'TimeoutError') return `ECR in ${region} is unreachable (${code || e.name}): check the network or proxy settings`;
  return `ECR call failed: ${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
}

/** One sentence for a failed `docker push`. */
export function explainPushFailure(output: string, target: string): string {
  if (/connection refused|no such host|i\/o timeout|dial tcp|server misbehaving|network is unreachable/i.test(output)) {
    return `the registry of ${target} is unreachable: check REGISTRY (host[:port]) and that it is running`;
  }
  if (/unauthorized|authentication required|denied|no basic auth credentials/i.test(output)) {
    return `the registry refused ${target}: log in first (docker login <registry>), or for ECR check the identity's push permissions`;
  }
  if (/tag invalid|already exists|cannot be overwritten/i.test(output)) {
    return `${target} already exists and the repository's tags are immutable: commit a change to get a new sha`;
  }
  return `docker push ${target} failed: ${output.trim().split('\n').slice(-1)[0]}`;
}
