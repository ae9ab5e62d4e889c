// The ECR side of `make push`, through the AWS SDK: the repository (scan on push, immutable tags,
// a lifecycle policy), the Docker login token, and whether a tag is already there.
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  PutLifecyclePolicyCommand,
} from '@aws-sdk/client-ecr';
import { decodeAuthorizationToken, lifecyclePolicy } from './plan';

/** ECR_ENDPOINT_URL points the client elsewhere (the tests' stand-in for ECR); AWS otherwise. */
export const ecrClient = (region: string): ECRClient => new ECRClient({ region, ...(process.env.ECR_ENDPOINT_URL && { endpoint: process.env.ECR_ENDPOINT_URL }) });

/** Creates the repository when missing; (re)applies the lifecycle policy either way. */
export async function ensureRepository(ecr: ECRClient, repositoryName: string, keepImages: number): Promise<'created' | 'exists'> {
  let state: 'created' | 'exists' = 'exists';
  try {
    await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [repositoryName] }));
  } catch (error) {
    if ((error as Error).name !== 'RepositoryNotFoundException') throw error;
    await ecr.send(
      new CreateRepositoryCommand({ repositoryName, imageScanningConfiguration: { scanOnPush: true }, imageTagMutability: 'IMMUTABLE' }),
    );
    state = 'created';
  }
  await ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: lifecyclePolicy(keepImages) }));
  return state;
}

/** Docker credentials for the registry, and the registry's endpoint as ECR names it. */
export async function dockerLogin(ecr: ECRClient): Promise<{ username: string; password: string; proxyEndpoint: string }> {
  const out = await ecr.send(new GetAuthorizationTokenCommand({}));
  const data = out.authorizationData?.[0];
  if (!data?.authorizationToken || !data.proxyEndpoint) throw new Error('ECR returned no authorization data');
  return { ...decodeAuthorizationToken(data.authorizationToken), proxyEndpoint: data.proxyEndpoint };
}

/** The digest of `tag` in the repository, when it is already there (tags are immutable). */
export async function existingDigest(ecr: ECRClient, repositoryName: string, tag: string): Promise<string | undefined> {
  try {
    const out = await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: tag }] }));
    return out.imageDetails?.[0]?.imageDigest;
  } catch (error) {
    if ((error as Error).name === 'ImageNotFoundException') return undefined;
    throw error;
  }
}
