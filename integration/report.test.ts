// The scheduled report end to end: a known mix of uploads goes through the pipelines, the local
// Lambda service fires the report's schedule on time (every minute here, as a test stack), and
// every number of the JSON, the CSV and the SNS summary is checked against what the pipelines did.
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { parse } from 'csv-parse/sync';
import { jpeg } from '../functions/thumbnail/test-images';
import { lambdaClient } from '../toolkit/clients';
import { describeWithDocker, eventually, removeLabelledContainers } from './support/docker';
import { Probe, type Envelope, type LogItem } from './support/probe';
import { startStack, type RunningStack } from './support/stack';

/** Nearest-rank percentile, as the report computes it (functions/report/aggregate.ts). */
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
};

describeWithDocker('the scheduled report', () => {
  let stack: RunningStack;
  let probe: Probe;
  const s3 = () => stack.localstack.clients.s3;
  const text = async (bucket: string, key: string) => (await (await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString());

  beforeAll(async () => {
    removeLabelledContainers();
    // Every minute instead of 06:00: the same schedule machinery, a test that waits a minute, not a day.
    stack = await startStack({ config: { report: { schedule: { expression: 'cron(* * * * ? *)' } } } });
    probe = new Probe(stack.localstack.clients, stack);
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('fires on time and reports every number of a known mix of uploads, once per period', async () => {
    const photos = { 'images/report/one.jpg': await jpeg(800, 600), 'images/report/two.jpg': await jpeg(300, 400) };
    const broken = 'images/report/broken.jpg';
    const csvKey = 'imports/people/report-mix.csv';
    const csv = ['id,name,email,age,active', 'r1,Ann,ann@example.com,34,true', 'r2,Bob,bob@example.com,not-a-number,true', ',Cid,cid@example.com,20,false', 'r4,Dee,dee@example.com,41,false', ''].join('\n');
    for (const [key, body] of Object.entries(photos)) await probe.put(key, body, 'image/jpeg');
    await probe.put(broken, 'this is not an image', 'image/jpeg');
    await probe.put(csvKey, csv, 'text/csv');

    const items: LogItem[] = [];
    for (const key of [...Object.keys(photos), broken, csvKey]) items.push(await probe.logItem(key));
    const allLogged = new Date();
    const thumbs = items.filter((i) => i.function === 'thumbnail');
    const imported = items.find((i) => i.function === 'csv-import')!;
    // What the pipelines did, before the report says it.
    expect(items.map((i) => [i.key, i.status])).toEqual([
      ['images/report/one.jpg', 'PROCESSED'],
      ['images/report/two.jpg', 'PROCESSED'],
      [broken, 'FAILED'],
      [csvKey, 'PROCESSED'],
    ]);
    expect(imported.details).toMatchObject({ rowsRead: 4, rowsWritten: 2, rowsSkipped: 0, rowsRejected: 2 });
    const outputs = await s3().send(new ListObjectsV2Command({ Bucket: probe.thumbnails, Prefix: 'images/report/' }));
    const bytesOut = (outputs.Contents ?? []).reduce((sum, o) => sum + o.Size!, 0);
    // 128/512/800 of the first, 128/300 of the second (never upscaled past the original width).
    expect(outputs.Contents).toHaveLength(5);

    // The first summary of a period that ends after everything was logged.
    const summary = await eventually(
      async () => (await probe.notifications('DailyReports')).find((n) => new Date(n.MessageAttributes!.period!.Value.split('/')[1]!) > allLogged),
      'a daily-reports summary of a period ending after the uploads were processed',
      150_000,
      1_000,
    );
    const [from, to] = summary.MessageAttributes!.period!.Value.split('/') as [string, string];
    const date = summary.MessageAttributes!.date!.Value;
    // On time: a scheduled minute, fired within seconds of it, over the 24 hours before it.
    expect(to).toMatch(/T\d{2}:\d{2}:00\.000Z$/);
    expect(new Date(to).getTime() - new Date(from).getTime()).toBe(24 * 3_600_000);

    const reports = stack.output('ReportsBucketName');
    const report = JSON.parse(await text(reports, `daily/${date}.json`)) as Record<string, any>;
    // A later minute may have rewritten it: the numbers are the same, the period moves on.
    expect(new Date(report.generatedAt).getTime() - new Date(report.to).getTime()).toBeLessThan(30_000);
    expect(report).toMatchObject({
      date,
      items: 4,
      processed: 3,
      failed: 1,
      functions: [
        { function: 'csv-import', processed: 1, failed: 0, p50Ms: imported.durationMs, p95Ms: imported.durationMs },
        { function: 'thumbnail', processed: 2, failed: 1, p50Ms: percentile(thumbs.map((t) => t.durationMs), 50), p95Ms: percentile(thumbs.map((t) => t.durationMs), 95) },
      ],
      thumbnails: { images: 2, bytesIn: photos['images/report/one.jpg'].length + photos['images/report/two.jpg'].length, bytesOut },
      imports: { files: 1, rowsRead: 4, rowsWritten: 2, rowsSkipped: 0, rowsRejected: 2 },
      topFailures: [{ function: 'thumbnail', reason: items[2]!.reason, count: 1 }],
    });

    const rows = parse(await text(reports, `daily/${date}.csv`), { columns: true }) as Array<Record<string, string>>;
    const value = (metric: string, fn = '', detail = '') => Number(rows.find((r) => r.metric === metric && r.function === fn && r.detail === detail)?.value);
    expect([value('items'), value('processed'), value('failed')]).toEqual([4, 3, 1]);
    expect([value('processed', 'thumbnail'), value('failed', 'thumbnail'), value('p50_ms', 'thumbnail'), value('p95_ms', 'thumbnail')]).toEqual([2, 1, report.functions[1].p50Ms, report.functions[1].p95Ms]);
    expect([value('bytes_in', 'thumbnail'), value('bytes_out', 'thumbnail')]).toEqual([report.thumbnails.bytesIn, bytesOut]);
    expect([value('rows_read', 'csv-import'), value('rows_written', 'csv-import'), value('rows_rejected', 'csv-import')]).toEqual([4, 2, 2]);
    expect(value('failure', 'thumbnail', items[2]!.reason)).toBe(1);

    expect((summary as Envelope & { Subject: string }).Subject).toBe(`Daily report ${date}: 3 processed, 1 failed`);
    expect(summary.Message).toContain('thumbnail: 2 processed, 1 failed');
    expect(summary.Message).toContain('imports: 1 files, 4 rows read, 2 written, 2 rejected');
    expect(summary.Message).toContain(`full report: s3://${reports}/daily/${date}.json`);

    // The same scheduled event again (a retry, or `aws lambda invoke` with it): the objects are
    // rewritten, the summary of that period is not sent twice.
    const lambda = lambdaClient(stack.lambdaApiUrl);
    try {
      const again = await lambda.send(
        new InvokeCommand({ FunctionName: stack.functionName('report'), Payload: Buffer.from(JSON.stringify({ 'detail-type': 'Scheduled Event', source: 'aws.scheduler', time: to.replace('.000Z', 'Z') })) }),
      );
      expect(again.FunctionError).toBeUndefined();
      expect(JSON.parse(Buffer.from(again.Payload!).toString())).toMatchObject({ period: `${from}/${to}`, summary: 'already sent', figures: { items: 4, processed: 3, failed: 1 } });
    } finally {
      lambda.destroy();
    }
    const ofPeriod = (await probe.notifications('DailyReports')).filter((n) => n.MessageAttributes!.period!.Value === `${from}/${to}`);
    expect(ofPeriod).toHaveLength(1);
  }, 300_000);
});
