import { containerSpec, parseEnvironmentRequest, type ProxyConfig } from './container-spec';
import { proxyConfig, route, stackFilters } from './docker-proxy';

const config: ProxyConfig = { socketPath: '/var/run/docker.sock', stackId: 'lambda-pipelines', functionNetwork: 'lambda-pipelines-functions', extraLabels: { 'lambda-pipelines.test': 'true' } };
const request = { function: 'LambdaPipelines-NotifyFunction-ABC', image: 'lambda-pipelines/notify:latest', memoryMb: 256, environment: { TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:t' } };

describe('the Docker proxy of the local Lambda service', () => {
  it.each([
    ['GET', '/containers/json', { kind: 'list' }],
    ['GET', '/v1.41/containers/json?all=1', { kind: 'list' }],
    ['GET', '/events?since=0', { kind: 'events' }],
    ['POST', '/environments', { kind: 'create' }],
    ['DELETE', '/containers/0123456789ab', { kind: 'remove', id: '0123456789ab' }],
  ])('allows %s %s', (method, url, expected) => {
    expect(route(method, url)).toEqual(expected);
  });

  it.each([
    ['POST', '/containers/create'],
    ['POST', '/containers/0123456789ab/restart'],
    ['POST', '/containers/0123456789ab/exec'],
    ['POST', '/containers/0123456789ab/kill'],
    ['GET', '/containers/0123456789ab/json'],
    ['DELETE', '/containers/../../images/x'],
    ['GET', '/images/json'],
    ['POST', '/build'],
  ])('refuses %s %s', (method, url) => {
    expect(route(method, url)).toMatchObject({ kind: 'refused', reason: expect.stringContaining('is not allowed') });
  });

  it('lists and watches only the function containers labelled with its stack', () => {
    expect(JSON.parse(decodeURIComponent(stackFilters('lambda-pipelines', { event: ['die'] })))).toEqual({
      label: ['lambda-pipelines.stack=lambda-pipelines', 'lambda-pipelines.function'],
      event: ['die'],
    });
  });

  it('makes every container itself: Lambda sandbox settings whatever the request, only what Lambda varies taken from it', () => {
    const spec = containerSpec(parseEnvironmentRequest({ ...request, ephemeralStorageMb: 1024, command: ['test/slow.handler'] }), config, 'notify') as Record<string, any>;
    expect(spec).toMatchObject({
      Image: 'lambda-pipelines/notify:latest',
      User: '993:993',
      Cmd: ['test/slow.handler'],
      Env: ['TOPIC_ARN=arn:aws:sns:us-east-1:000000000000:t'],
      Labels: { 'lambda-pipelines.stack': 'lambda-pipelines', 'lambda-pipelines.function': request.function, 'lambda-pipelines.test': 'true' },
      HostConfig: {
        ReadonlyRootfs: true,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges:true'],
        Privileged: false,
        PidsLimit: 256,
        Memory: 256 * 1024 * 1024,
        MemorySwap: 256 * 1024 * 1024,
        Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=1024m,mode=1777' },
        NetworkMode: 'lambda-pipelines-functions',
        Binds: [],
        PortBindings: {},
      },
    });
  });

  it('mounts only the dev bundle of the image\'s own function folder, when make dev configured one', () => {
    const spec = containerSpec(parseEnvironmentRequest(request), { ...config, devBundles: '/home/dev/project/.cache/dev' }, 'notify') as Record<string, any>;
    expect([spec.HostConfig.Binds, spec.Cmd, spec.Env]).toEqual([
      ['/home/dev/project/.cache/dev/notify:/var/task/dev:ro'],
      ['dev/handler.handler'],
      ['TOPIC_ARN=arn:aws:sns:us-east-1:000000000000:t', '_HANDLER=dev/handler.handler', 'NODE_OPTIONS=--enable-source-maps'],
    ]);
  });

  it.each([
    [{ ...request, binds: ['/:/host'] }, /Unrecognized key/],
    [{ ...request, privileged: true }, /Unrecognized key/],
    [{ ...request, memoryMb: 100_000 }, /memoryMb Lambda allows 128-10240 MB/],
    [{ ...request, image: 'evil image; rm -rf /' }, /image must be a local image reference/],
    [{ ...request, function: '../../etc' }, /function must be a Lambda function name/],
    [{ ...request, environment: { 'BAD-NAME': 'x' } }, /environment.BAD-NAME Invalid key/],
    [{ ...request, workingDirectory: 'relative' }, /must be an absolute path/],
  ])('refuses a request that asks for more than Lambda varies: %j', (body, message) => {
    expect(() => parseEnvironmentRequest(body)).toThrow(message);
  });

  it('needs its stack label and network, and says so', () => {
    expect(() => proxyConfig({})).toThrow('docker-proxy: STACK_ID and FUNCTION_NETWORK must be set');
    expect(proxyConfig({ STACK_ID: 's', FUNCTION_NETWORK: 'n', CONTAINER_LABELS: '{"a":"b"}' })).toMatchObject({ stackId: 's', functionNetwork: 'n', extraLabels: { a: 'b' } });
  });
});
