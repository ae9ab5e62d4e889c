// A large CSV import survives S3 downloads that break in the middle: the real csv-import image
// reads the object through a TCP proxy on 127.0.0.1 that resets every connection after 3 MB, and
// still writes every row exactly once (rows read = rows in the file, every row intact).
import { execFileSync } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { baseStack, findFunction } from '#stack';
import { bootstrap } from '../scripts/bootstrap';
import { functionEnvironment } from '../scripts/generate-compose';
import { startCuttingProxy, type CuttingProxy } from './support/cutting-proxy';
import { LABEL, describeWithDocker, imageOf, removeLabelledContainers } from './support/docker';
import { startLocalStack, type LocalStack } from './support/localstack';
import { Probe } from './support/probe';
import { startRuntimeApi, type TestRuntimeApi } from './support/runtime-api';

const ROWS = 20_000;
const CUT_AFTER_BYTES = 3 * 1024 * 1024;
const KEY = 'imports/resume/big.csv';

/** Row i of the file: about 1 KB, its fields derived from i so every stored row can be checked. */
const row = (i: number) => ({ id: `r-${i}`, name: `Person ${i} ${'x'.repeat(950)}`, email: `p${i}@example.com`, age: i % 97, active: i % 3 === 0 });

describeWithDocker('csv-import: S3 reads that break mid-file', () => {
  let localstack: LocalStack;
  let proxy: CuttingProxy;
  let api: TestRuntimeApi;
  let container = '';

  beforeAll(async () => {
    removeLabelledContainers();
    localstack = await startLocalStack();
    await bootstrap(localstack.clients, baseStack, () => undefined);
    const lines = ['id,name,email,age,active', ...Array.from({ length: ROWS }, (_, i) => Object.values(row(i)).join(','))];
    await localstack.clients.s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: KEY, Body: `${lines.join('\n')}\n` }));
    const target = new URL(localstack.endpoint);
    // Every connection to S3 is reset after 3 MB of response: each 8 MB range breaks at least twice.
    proxy = await startCuttingProxy({ host: target.hostname, port: Number(target.port) }, () => CUT_AFTER_BYTES);
    api = await startRuntimeApi('csv-import', 300);
    const env = {
      ...functionEnvironment(findFunction('csv-import')!),
      AWS_ENDPOINT_URL: localstack.endpoint,
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${proxy.port}`,
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${api.port}`,
    };
    container = execFileSync(
      'docker',
      ['run', '-d', '--read-only', '--tmpfs', '/tmp', '--user', '993:993', '--network', 'host', '--label', `${LABEL}=true`, ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), imageOf('csv-import')],
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
    const event = {
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          eventTime: new Date().toISOString(),
          s3: { bucket: { name: 'uploads' }, object: { key: KEY, size: 0, sequencer: 'resume-1', eTag: 'resume' } },
        },
      ],
    };

    const result = await api.runtime.invoke({ payload: Buffer.from(JSON.stringify(event)) });

    expect(result.ok ? JSON.parse(result.payload.toString()) : result).toMatchObject({ results: [{ key: KEY, status: 'PROCESSED', rowsRead: ROWS, rowsWritten: ROWS, rowsRejected: 0 }] });
    // The proxy really broke the reads: the file is ~20 MB, so at 3 MB per connection several times.
    console.log(`csv-import over a cutting proxy: ${proxy.cuts()} connections reset, ${proxy.connections()} opened`);
    expect(proxy.cuts()).toBeGreaterThanOrEqual(5);
    // Every row is in the table, intact: nothing torn at a cut, nothing lost, nothing extra.
    const stored = new Map<string, Record<string, unknown>>();
    let start: Record<string, any> | undefined;
    do {
      const page = await localstack.clients.dynamodb.send(new ScanCommand({ TableName: 'imported-rows', ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const value = unmarshall(item);
        stored.set(String(value.id), value);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    expect(stored.size).toBe(ROWS);
    const wrong = Array.from({ length: ROWS }, (_, i) => row(i)).filter((r) => !isDeepStrictEqual(stored.get(r.id), r));
    expect(wrong.map((r) => r.id).slice(0, 5)).toEqual([]);
    const summary = (await new Probe(localstack.clients).logItems(KEY))[0];
    expect(summary).toMatchObject({ status: 'PROCESSED', details: { rowsRead: ROWS, rowsWritten: ROWS, rowsRejected: 0 } });
  });
});
