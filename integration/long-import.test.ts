// Imports longer than one invocation: csv-import at the test stack's 20 s timeout checkpoints its
// progress (IN_PROGRESS), stops before its deadline at a record boundary and hands the rest to its
// own queue; the continuations carry on, through a killed container and a restart of the local
// Lambda service too. Every row lands once, the counts and the report are those of one import.
import { execFileSync } from 'node:child_process';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describeWithDocker, eventually, removeLabelledContainers } from './support/docker';
import { Probe } from './support/probe';
import { startStack, type RunningStack } from './support/stack';

/** `rows` rows of the people data set; every 1,000th has no id (rejected, with its line). */
const peopleCsv = (prefix: string, rows: number): string =>
  `id,name,email,age,active\n${Array.from({ length: rows }, (_, i) => `${i % 1000 === 999 ? '' : `${prefix}-${i}`},"Person ${i}",p${i}@example.com,${20 + (i % 60)},${i % 2 === 0}`).join('\n')}\n`;

describeWithDocker('imports longer than an invocation', () => {
  let stack: RunningStack;
  let probe: Probe;
  const clients = () => stack.localstack.clients;

  beforeAll(async () => {
    removeLabelledContainers();
    // The test stack's csv-import: 20 s timeout, 40 s visibility.
    stack = await startStack();
    probe = new Probe(clients(), stack);
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  });

  /** The ids of the people table that start with `prefix-`. */
  async function storedIds(prefix: string): Promise<string[]> {
    const ids: string[] = [];
    let start: Record<string, any> | undefined;
    do {
      const page = await clients().dynamodb.send(new ScanCommand({ TableName: stack.output('PeopleTableName'), ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const id = String(unmarshall(item).id);
        if (id.startsWith(`${prefix}-`)) ids.push(id);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return ids;
  }

  /** The rejected-rows report's line numbers. */
  async function reportLines(reportKey: string): Promise<number[]> {
    const out = await clients().s3.send(new GetObjectCommand({ Bucket: probe.uploads, Key: reportKey }));
    const lines = (await out.Body!.transformToString()).trim().split('\n');
    expect(lines[0]).toBe('id,name,email,age,active,line,reason');
    return lines.slice(1).map((l) => Number(l.split(',').at(-2)));
  }

  const expectedRejectedLines = (rows: number) => Array.from({ length: Math.floor(rows / 1000) }, (_, k) => (k + 1) * 1000 + 1);

  async function queuesEmpty(): Promise<void> {
    await eventually(async () => {
      const counts = await probe.queueCounts('CsvImportEventQueueUrl');
      const dlq = await probe.queueDepth('CsvImportDeadLetterQueueUrl');
      return counts.waiting + counts.inFlight + counts.delayed + dlq === 0 ? true : undefined;
    }, "csv-import's queue and DLQ empty", 60_000);
  }

  it('carries a file across invocations at a 20 s timeout: progress shows, every row once, the counts and report of one import, no message left', async () => {
    const rows = 60_000;
    const key = 'imports/people/long/sixty-thousand.csv';
    const started = Date.now();
    await probe.put(key, peopleCsv('long', rows), 'text/csv');

    // While it runs: IN_PROGRESS with the rows so far, in the processing log and through the api (the dashboard's view).
    const progress = await eventually(async () => {
      const [item] = await probe.logItems(key);
      return item?.status === 'IN_PROGRESS' && item.details?.rowsRead > 0 ? item : undefined;
    }, 'the import IN_PROGRESS with rows so far', 120_000);
    const view = (await (await fetch(new URL(`/uploads/${key}`, stack.signingProxyUrl()))).json()) as { status: string; import?: { rowsRead: number; inProgress?: boolean } };
    expect(['IN_PROGRESS', 'PROCESSED']).toContain(view.status);
    if (view.status === 'IN_PROGRESS') expect(view.import).toMatchObject({ inProgress: true, rowsRead: expect.any(Number) });

    const item = await eventually(async () => {
      const [i] = await probe.logItems(key);
      return i?.status === 'PROCESSED' || i?.status === 'FAILED' ? i : undefined;
    }, 'the import PROCESSED', 400_000, 1_000);
    const seconds = (Date.now() - started) / 1000;
    const invocations = Number(item.details?.invocations);
    console.log(`${rows} rows at a 20 s timeout: ${item.status} in ${seconds.toFixed(0)} s over ${invocations} invocations (${invocations - 1} continuations), ${(rows / seconds).toFixed(0)} rows/s; first progress seen at ${progress.details?.rowsRead} rows`);
    expect(item).toMatchObject({ status: 'PROCESSED', details: { rowsRead: rows, rowsWritten: rows - rows / 1000, rowsSkipped: 0, rowsRejected: rows / 1000 } });
    expect(invocations).toBeGreaterThanOrEqual(5);
    expect(await probe.logItems(key)).toHaveLength(1);
    const ids = await storedIds('long');
    expect([ids.length, new Set(ids).size]).toEqual([rows - rows / 1000, rows - rows / 1000]);
    expect(await reportLines(String(item.details?.reportKey))).toEqual(expectedRejectedLines(rows));
    await queuesEmpty();
  }, 600_000);

  it('a killed container and a restarted service mid-way: the import carries on from its checkpoint, every row still once', async () => {
    const rows = 40_000;
    const key = 'imports/people/long/interrupted.csv';
    await probe.put(key, peopleCsv('cut', rows), 'text/csv');
    // A checkpoint is there: then the environment running it is killed, and the service restarted.
    const checkpoint = await eventually(async () => {
      const [i] = await probe.logItems(key);
      return i?.status === 'IN_PROGRESS' && i.details?.rowsRead > 0 ? i : undefined;
    }, 'a checkpoint of the import', 120_000, 200);
    const killed = stack.environments('csv-import');
    for (const id of killed) execFileSync('docker', ['kill', id], { stdio: 'ignore' });
    await stack.restartService();

    const item = await eventually(async () => {
      const [i] = await probe.logItems(key);
      return i?.status === 'PROCESSED' || i?.status === 'FAILED' ? i : undefined;
    }, 'the interrupted import PROCESSED', 500_000, 1_000);
    console.log(`${rows} rows, container killed at ${checkpoint.details?.rowsRead} rows and the service restarted: ${item.status} over ${item.details?.invocations} invocations`);
    expect(killed.length).toBeGreaterThan(0);
    expect(item).toMatchObject({ status: 'PROCESSED', details: { rowsRead: rows, rowsWritten: rows - rows / 1000, rowsRejected: rows / 1000 } });
    const ids = await storedIds('cut');
    expect([ids.length, new Set(ids).size]).toEqual([rows - rows / 1000, rows - rows / 1000]);
    expect(await reportLines(String(item.details?.reportKey))).toEqual(expectedRejectedLines(rows));
    await queuesEmpty();
  }, 700_000);
});
