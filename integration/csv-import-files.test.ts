// Hard files for the real csv-import image, run as Lambda runs it (its runtime, read-only root, its
// memory limit without swap) against LocalStack:
// - a 20 MB import whose S3 downloads break every 3 MB (a TCP proxy on 127.0.0.1 resets them)
//   still writes every row exactly once;
// - a 60 MB file with an unclosed quote on line 2, and one with a 50 MB field, end FAILED with a
//   reason while the container stays far under its memory limit (peak measured by its cgroup);
// - an if-newer data set keeps the newest row whatever order its files come in.
import { execFileSync } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { CreateTableCommand, GetItemCommand, ScanCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { PIDS_LIMIT, SANDBOX_USER } from '../local-lambda/container-spec';
import { functionEnvironment } from '../local-lambda/function-environment';
import type { FunctionPlan } from '../local-lambda/template/plan';
import { deployTemplate, planFunction } from '../toolkit/template-plan';
import { peakMemoryBytes } from './support/container-memory';
import { startCuttingProxy, type CuttingProxy } from './support/cutting-proxy';
import { LABEL, describeWithDocker, imageOf, removeLabelledContainers } from './support/docker';
import { startLocalStack, type LocalStack } from './support/localstack';
import { Probe } from './support/probe';
import { startRuntimeApi, type TestRuntimeApi } from '../toolkit/runtime-api';
import { STACK_NAME, synthTestStack } from './support/stack';

const ROWS = 20_000;
const CUT_AFTER_BYTES = 3 * 1024 * 1024;

/** Row i of the big file: about 1 KB, its fields derived from i so every stored row can be checked. */
const row = (i: number) => ({ id: `r-${i}`, name: `Person ${i} ${'x'.repeat(950)}`, email: `p${i}@example.com`, age: i % 97, active: i % 3 === 0 });

/** An if-newer data set only this suite declares, handed to the container as a user would. */
const RELEASES = { name: 'builds', key: { partition: 'series' }, columns: { series: 'string', build: 'number', note: 'string' }, upsert: { mode: 'if-newer', versionColumn: 'build' }, table: 'builds', tableKeys: { partitionKey: 'series' } };

describeWithDocker('csv-import: hard files in the real image', () => {
  let localstack: LocalStack;
  let proxy: CuttingProxy;
  let api: TestRuntimeApi;
  let container = '';
  let probe: Probe;
  let csvImport: FunctionPlan;
  let outputs: Record<string, string> = {};

  const event = (key: string, sequencer: string) => ({
    Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', eventTime: new Date().toISOString(), s3: { bucket: { name: outputs.UploadsBucketName }, object: { key, size: 0, sequencer, eTag: sequencer } } }],
  });
  const invoke = async (key: string, sequencer: string) => {
    const result = await api.runtime.invoke({ payload: Buffer.from(JSON.stringify(event(key, sequencer))) });
    return result.ok ? (JSON.parse(result.payload.toString()) as { results: Array<Record<string, unknown>> }).results[0] : result;
  };
  const put = (key: string, body: string | Buffer) => localstack.clients.s3.send(new PutObjectCommand({ Bucket: outputs.UploadsBucketName, Key: key, Body: body }));

  beforeAll(async () => {
    removeLabelledContainers();
    localstack = await startLocalStack();
    // The stack's resources, created from its template as the local Lambda service creates them.
    const deployed = await deployTemplate(localstack.clients, synthTestStack().template, STACK_NAME);
    outputs = deployed.outputs;
    csvImport = planFunction(deployed.plan, 'csv-import');
    await localstack.clients.dynamodb.send(
      new CreateTableCommand({ TableName: 'builds', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'series', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'series', KeyType: 'HASH' }] }),
    );
    await waitUntilTableExists({ client: localstack.clients.dynamodb, maxWaitTime: 60 }, { TableName: 'builds' });
    probe = new Probe(localstack.clients, { output: (key) => outputs[key]! });
    const target = new URL(localstack.endpoint);
    // Every connection to S3 is reset after 3 MB of response: each 8 MB range breaks at least twice.
    proxy = await startCuttingProxy({ host: target.hostname, port: Number(target.port) }, () => CUT_AFTER_BYTES);
    api = await startRuntimeApi('csv-import', 300);
    const base = functionEnvironment(csvImport, { region: 'us-east-1', endpointUrl: localstack.endpoint, runtimeApi: `127.0.0.1:${api.port}` });
    const env = {
      ...base,
      IMPORT_DATASETS: JSON.stringify([...JSON.parse(base.IMPORT_DATASETS!), RELEASES]),
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${proxy.port}`,
    };
    const memoryMb = csvImport.memoryMb;
    container = execFileSync(
      'docker',
      [
        'run', '-d', '--read-only', '--tmpfs', '/tmp', '--user', SANDBOX_USER, '--network', 'host', '--label', `${LABEL}=true`,
        '--memory', `${memoryMb}m`, '--memory-swap', `${memoryMb}m`, '--pids-limit', String(PIDS_LIMIT), '--cap-drop', 'ALL',
        ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
        imageOf('csv-import'),
      ],
      { encoding: 'utf8' },
    ).trim();
  }, 300_000);

  afterAll(async () => {
    if (container) execFileSync('docker', ['rm', '-f', container], { stdio: 'ignore' });
    api?.close();
    await proxy?.close();
    await localstack?.container.stop();
  });

  it('resumes each broken download where it stopped and imports every row exactly once', async () => {
    const KEY = 'imports/people/resume/big.csv';
    const lines = ['id,name,email,age,active', ...Array.from({ length: ROWS }, (_, i) => Object.values(row(i)).join(','))];
    await put(KEY, `${lines.join('\n')}\n`);

    const outcome = await invoke(KEY, 'resume-1');

    expect(outcome).toMatchObject({ key: KEY, status: 'PROCESSED', dataset: 'people', rowsRead: ROWS, rowsWritten: ROWS, rowsRejected: 0 });
    // The proxy really broke the reads: the file is ~20 MB, so at 3 MB per connection several times.
    console.log(`csv-import over a cutting proxy: ${proxy.cuts()} connections reset, ${proxy.connections()} opened`);
    expect(proxy.cuts()).toBeGreaterThanOrEqual(5);
    // Every row is in the table, intact: nothing torn at a cut, nothing lost, nothing extra.
    const stored = new Map<string, Record<string, unknown>>();
    let start: Record<string, any> | undefined;
    do {
      const page = await localstack.clients.dynamodb.send(new ScanCommand({ TableName: outputs.PeopleTableName, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) stored.set(String(unmarshall(item).id), unmarshall(item));
      start = page.LastEvaluatedKey;
    } while (start);
    expect(stored.size).toBe(ROWS);
    const wrong = Array.from({ length: ROWS }, (_, i) => row(i)).filter((r) => !isDeepStrictEqual(stored.get(r.id), r));
    expect(wrong.map((r) => r.id).slice(0, 5)).toEqual([]);
    expect((await probe.logItems(KEY))[0]).toMatchObject({ status: 'PROCESSED', details: { rowsRead: ROWS, rowsWritten: ROWS, rowsRejected: 0 } });
  });

  it.each([
    ['a 60 MB file with an unclosed quote on line 2', 'imports/people/hostile/quote.csv', () => Buffer.concat([Buffer.from('id,name\n1,"never closed\n'), Buffer.alloc(60 * 1024 * 1024, 'x\n')])],
    ['a file with one 50 MB field', 'imports/people/hostile/field.csv', () => Buffer.concat([Buffer.from('id,name\n1,'), Buffer.alloc(50 * 1024 * 1024, 'y'), Buffer.from('\n2,ok\n')])],
  ])('%s ends FAILED with a reason, the container far under its memory limit', async (_what, key, body) => {
    await put(key, body());

    const outcome = await invoke(key, `hostile-${key}`);

    expect(outcome).toMatchObject({ key, status: 'FAILED', reason: expect.stringMatching(/^the CSV record starting at line 2 is longer than 1048576 bytes \(MAX_RECORD_BYTES\)/) });
    const state = JSON.parse(execFileSync('docker', ['inspect', '-f', '{{json .State}}', container], { encoding: 'utf8' })) as { Running: boolean; OOMKilled: boolean };
    expect([state.Running, state.OOMKilled]).toEqual([true, false]);
    const peak = peakMemoryBytes(execFileSync('docker', ['inspect', '-f', '{{.Id}}', container], { encoding: 'utf8' }).trim());
    console.log(`${key}: container peak memory ${peak === undefined ? 'not readable here' : `${(peak / 1048576).toFixed(0)} MB`} of ${csvImport.memoryMb} MB`);
    if (peak !== undefined) expect(peak).toBeLessThan(csvImport.memoryMb * 1024 * 1024 * 0.75);
  });

  it('if-newer: a re-uploaded older file cannot roll a row back, and the newest row wins in any order', async () => {
    await put('imports/builds/new.csv', 'series,build,note\ntrixie,7,newer\nsid,2,first\nsid,5,later\n');
    await put('imports/builds/old.csv', 'series,build,note\ntrixie,3,older\nsid,4,older\n');

    const first = (await invoke('imports/builds/new.csv', 'builds-1')) as Record<string, number>;
    expect(first).toMatchObject({ status: 'PROCESSED', dataset: 'builds', rowsRead: 3 });
    // The two sid rows race; whichever lands first, the other is written over it or skipped.
    expect(first.rowsWritten! + first.rowsSkipped!).toBe(3);
    expect(await invoke('imports/builds/old.csv', 'builds-2')).toMatchObject({ status: 'PROCESSED', rowsWritten: 0, rowsSkipped: 2 });

    const get = async (series: string) => unmarshall((await localstack.clients.dynamodb.send(new GetItemCommand({ TableName: 'builds', Key: { series: { S: series } }, ConsistentRead: true }))).Item!);
    expect(await get('trixie')).toEqual({ series: 'trixie', build: 7, note: 'newer' });
    expect(await get('sid')).toEqual({ series: 'sid', build: 5, note: 'later' });
  });
});
