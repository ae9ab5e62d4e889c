import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { functions } from '#stack';
import { localEnvironment } from '#stack/local';
import { COMPOSE_FILE, composeDevYaml, composeYaml, DEV_COMPOSE_FILE } from './generate-compose';

describe('docker-compose.yml', () => {
  it('is the one generated from the stack description (run `make compose` when this fails)', () => {
    expect(readFileSync(COMPOSE_FILE, 'utf8')).toBe(composeYaml());
    expect(readFileSync(DEV_COMPOSE_FILE, 'utf8')).toBe(composeDevYaml());
  });

  it('runs, under make dev, each function from its rebuilt bundle inside the image (sharp stays the image\'s)', () => {
    const dev = parse(composeDevYaml()).services as Record<string, { command?: string[]; volumes?: string[]; environment: Record<string, string> }>;
    expect(dev.thumbnail).toEqual({
      command: ['dev/handler.handler'],
      environment: { _HANDLER: 'dev/handler.handler', NODE_OPTIONS: '--enable-source-maps' },
      volumes: ['./.cache/dev/thumbnail:/var/task/dev:ro'],
    });
    expect(dev.bridge!.environment).toEqual({ LOCAL_DEV_RELOAD: 'true' });
  });

  it('has one read-only service per function, polling its own Runtime API port of the bridge', () => {
    const services = parse(composeYaml()).services as Record<string, Record<string, unknown>>;
    for (const [index, fn] of functions.entries()) {
      expect(services[fn.name]).toMatchObject({
        read_only: true,
        user: '993:993',
        cap_drop: ['ALL'],
        security_opt: ['no-new-privileges:true'],
        mem_limit: `${fn.memoryMb}m`,
        memswap_limit: `${fn.memoryMb}m`,
        pids_limit: 256,
        environment: { ...localEnvironment(fn), AWS_LAMBDA_RUNTIME_API: `bridge:${9100 + index}` },
        labels: { 'lambda-pipelines.function': fn.name, 'lambda-pipelines.stack': 'lambda-pipelines' },
      });
    }
    expect(Object.keys(services).sort()).toEqual(['bridge', 'docker-proxy', 'localstack', ...functions.map((f) => f.name)].sort());
  });

  it('keeps the Docker socket away from the local Lambda service: only docker-proxy mounts it', () => {
    const services = parse(composeYaml()).services as Record<string, { volumes?: string[]; user?: string; read_only?: boolean; restart?: string }>;
    const withSocket = Object.entries(services).filter(([, s]) => s.volumes?.some((v) => v.includes('docker.sock'))).map(([name]) => name);
    expect(withSocket).toEqual(['docker-proxy']);
    expect(services.bridge).toMatchObject({ user: '993:993', read_only: true, restart: 'unless-stopped' });
  });
});
