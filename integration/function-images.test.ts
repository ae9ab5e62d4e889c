// Every function image, as built by `make build`, runs its production entrypoint (aws-lambda-ric)
// on a read-only root filesystem with only /tmp writable, as a non-root user, against a Lambda
// Runtime API: a real event gets the right response, a handler error arrives at /error, and a
// broken configuration at /runtime/init/error.
import { execFileSync } from 'node:child_process';
import { functionEnvironment } from '../local-lambda/function-environment';
import { functionFolders } from '../toolkit/function-folders';
import { offlinePlan, planFunction } from '../toolkit/template-plan';
import { LABEL, describeWithDocker, imageOf, removeLabelledContainers } from './support/docker';
import { answerOf, offlineAnswer, offlineCases, s3Record } from '../toolkit/offline-events';
import { startRuntimeApi, type TestRuntimeApi } from '../toolkit/runtime-api';
import { synthTestStack } from './support/stack';

// The environment the template gives each function, with names shaped as LocalStack would report them.
const plan = offlinePlan(synthTestStack().template);
const environmentOf = (name: string, port: number) => functionEnvironment(planFunction(plan, name), { region: 'us-east-1', endpointUrl: 'http://127.0.0.1:4566', runtimeApi: `127.0.0.1:${port}` });

describeWithDocker('function images', () => {
  let api: TestRuntimeApi | undefined;
  const started: string[] = [];

  beforeAll(() => removeLabelledContainers());
  afterEach(() => {
    api?.close();
    api = undefined;
    if (started.length > 0) execFileSync('docker', ['rm', '-f', ...started.splice(0)], { stdio: 'ignore' });
  });

  function run(name: string, port: number, env: Record<string, string>): void {
    const envArgs = Object.entries({ ...environmentOf(name, port), ...env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const id = execFileSync(
      'docker',
      ['run', '-d', '--read-only', '--tmpfs', '/tmp', '--user', '993:993', '--network', 'host', '--label', `${LABEL}=true`, ...envArgs, imageOf(name)],
      { encoding: 'utf8' },
    ).trim();
    started.push(id);
  }

  it.each(functionFolders())('%s: answers a real event from a read-only, non-root container', async (name) => {
    api = await startRuntimeApi(name);
    run(name, api.port, {});

    const result = await api.runtime.invoke({ payload: Buffer.from(JSON.stringify(offlineCases[name]!.event)) });

    expect(answerOf(result.ok ? JSON.parse(result.payload.toString()) : result.error)).toEqual(offlineAnswer(name));
  });

  it('posts a handler error to /error with its type and message', async () => {
    api = await startRuntimeApi('notify');
    // Nothing listens on port 9: the HEAD request of notify fails, and the error propagates.
    run('notify', api.port, { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' });

    const result = await api.runtime.invoke({ payload: Buffer.from(JSON.stringify({ Records: [s3Record('uploads', 'images/cat.jpg')] })) });

    expect(result).toMatchObject({ ok: false, kind: 'Unhandled', error: { errorType: expect.any(String), errorMessage: expect.stringMatching(/ECONNREFUSED|connect/) } });
  });

  it('posts a broken configuration to /runtime/init/error, naming the variable', async () => {
    api = await startRuntimeApi('thumbnail');
    const pending = api.runtime.invoke({ payload: Buffer.from('{}') });
    run('thumbnail', api.port, { THUMBNAIL_WIDTHS: 'abc' });

    const result = await pending;

    expect(result).toMatchObject({ ok: false, kind: 'InitError', error: { errorMessage: expect.stringContaining('THUMBNAIL_WIDTHS="abc" is invalid') } });
  });
});
