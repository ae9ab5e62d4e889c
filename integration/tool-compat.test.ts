// The images in the tools users already test Lambda images with, each run for real:
// - AWS's own recipe: `docker run -p 9000:8080 <image>` and curl (the Runtime Interface Emulator);
// - `sam local invoke` on each function's sample event, against LocalStack;
// - `sam local start-lambda --warm-containers EAGER`, called through the AWS SDK;
// - MiniStack's Lambda: create-function --package-type Image, then invoke.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Network, type StartedNetwork } from 'testcontainers';
import { BY_DAY_INDEX } from '#shared/processing-log-reader';
import { functionEnvironment } from '../local-lambda/function-environment';
import type { LocalPlan } from '../local-lambda/template/plan';
import { jpeg } from '../functions/thumbnail/test-images';
import { functionFolders } from '../toolkit/function-folders';
import { samLogicalId, samTemplate } from '../toolkit/sam-template';
import { deployTemplate, planFunction } from '../toolkit/template-plan';
import { LABEL, describeWithDocker, eventually, imageOf } from './support/docker';
import { startLocalStack, type LocalStack } from './support/localstack';
import { answerOf, offlineAnswer, offlineCases, offlineFails } from '../toolkit/offline-events';
import { freePort } from '../toolkit/free-port';
import { STACK_NAME, synthTestStack } from './support/stack';

const ROOT = join(__dirname, '..');
const tool = (name: string) => execFileSync(join(ROOT, 'scripts/python-tools.sh'), [name], { encoding: 'utf8', timeout: 600_000 }).trim();
const cliEnv = { ...process.env, SAM_CLI_TELEMETRY: '0', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1', AWS_REGION: 'us-east-1' };
const sampleEvent = (fn: string) => {
  const dir = join(ROOT, 'functions', fn, 'events');
  return join(dir, readdirSync(dir).filter((f) => f.endsWith('.json')).sort()[0]!);
};
const lambdaAt = (endpoint: string) => new LambdaClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });

describeWithDocker('the images in the tools users test Lambda images with', () => {
  let localstack: LocalStack;
  let network: StartedNetwork;
  let samBin = '';
  let ministackBin = '';
  const dir = mkdtempSync(join(tmpdir(), 'tools-'));
  const started: string[] = [];
  const processes: ChildProcess[] = [];
  let plan: LocalPlan;
  let outputs: Record<string, string> = {};
  const functions = functionFolders();
  /** What the template gives a function, as it runs beside LocalStack (reached as localstack:4566). */
  const environmentOf = (name: string) => functionEnvironment(planFunction(plan, name), { region: 'us-east-1', endpointUrl: 'http://localstack:4566' });

  beforeAll(async () => {
    samBin = tool('sam');
    ministackBin = tool('ministack');
    // SAM's containers reach LocalStack as `localstack` on a network of their own.
    network = await new Network().start();
    localstack = await startLocalStack(network);
    // The stack's resources, created from its template as `make up` creates them.
    ({ plan, outputs } = await deployTemplate(localstack.clients, synthTestStack().template, STACK_NAME));
    // What the sample events name: the photo, the CSV (in the uploads bucket the stack names).
    const put = (key: string, body: Buffer | string) => localstack.clients.s3.send(new PutObjectCommand({ Bucket: outputs.UploadsBucketName, Key: key, Body: body }));
    await put('images/red flower + été%.jpg', await jpeg(800, 600));
    await put('images/holiday photo.png', await jpeg(300, 200));
    await put('imports/people/team list 2026.csv', readFileSync(join(ROOT, 'samples/people.csv')));
  }, 900_000);

  afterAll(async () => {
    for (const p of processes) p.kill('SIGTERM');
    if (started.length > 0) execFileSync('docker', ['rm', '-f', ...started], { stdio: 'ignore' });
    // Whatever SAM or MiniStack left behind of our images.
    for (const fn of functions) {
      const ids = execFileSync('docker', ['ps', '-aq', '--filter', `ancestor=${imageOf(fn)}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
      if (ids.length > 0) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
    }
    await localstack?.container.stop();
    await network?.stop();
  }, 120_000);

  /** Processing-log items with from <= createdAt < to, by status, read through the by-day index. */
  async function loggedBetween(from: string, to: string) {
    const statuses: string[] = [];
    for (const day of [from.slice(0, 10), to.slice(0, 10)]) {
      const out = await localstack.clients.dynamodb.send(
        new QueryCommand({
          TableName: outputs.ProcessingLogTableName,
          IndexName: BY_DAY_INDEX,
          KeyConditionExpression: '#day = :day AND createdAt BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#day': 'day' },
          ExpressionAttributeValues: { ':day': { S: day }, ':from': { S: from }, ':to': { S: new Date(Date.parse(to) - 1).toISOString() } },
        }),
      );
      statuses.push(...(out.Items ?? []).map((i) => i.status?.S ?? ''));
    }
    return { items: statuses.length, processed: statuses.filter((s) => s === 'PROCESSED').length, failed: statuses.filter((s) => s === 'FAILED').length };
  }

  it.each(functions)("AWS's recipe: docker run -p 9000:8080 %s, then curl the emulator", async (name) => {
    const port = await freePort();
    const env = Object.entries(environmentOf(name));
    const id = execFileSync('docker', ['run', '-d', '--label', `${LABEL}=true`, '-p', `127.0.0.1:${port}:8080`, ...env.flatMap(([k, v]) => ['-e', `${k}=${v}`]), imageOf(name)], { encoding: 'utf8' }).trim();
    started.push(id);
    const url = `http://127.0.0.1:${port}/2015-03-31/functions/function/invocations`;
    const body = await eventually(async () => {
      try {
        return execFileSync('curl', ['-fsS', '-XPOST', url, '-d', JSON.stringify(offlineCases[name]!.event)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        return undefined; // the emulator is not listening yet
      }
    }, `the emulator of ${name} on ${port}`, 30_000);
    expect(answerOf(JSON.parse(body))).toEqual(offlineAnswer(name));
  });

  describe('SAM CLI (aws-sam-cli 1.170 from PyPI, offline)', () => {
    const template = () => {
      const file = join(dir, 'template.yaml');
      writeFileSync(file, samTemplate(functions.map((f) => planFunction(plan, f)), { image: (fn) => imageOf(fn.repository.split('/').pop()!), environment: (fn) => environmentOf(fn.repository.split('/').pop()!) }));
      return file;
    };

    it.each(functions)("sam local invoke %s with its sample event, against LocalStack", async (name) => {
      const out = execFileSync(
        join(samBin, 'sam'),
        ['local', 'invoke', samLogicalId(name), '--template', template(), '--event', sampleEvent(name), '--skip-pull-image', '--docker-network', network.getName()],
        { encoding: 'utf8', env: cliEnv, cwd: dir, timeout: 180_000, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const response = JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).at(-1)!) as Record<string, any>;
      if (name === 'audit') expect(response).toEqual({ batchItemFailures: [] });
      // The api's first sample is GET /config: a Function URL response.
      else if (name === 'api') expect(response).toMatchObject({ statusCode: 200, headers: { 'content-type': 'application/json' } });
      // The sample event reports on the 24 hours before 2026-11-25T06:00Z: what this suite's own
      // invocations logged in them (none, on any other day), counted here with a Query of its own.
      else if (name === 'report') expect(response).toMatchObject({ date: '2026-11-25', figures: await loggedBetween('2026-11-24T06:00:00.000Z', '2026-11-25T06:00:00.000Z'), json: `s3://${outputs.ReportsBucketName}/daily/2026-11-25.json` });
      else expect(response.results.length).toBeGreaterThan(0);
      if (name === 'thumbnail') expect(response.results[0]).toMatchObject({ key: 'images/red flower + été%.jpg', status: 'PROCESSED' });
      if (name === 'csv-import') expect(response.results[0]).toMatchObject({ status: 'PROCESSED', dataset: 'people', rowsWritten: 10 });
      if (name === 'notify') expect(response.results.map((r: { messageId: string }) => typeof r.messageId)).toEqual(['string', 'string']);
    }, 200_000);

    it('sam local start-lambda --warm-containers EAGER answers the AWS SDK for every function', async () => {
      const port = await freePort();
      const sam = spawn(join(samBin, 'sam'), ['local', 'start-lambda', '--template', template(), '--port', String(port), '--warm-containers', 'EAGER', '--skip-pull-image', '--docker-network', network.getName()], {
        env: cliEnv,
        cwd: dir,
        stdio: 'ignore',
      });
      processes.push(sam);
      const lambda = lambdaAt(`http://127.0.0.1:${port}`);
      try {
        for (const fn of functions) {
          const out = await eventually(
            () => lambda.send(new InvokeCommand({ FunctionName: samLogicalId(fn), Payload: Buffer.from(JSON.stringify(offlineCases[fn]!.event)) })),
            `sam start-lambda answering for ${fn}`,
            120_000,
            1_000,
          );
          expect([fn, out.FunctionError, answerOf(JSON.parse(Buffer.from(out.Payload!).toString()))]).toEqual([fn, offlineFails(fn) ? 'Unhandled' : undefined, offlineAnswer(fn)]);
        }
      } finally {
        lambda.destroy();
        sam.kill('SIGTERM');
      }
    }, 300_000);
  });

  it('MiniStack (1.5.33 from PyPI) runs each image: create-function --package-type Image, then invoke', async () => {
    const port = await freePort();
    const ministack = spawn(join(ministackBin, 'ministack'), [], { env: { ...cliEnv, GATEWAY_PORT: String(port) }, stdio: 'ignore' });
    processes.push(ministack);
    const endpoint = `http://127.0.0.1:${port}`;
    await eventually(async () => ((await fetch(`${endpoint}/`).catch(() => undefined)) ? true : undefined), 'MiniStack answering', 60_000);
    const aws = (...args: string[]) => execFileSync('aws', ['--endpoint-url', endpoint, ...args], { encoding: 'utf8', env: cliEnv });
    try {
      for (const fn of functions) {
        const variables = Object.fromEntries(Object.entries(environmentOf(fn)).filter(([k]) => !k.startsWith('AWS_') && k !== '_HANDLER'));
        expect(Object.keys(variables).length).toBeGreaterThan(0);
        const envFile = join(dir, `${fn}-env.json`);
        writeFileSync(envFile, JSON.stringify({ Variables: variables }));
        aws('lambda', 'create-function', '--function-name', fn, '--package-type', 'Image', '--code', `ImageUri=${imageOf(fn)}`, '--role', 'arn:aws:iam::000000000000:role/lambda-role', '--environment', `file://${envFile}`);
        const eventFile = join(dir, `${fn}-event.json`);
        const outFile = join(dir, `${fn}-out.json`);
        writeFileSync(eventFile, JSON.stringify(offlineCases[fn]!.event));
        const meta = JSON.parse(aws('lambda', 'invoke', '--function-name', fn, '--payload', `fileb://${eventFile}`, outFile)) as { StatusCode: number; FunctionError?: string };
        expect([fn, meta.StatusCode, meta.FunctionError, answerOf(JSON.parse(readFileSync(outFile, 'utf8')))]).toEqual([fn, 200, offlineFails(fn) ? 'Unhandled' : undefined, offlineAnswer(fn)]);
      }
    } finally {
      ministack.kill('SIGTERM');
    }
  }, 300_000);
});
