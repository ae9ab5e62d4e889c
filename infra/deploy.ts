// `make deploy`: checks what a deployment needs, each missing piece as one sentence saying what to
// do, then runs `cdk deploy` on the stack with the digests `make push` recorded.
//   npx tsx infra/deploy.ts [-- extra cdk deploy arguments]
import { spawnSync } from 'node:child_process';
import { ECRClient } from '@aws-sdk/client-ecr';
import { buildApp, STACK_NAME } from './app';
import { PUSHED_IMAGES_FILE, readPushedImages } from './images';

class DeployError extends Error {}

/** The function folders the stack runs (each an image `make push` pushes). */
export const stackFunctions = (): string[] => [...buildApp({ images: {} }).pipelines.functions.keys()];

/** What is missing before a deploy can work; empty when nothing is. Pure. */
export function deployProblems(images: ReturnType<typeof readPushedImages>, region: string | undefined, functions: readonly string[] = stackFunctions()): string[] {
  const problems: string[] = [];
  const missing = functions.filter((name) => !images[name]);
  if (missing.length > 0) {
    problems.push(`no pushed image for ${missing.join(', ')} in ${PUSHED_IMAGES_FILE}: run make push (AWS_ACCOUNT_ID=... AWS_REGION=...) first, then make deploy`);
  }
  const regions = new Set(Object.values(images).map((i) => /\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/.exec(i.registry)?.[1]).filter(Boolean));
  if (region && regions.size > 0 && !regions.has(region)) {
    problems.push(`the images were pushed to ECR in ${[...regions].join(', ')} but AWS_REGION is ${region}: Lambda pulls images from its own region; push again with AWS_REGION=${region}`);
  }
  const elsewhere = Object.entries(images).filter(([, i]) => !/\.dkr\.ecr\./.test(i.registry)).map(([name]) => name);
  if (elsewhere.length > 0) problems.push(`${elsewhere.join(', ')} were pushed to a registry that is not ECR; Lambda only runs images from ECR: run make push with AWS_ACCOUNT_ID and AWS_REGION`);
  return problems;
}

async function main(): Promise<void> {
  const images = readPushedImages();
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const problems = deployProblems(images, region);
  if (problems.length > 0) throw new DeployError(problems.join('\n'));
  if (!region) throw new DeployError('no region: set AWS_REGION (the region make push used), then make deploy');
  try {
    await new ECRClient({ region }).config.credentials();
  } catch {
    throw new DeployError('no AWS credentials found: run aws configure (or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), then make deploy');
  }
  console.log(`==> cdk deploy ${STACK_NAME} (${region}), images:`);
  for (const [name, image] of Object.entries(images)) console.log(`    ${name.padEnd(11)} ${image.repository}@${image.digest} (built from ${image.tag})`);
  const result = spawnSync('npx', ['cdk', 'deploy', STACK_NAME, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (result.status !== 0) throw new DeployError(`cdk deploy failed (exit ${result.status}): its messages are above`);
}

if (process.argv[1]?.endsWith('deploy.ts')) {
  main().catch((error: unknown) => {
    console.error(error instanceof DeployError ? `deploy: ${error.message}` : `deploy failed: ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
