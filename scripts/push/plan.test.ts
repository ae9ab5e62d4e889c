import {
  decodeAuthorizationToken,
  dockerArchitecture,
  endpointHost,
  explainAwsError,
  explainPushFailure,
  imageTag,
  lifecyclePolicy,
  pushedDigest,
  repositoryName,
  resolveRegistry,
} from './plan';

const named = (name: string, message = name) => Object.assign(new Error(message), { name });

describe('make push decisions', () => {
  it('resolves ECR from the account and region, or any registry from REGISTRY', () => {
    expect(resolveRegistry({ AWS_ACCOUNT_ID: '123456789012', AWS_REGION: 'eu-west-1' })).toEqual({
      kind: 'ecr', host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', account: '123456789012', region: 'eu-west-1',
    });
    expect(resolveRegistry({ AWS_ACCOUNT_ID: '123456789012', AWS_DEFAULT_REGION: 'us-gov-west-1' }).host).toBe('123456789012.dkr.ecr.us-gov-west-1.amazonaws.com');
    expect(resolveRegistry({ REGISTRY: '127.0.0.1:5000', AWS_ACCOUNT_ID: '123456789012', AWS_REGION: 'eu-west-1' })).toEqual({ kind: 'other', host: '127.0.0.1:5000' });
  });

  it.each([
    [{}, /no registry given: set AWS_ACCOUNT_ID and AWS_REGION .* or REGISTRY=host\[:port\]/],
    [{ AWS_ACCOUNT_ID: '1234', AWS_REGION: 'eu-west-1' }, /AWS_ACCOUNT_ID=1234 is not an AWS account id \(12 digits\)/],
    [{ AWS_ACCOUNT_ID: '123456789012', AWS_REGION: 'europe' }, /AWS_REGION=europe is not an AWS region name/],
    [{ REGISTRY: 'https://registry.example.com' }, /should be a host\[:port\] only/],
  ])('refuses %j with one sentence', (env, message) => {
    expect(() => resolveRegistry(env)).toThrow(message);
  });

  it('tags with the git sha, and refuses a dirty tree unless ALLOW_DIRTY', () => {
    expect(imageTag('e47127574b49', false, false)).toBe('e47127574b49');
    expect(() => imageTag('e47127574b49', true, false)).toThrow(/uncommitted changes.*commit them, or set ALLOW_DIRTY=1 to push it as e47127574b49-dirty/);
    expect(imageTag('e47127574b49', true, true)).toBe('e47127574b49-dirty');
    expect(() => imageTag('', false, false)).toThrow(/not in a git checkout/);
  });

  it('names repositories, lifecycle policies and architectures', () => {
    expect(repositoryName('lambda-pipelines', 'thumbnail')).toBe('lambda-pipelines/thumbnail');
    expect(JSON.parse(lifecyclePolicy(10))).toEqual({
      rules: [{ rulePriority: 1, description: 'keep the last 10 images', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 }, action: { type: 'expire' } }],
    });
    expect(() => lifecyclePolicy(0)).toThrow(/KEEP_IMAGES=0/);
    expect([dockerArchitecture('x86_64'), dockerArchitecture('amd64'), dockerArchitecture('arm64')]).toEqual(['amd64', 'amd64', 'arm64']);
    expect(() => dockerArchitecture('riscv64')).toThrow(/use x86_64 or arm64/);
  });

  it('reads the ECR token, the endpoint host and the pushed digest', () => {
    expect(decodeAuthorizationToken(Buffer.from('AWS:s3cr:et').toString('base64'))).toEqual({ username: 'AWS', password: 's3cr:et' });
    expect(() => decodeAuthorizationToken(Buffer.from('garbage').toString('base64'))).toThrow(/not user:password/);
    expect(endpointHost('https://123456789012.dkr.ecr.eu-west-1.amazonaws.com')).toBe('123456789012.dkr.ecr.eu-west-1.amazonaws.com');
    const digest = `sha256:${'ab'.repeat(32)}`;
    expect(pushedDigest(`abc: Pushed\ne471: digest: ${digest} size: 1570\n`)).toBe(digest);
    expect(pushedDigest('nothing')).toBeUndefined();
  });

  it.each([
    [named('CredentialsProviderError', 'Could not load credentials from any providers'), /no AWS credentials found: run `aws configure`/],
    [named('UnrecognizedClientException', 'The security token included in the request is invalid.'), /AWS rejected the credentials \(UnrecognizedClientException\)/],
    [Object.assign(new Error('getaddrinfo ENOTFOUND api.ecr.mars-1.amazonaws.com'), { code: 'ENOTFOUND' }), /cannot resolve the ECR endpoint of region eu-west-1: check AWS_REGION/],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), /ECR in eu-west-1 is unreachable \(ECONNREFUSED\)/],
    [named('AccessDeniedException', 'not authorized to perform ecr:CreateRepository'), /may not use ECR here/],
  ])('explains AWS failure %#', (error, sentence) => {
    expect(explainAwsError(error, 'eu-west-1')).toMatch(sentence);
  });

  it.each([
    ['Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused', /is unreachable: check REGISTRY/],
    ['unauthorized: authentication required', /refused .* log in first/],
    ["tag invalid: The image tag 'abc' already exists in the 'x' repository and cannot be overwritten because the repository is immutable.", /tags are immutable/],
  ])('explains a failed docker push: %s', (output, sentence) => {
    expect(explainPushFailure(output, 'r/x:abc')).toMatch(sentence);
  });
});
