// The pipelines end to end, as a user meets them: uploads through the AWS SDK to LocalStack, the
// real function images behind the local Lambda service, outputs read back and measured.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetEventSourceMappingCommand, InvokeCommand, ListEventSourceMappingsCommand, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { DescribeAlarmsCommand, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import sharp from 'sharp';
import { jpeg } from '../functions/thumbnail/test-images';
import { cloudWatchClient, lambdaClient } from '../toolkit/clients';
import { describeWithDocker, eventually, removeLabelledContainers } from './support/docker';
import { Probe } from './support/probe';
import { startStack, type RunningStack } from './support/stack';

describeWithDocker('pipelines end to end', () => {
  let stack: RunningStack;
  let probe: Probe;
  const clients = () => stack.localstack.clients;

  beforeAll(async () => {
    removeLabelledContainers();
    // notify gives up on a message after 2 receives, 10 s apart (its visibility timeout here).
    // Queue metrics every 10 s (AWS and make up: every minute), for the test stack's alarms evaluated
    // every 10 s; the functions' failed invocations go to audit (test stacks have that off).
    stack = await startStack({ config: { notify: { trigger: { maxReceiveCount: 2 } }, errorLineAlerts: true }, localstackEnvironment: { SQS_CLOUDWATCH_METRICS_REPORT_INTERVAL: '10' } });
    probe = new Probe(clients(), stack);
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const findMessage = (queue: string, match: (body: Record<string, any>) => boolean, timeoutMs = 60_000) =>
    eventually(async () => (await probe.messages(queue)).find(match), `a matching message on ${queue}`, timeoutMs);

  it('thumbnail: an EXIF-rotated photo becomes upright WebP thumbnails at every width, logged PROCESSED', async () => {
    const key = 'images/holiday photo+été.jpg';
    await probe.put(key, await jpeg(1600, 1200, 6), 'image/jpeg');

    const item = await probe.logItem(key);

    expect(item).toMatchObject({ status: 'PROCESSED', function: 'thumbnail', details: { widths: [128, 512, 1024], format: 'webp' } });
    const listed = await clients().s3.send(new ListObjectsV2Command({ Bucket: probe.thumbnails, Prefix: `${key}/` }));
    expect(listed.Contents?.map((o) => o.Key).sort()).toEqual([`${key}/1024.webp`, `${key}/128.webp`, `${key}/512.webp`]);
    for (const [width, height] of [[128, 171], [512, 683], [1024, 1365]]) {
      const obj = await clients().s3.send(new GetObjectCommand({ Bucket: probe.thumbnails, Key: `${key}/${width}.webp` }));
      expect(obj.ContentType).toBe('image/webp');
      const meta = await sharp(Buffer.from(await obj.Body!.transformToByteArray())).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', width, height]);
    }
  });

  it('thumbnail: re-uploading a key with new content is processed again, not taken for a duplicate', async () => {
    const key = 'images/reupload.jpg';
    await probe.put(key, await jpeg(400, 300), 'image/jpeg');
    await probe.logItem(key);

    await probe.put(key, await jpeg(800, 200), 'image/jpeg');

    const items = await eventually(async () => {
      const all = await probe.logItems(key);
      return all.length >= 2 ? all : undefined;
    }, 'a second processing-log item after the re-upload', 90_000);
    expect(items.map((i) => i.status)).toEqual(['PROCESSED', 'PROCESSED']);
    const obj = await clients().s3.send(new GetObjectCommand({ Bucket: probe.thumbnails, Key: `${key}/512.webp` }));
    const meta = await sharp(Buffer.from(await obj.Body!.transformToByteArray())).metadata();
    expect([meta.width, meta.height]).toEqual([512, 128]);
  });

  it('notify: every upload is published to SNS with filterable attributes', async () => {
    const key = 'images/notify me.png';
    await probe.put(key, await sharp({ create: { width: 8, height: 8, channels: 3, background: '#00f' } }).png().toBuffer(), 'image/png');

    const envelope = await findMessage('UploadNotificationsInboxUrl', (b) => JSON.parse(String(b.Message)).key === key);

    expect(JSON.parse(String(envelope.Message))).toMatchObject({ bucket: probe.uploads, key, contentType: 'image/png', eventName: 'ObjectCreated:Put' });
    expect(envelope.MessageAttributes).toMatchObject({ keyPrefix: { Value: 'images/' }, contentType: { Value: 'image/png' }, bucket: { Value: probe.uploads } });
  });

  it('csv-import: typed rows land in DynamoDB, bad rows in a report, a summary in the log', async () => {
    const key = 'imports/people/team 2026.csv';
    await probe.put(key, '\uFEFFid,name,email,age,active\r\np-1,"Lovelace, Ada",ada@example.com,36,true\r\np-2,Bob,bob@example.com,not-a-number,false\r\n,Nobody,,,\r\np-3,Cy,cy@example.com,41,no\r\n', 'text/csv');

    const item = await probe.logItem(key);

    const people = stack.output('PeopleTableName');
    expect(item).toMatchObject({ status: 'PROCESSED', details: { dataset: 'people', table: people, rowsRead: 4, rowsWritten: 2, rowsRejected: 2, reportKey: `reports/${key}.errors.csv` } });
    const row = await clients().dynamodb.send(new GetItemCommand({ TableName: people, Key: { id: { S: 'p-1' } } }));
    expect(unmarshall(row.Item!)).toEqual({ id: 'p-1', name: 'Lovelace, Ada', email: 'ada@example.com', age: 36, active: true });
    const report = await clients().s3.send(new GetObjectCommand({ Bucket: probe.uploads, Key: `reports/${key}.errors.csv` }));
    const lines = (await report.Body!.transformToString()).trim().split('\n');
    // The file's own header, then line and reason: fix the rows and upload the report as is.
    expect(lines[0]).toBe('id,name,email,age,active,line,reason');
    expect(lines.slice(1).map((l) => l.split(',')[5])).toEqual(['3', '4']);

    // Its EMF line (Powertools Metrics) is a metric in CloudWatch, as CloudWatch Logs makes it on AWS:
    // the suite's only import so far, so RowsImported sums to its rows.
    const imported = await eventually(async () => ((await metricSum('LambdaPipelines', 'RowsImported', [['service', 'csv-import']])) > 0 ? metricSum('LambdaPipelines', 'RowsImported', [['service', 'csv-import']]) : undefined), 'RowsImported in CloudWatch', 30_000);
    expect(imported).toBe(2);
    expect(await metricSum('LambdaPipelines', 'RowsRejected', [['service', 'csv-import']])).toBe(2);
  });

  /** The Sum of a metric over the last hour (LocalStack's CloudWatch). */
  async function metricSum(namespace: string, name: string, dimensions: [string, string][]): Promise<number> {
    const cw = cloudWatchClient(stack.localstack.endpoint);
    const out = await cw.send(
      new GetMetricStatisticsCommand({ Namespace: namespace, MetricName: name, Dimensions: dimensions.map(([Name, Value]) => ({ Name, Value })), StartTime: new Date(Date.now() - 3_600_000), EndTime: new Date(Date.now() + 60_000), Period: 60, Statistics: ['Sum'] }),
    );
    cw.destroy();
    return (out.Datapoints ?? []).reduce((sum, d) => sum + (d.Sum ?? 0), 0);
  }

  it("CloudWatch Logs: an invocation's START, END and REPORT lines, found by its request id with aws logs filter-log-events; AWS/Lambda counts it", async () => {
    const audit = stack.functionName('audit');
    const lambda = lambdaClient(stack.lambdaApiUrl);
    const out = await lambda.send(new InvokeCommand({ FunctionName: audit, Payload: Buffer.from('{"Records":[]}') }));
    lambda.destroy();
    const requestId = out.$metadata.requestId!;
    const group = stack.view.functions.find((f) => f.name === audit)!.logGroup;
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
    const events = await eventually(
      async () => {
        const found = JSON.parse(
          execFileSync('aws', ['logs', 'filter-log-events', '--endpoint-url', stack.localstack.endpoint, '--region', 'us-east-1', '--log-group-name', group, '--filter-pattern', `"${requestId}"`], { encoding: 'utf8', env }),
        ).events as { message: string; logStreamName: string }[];
        // LocalStack 4.14 answers every event of the group whatever the pattern: filtered here as AWS would.
        const mine = found.filter((e) => e.message.includes(requestId));
        return mine.some((e) => e.message.startsWith('REPORT ')) ? mine : undefined;
      },
      `the REPORT line of ${requestId} in ${group}`,
      30_000,
    );
    const lines = events.map((e) => e.message.trim());
    expect(lines[0]).toBe(`START RequestId: ${requestId} Version: $LATEST`);
    expect(lines).toContain(`END RequestId: ${requestId}`);
    expect(lines.at(-1)).toMatch(new RegExp(`^REPORT RequestId: ${requestId}\tDuration: [\\d.]+ ms\tBilled Duration: \\d+ ms\tMemory Size: \\d+ MB\tMax Memory Used: \\d+ MB`));
    // One stream per environment, named as Lambda names them.
    expect(new Set(events.map((e) => e.logStreamName)).size).toBe(1);
    expect(events[0]!.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    await eventually(async () => ((await metricSum('AWS/Lambda', 'Invocations', [['FunctionName', audit]])) >= 1 ? true : undefined), `AWS/Lambda Invocations of ${audit}`, 30_000);
  });

  it('audit: a file that is not an image is logged FAILED and alerted once, even when its event is delivered twice', async () => {
    const key = 'images/notes.png';
    await probe.put(key, 'these are notes, not a png', 'image/png');

    const item = await probe.logItem(key);
    expect(item).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/not a decodable image/) });
    const alert = await findMessage('ProcessingAlertsInboxUrl', (b) => JSON.parse(String(b.Message)).key === key);
    expect(alert.MessageAttributes).toMatchObject({ function: { Value: 'thumbnail' }, status: { Value: 'FAILED' } });

    // Redeliver the very same S3 event, as S3 may: one item, no second alert.
    const [sequencer, eTag] = String(item.objectVersion).split(':');
    const event = {
      Records: [
        {
          eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'us-east-1', eventTime: new Date().toISOString(), eventName: 'ObjectCreated:Put',
          s3: { s3SchemaVersion: '1.0', bucket: { name: probe.uploads, arn: `arn:aws:s3:::${probe.uploads}` }, object: { key: 'images/notes.png', size: 26, sequencer, eTag } },
        },
      ],
    };
    await clients().sqs.send(new SendMessageCommand({ QueueUrl: probe.queueUrl('ThumbnailEventQueueUrl'), MessageBody: JSON.stringify(event) }));
    await eventually(async () => ((await probe.queueDepth('ThumbnailEventQueueUrl')) === 0 ? true : undefined), 'the redelivered event to be consumed');
    expect(await probe.logItems(key)).toHaveLength(1);
    // The stream would carry a second INSERT within a few seconds: watch the alerts for that long.
    const watchUntil = Date.now() + 5_000;
    let alerts: Record<string, unknown>[] = [];
    while (Date.now() < watchUntil) {
      alerts = await probe.messages('ProcessingAlertsInboxUrl');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(alerts.filter((b) => JSON.parse(String(b.Message)).key === key)).toHaveLength(1);
  });

  it('a poison message fails alone: its batch-mates are processed once, it lands in the DLQ after maxReceiveCount receives', async () => {
    // With notify's mapping disabled (UpdateEventSourceMapping --no-enabled, as on AWS), five
    // messages wait in its queue; enabled again, they arrive in one batch (BatchSize 10): four S3
    // events and one that is not an S3 event at all. They are sent with a delay longer than the
    // service's 1 s long poll: a receive in flight when the mapping was disabled ends empty instead
    // of taking one of them. (Reserved concurrency 0 would not hold them: throttled, Lambda keeps
    // receiving, and the messages' receive counts grow.)
    const notify = stack.functionName('notify');
    const lambda = lambdaClient(stack.lambdaApiUrl);
    const [mapping] = (await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: notify }))).EventSourceMappings ?? [];
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: mapping!.UUID, Enabled: false }));
    expect((await lambda.send(new GetEventSourceMappingCommand({ UUID: mapping!.UUID }))).State).toBe('Disabled');
    const keys = ['images/batch/1.png', 'images/batch/2.png', 'images/batch/3.png', 'images/batch/4.png'];
    const event = (key: string) => ({
      Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', eventTime: new Date().toISOString(), s3: { bucket: { name: probe.uploads }, object: { key, size: 1, sequencer: '01', eTag: key } } }],
    });
    const poison = JSON.stringify({ Records: [{ nonsense: 1 }] });
    await clients().sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: probe.queueUrl('NotifyEventQueueUrl'),
        Entries: [
          ...keys.slice(0, 2).map((k, i) => ({ Id: `g${i}`, MessageBody: JSON.stringify(event(k)) })),
          { Id: 'poison', MessageBody: poison },
          ...keys.slice(2).map((k, i) => ({ Id: `h${i}`, MessageBody: JSON.stringify(event(k)) })),
        ].map((entry) => ({ ...entry, DelaySeconds: 2 })),
      }),
    );
    await eventually(async () => {
      const { waiting, delayed } = await probe.queueCounts('NotifyEventQueueUrl');
      return waiting === 5 && delayed === 0 ? true : undefined;
    }, "the five messages visible together in notify's queue");
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: mapping!.UUID, Enabled: true }));
    lambda.destroy();

    const dead = await findMessage('NotifyDeadLetterQueueUrl', (body) => Array.isArray(body.Records) && body.Records[0]?.nonsense === 1, 120_000);
    expect(dead).toEqual(JSON.parse(poison));
    const published = (await probe.notifications('UploadNotifications')).map((n) => JSON.parse(n.Message).key as string).filter((k) => k.startsWith('images/batch/'));
    expect(published.sort()).toEqual(keys);
    const logs = await stack.serviceLogs();
    const batch = logs.split('\n').filter((l) => l.includes('"source":"sqs"') && l.includes(`"function":"${notify}"`)).map((l) => JSON.parse(l)).find((l) => l.batchSize === 5);
    expect(batch).toMatchObject({ outcome: 'success', batchSize: 5, failed: 1 });
  });

  it('Invoke API: the AWS CLI gets the payload back from a function container', () => {
    const dir = mkdtempSync(join(tmpdir(), 'invoke-'));
    const out = join(dir, 'out.json');
    writeFileSync(join(dir, 'in.json'), '{"Records":[]}');
    // fileb:// reads the payload as raw bytes in AWS CLI v1 and v2 alike.
    const meta = execFileSync(
      'aws',
      ['lambda', 'invoke', '--endpoint-url', stack.lambdaApiUrl, '--region', 'us-east-1', '--function-name', stack.functionName('audit'), '--payload', `fileb://${join(dir, 'in.json')}`, out],
      { encoding: 'utf8', env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' } },
    );
    expect(JSON.parse(meta)).toMatchObject({ StatusCode: 200, ExecutedVersion: '$LATEST' });
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ batchItemFailures: [] });
  });

  it('async invoke: a failing event is retried twice, then lands in the DLQ with the original event', async () => {
    const lambda = lambdaClient(stack.lambdaApiUrl);
    const event = { Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', eventTime: '2026-11-20T10:00:00Z', s3: { bucket: { name: 'no-such-bucket' }, object: { key: 'images/x.jpg', size: 1, sequencer: 'dlq-1' } } }] };

    const accepted = await lambda.send(new InvokeCommand({ FunctionName: stack.functionName('thumbnail'), InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }));
    expect(accepted.StatusCode).toBe(202);

    const record = await findMessage('ThumbnailDeadLetterQueueUrl', (b) => (b.requestPayload as typeof event | undefined)?.Records?.[0]?.s3.object.sequencer === 'dlq-1', 90_000);
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: event,
      responseContext: { functionError: 'Unhandled' },
      responsePayload: { errorType: expect.any(String) },
    });
    lambda.destroy();

    // Its failed invocations, as its log shows them (the runtime's ERROR Invoke Error line), reach
    // audit through the subscription filter on thumbnail's log group; audit alerts on the processing-alerts topic.
    const group = stack.view.functions.find((f) => f.name === stack.functionName('thumbnail'))!.logGroup;
    const alert = await findMessage('ProcessingAlertsInboxUrl', (b) => String(b.Subject) === `ERROR lines in ${group}: ${JSON.parse(String(b.Message)).lines?.length}`, 30_000);
    const lines = (JSON.parse(String(alert.Message)) as { logGroup: string; lines: { message: string }[] }).lines.map((l) => l.message);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((line) => /\tERROR\tInvoke Error \t\{"errorType":/.test(line))).toBe(true);
    for (const line of lines) expect(line).toMatch(/\tERROR\t|\tStatus: (error|timeout)/);
  });

  it("alarms: an upload's event in thumbnail's DLQ raises its alarm (ALARM, on the Alarms topic); the DLQ emptied, it clears (OK)", async () => {
    // The test stack evaluates alarms every 10 s, and this suite's LocalStack reports queue metrics every 10 s.
    const alarmName = await eventually(async () => {
      const cw = cloudWatchClient(stack.localstack.endpoint);
      const out = await cw.send(new DescribeAlarmsCommand({}));
      cw.destroy();
      return out.MetricAlarms?.find((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && a.Dimensions?.[0]?.Value === probe.queueUrl('ThumbnailDeadLetterQueueUrl').split('/').pop())?.AlarmName;
    }, "thumbnail's dead-letter alarm");
    // Not in ALARM to begin with (an earlier test's dead letter, read at once, may have been seen).
    const state = async () => {
      const cw = cloudWatchClient(stack.localstack.endpoint);
      const out = await cw.send(new DescribeAlarmsCommand({ AlarmNames: [alarmName] }));
      cw.destroy();
      return out.MetricAlarms?.[0]?.StateValue;
    };
    if ((await state()) === 'ALARM') await eventually(async () => ((await state()) === 'OK' ? true : undefined), `${alarmName} OK before the test`, 90_000);
    const before = (await probe.notifications('Alarms')).length;
    const lambda = lambdaClient(stack.lambdaApiUrl);
    const event = { Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', eventTime: '2026-11-20T10:00:00Z', s3: { bucket: { name: 'no-such-bucket' }, object: { key: 'images/alarm.jpg', size: 1, sequencer: 'alarm-1' } } }] };
    expect((await lambda.send(new InvokeCommand({ FunctionName: stack.functionName('thumbnail'), InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }))).StatusCode).toBe(202);
    lambda.destroy();

    const alarmMessage = (to: string, from?: string) =>
      eventually(
        async () => (await probe.notifications('Alarms')).slice(before).map((n) => JSON.parse(n.Message) as Record<string, any>).find((m) => m.AlarmName === alarmName && m.NewStateValue === to && (!from || m.OldStateValue === from)),
        `${alarmName} ${from ?? ''} -> ${to} on the Alarms topic`,
        90_000,
      );
    const raised = await alarmMessage('ALARM');
    expect(raised).toMatchObject({ AlarmName: alarmName, NewStateValue: 'ALARM', Trigger: { MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS' } });
    expect(await state()).toBe('ALARM');

    // Read and removed, as someone who looked at it would: the alarm clears.
    const dead = await findMessage('ThumbnailDeadLetterQueueUrl', (b) => b.requestPayload?.Records?.[0]?.s3.object.sequencer === 'alarm-1');
    expect(dead).toMatchObject({ requestContext: { condition: 'RetriesExhausted' } });
    expect(await alarmMessage('OK', 'ALARM')).toMatchObject({ AlarmName: alarmName, OldStateValue: 'ALARM', NewStateValue: 'OK' });
  });
});
