import { containerSpec, parseEnvironmentRequest, type Placement, type ProxyConfig } from './container-spec';
import { proxyConfig, route, stackFilters } from './docker-proxy';
import { subnetAt, subnetCount } from './environment-network';

const config: ProxyConfig = {
  socketPath: '/var/run/docker.sock',
  stackId: 'lambda-pipelines',
  extraLabels: { 'lambda-pipelines.test': 'true' },
  subnetPool: '10.213.0.0/16',
  scratchDir: '/var/lib/lambda-scratch',
  busybox: '/opt/storage/busybox',
};
const placement: Placement = { network: 'lambda-pipelines-notify-ab12-net', scratchVolume: 'lambda-pipelines-notify-ab12-tmp', cores: 8 };
const request = { function: 'LambdaPipelines-NotifyFunction-ABC', image: 'lambda-pipelines/notify:latest', memoryMb: 256, environment: { TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:t' } };

describe('the Docker proxy of the local Lambda service', () => {
  it.each([
    ['GET', '/containers/json', { kind: 'list' }],
    ['GET', '/v1.41/containers/json?all=1', { kind: 'list' }],
    ['GET', '/events?since=0', { kind: 'events' }],
    ['POST', '/environments', { kind: 'create' }],
    ['DELETE', '/containers/0123456789ab', { kind: 'remove', id: '0123456789ab' }],
    ['GET', '/containers/0123456789ab/logs', { kind: 'logs', id: '0123456789ab' }],
    ['GET', '/containers/0123456789ab/stats', { kind: 'stats', id: '0123456789ab' }],
    ['POST', '/containers/0123456789ab/invoke-phase', { kind: 'invoke-phase', id: '0123456789ab' }],
  ])('allows %s %s', (method, url, expected) => {
    expect(route(method, url)).toEqual(expected);
  });

  it.each([
    ['POST', '/containers/create'],
    ['POST', '/containers/0123456789ab/restart'],
    ['POST', '/containers/0123456789ab/exec'],
    ['POST', '/containers/0123456789ab/kill'],
    ['GET', '/containers/0123456789ab/json'],
    ['POST', '/containers/0123456789ab/update'],
    ['GET', '/containers/0123456789ab/archive'],
    ['POST', '/networks/create'],
    ['POST', '/volumes/create'],
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
    const spec = containerSpec(parseEnvironmentRequest({ ...request, ephemeralStorageMb: 1024, command: ['test/slow.handler'] }), config, 'notify', placement) as Record<string, any>;
    expect(spec).toMatchObject({
      Image: 'lambda-pipelines/notify:latest',
      User: '993:993',
      Cmd: ['test/slow.handler'],
      Env: ['TOPIC_ARN=arn:aws:sns:us-east-1:000000000000:t'],
      Labels: {
        'lambda-pipelines.stack': 'lambda-pipelines',
        'lambda-pipelines.function': request.function,
        'lambda-pipelines.test': 'true',
        'lambda-pipelines.network': placement.network,
        'lambda-pipelines.scratch': placement.scratchVolume,
      },
      HostConfig: {
        ReadonlyRootfs: true,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges:true'],
        Privileged: false,
        PidsLimit: 256,
        Memory: 256 * 1024 * 1024,
        MemorySwap: 256 * 1024 * 1024,
        // The init's 2 vCPUs; lowered to 256 / 1769 of one once the init is over.
        NanoCpus: 2_000_000_000,
        Mounts: [{ Type: 'volume', Source: placement.scratchVolume, Target: '/tmp' }],
        NetworkMode: placement.network,
        Binds: [],
        PortBindings: {},
      },
    });
    expect(spec.HostConfig.Tmpfs).toBeUndefined();
  });

  it('falls back to a tmpfs /tmp of the ephemeral storage size where no volume can be made, and caps CPU at the cores', () => {
    const spec = containerSpec(parseEnvironmentRequest({ ...request, memoryMb: 10_240 }), config, 'notify', { network: 'n', cores: 1 }) as Record<string, any>;
    expect(spec.HostConfig).toMatchObject({ Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=512m,mode=1777' }, NanoCpus: 1_000_000_000 });
    expect(spec.HostConfig.Mounts).toBeUndefined();
  });

  it('takes /28 subnets from the pool, one per environment', () => {
    expect(subnetAt('10.213.0.0/16', 0)).toBe('10.213.0.0/28');
    expect(subnetAt('10.213.0.0/16', 17)).toBe('10.213.1.16/28');
    expect(subnetAt('10.213.0.0/16', 4095)).toBe('10.213.255.240/28');
    expect(subnetCount('10.213.0.0/16')).toBe(4096);
    expect(() => subnetAt('10.213.0.0/26', 0)).toThrow('too small');
    expect(() => subnetAt('bad', 0)).toThrow('ENVIRONMENT_SUBNETS must be an IPv4 CIDR');
  });

  it('mounts only the dev bundle of the image\'s own function folder, when make dev configured one', () => {
    const spec = containerSpec(parseEnvironmentRequest(request), { ...config, devBundles: '/home/dev/project/.cache/dev' }, 'notify', placement) as Record<string, any>;
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
    [{ ...request, architecture: 'mips' }, /architecture/],
  ])('refuses a request that asks for more than Lambda varies: %j', (body, message) => {
    expect(() => parseEnvironmentRequest(body)).toThrow(message);
  });

  it('needs its stack label, and says so', () => {
    expect(() => proxyConfig({})).toThrow('docker-proxy: STACK_ID must be set');
    expect(proxyConfig({ STACK_ID: 's', CONTAINER_LABELS: '{"a":"b"}' })).toMatchObject({ stackId: 's', extraLabels: { a: 'b' }, subnetPool: '10.213.0.0/16' });
  });
});
