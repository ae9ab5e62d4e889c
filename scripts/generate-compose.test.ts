import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { functions } from '#stack';
import { COMPOSE_FILE, composeYaml } from './generate-compose';

describe('docker-compose.yml', () => {
  it('is the one generated from the stack description (run `make compose` when this fails)', () => {
    expect(readFileSync(COMPOSE_FILE, 'utf8')).toBe(composeYaml());
  });

  it('has one read-only service per function, polling its own Runtime API port of the bridge', () => {
    const services = parse(composeYaml()).services as Record<string, { environment: Record<string, string>; read_only: boolean }>;
    for (const [index, fn] of functions.entries()) {
      expect(services[fn.name]).toMatchObject({ read_only: true, environment: { ...fn.environment, AWS_LAMBDA_RUNTIME_API: `bridge:${9100 + index}` } });
    }
    expect(Object.keys(services).sort()).toEqual(['bridge', 'localstack', ...functions.map((f) => f.name)].sort());
  });
});
