// The local Lambda service restarted in the middle of a burst with bad files: Lambda's promises
// must hold across it. Every upload is processed exactly once (SQS keeps what was not received, the
// functions' writes are idempotent), every FAILED item alerts exactly once (the stream checkpoint
// outlives the service, so nothing is replayed), Event invocations accepted just before the restart
// all run once, before it or after (they were stored before the 202), and the DLQs stay empty.
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { jpeg } from '../functions/thumbnail/test-images';
import { lambdaClient } from '../toolkit/clients';
import { describeWithDocker, eventually, removeLabelledContainers } from './support/docker';
import { Probe, type LogItem } from './support/probe';
import { startStack, type RunningStack } from './support/stack';

interface Upload {
  key: string;
  body: Buffer | string;
  status: 'PROCESSED' | 'FAILED';
}

/** `count` uploads: good and truncated images, good CSVs and CSVs without their key column. */
async function uploads(prefix: string, count: number): Promise<Upload[]> {
  const photo = await jpeg(900, 600);
  return Array.from({ length: count }, (_, i): Upload => {
    const n = String(i).padStart(3, '0');
    switch (i % 4) {
      case 0:
        return { key: `images/${prefix}/${n}.jpg`, body: photo, status: 'PROCESSED' };
      case 1:
        return { key: `images/${prefix}/${n}-broken.jpg`, body: photo.subarray(0, 300), status: 'FAILED' };
      case 2:
        return { key: `imports/people/${prefix}/${n}.csv`, body: `id,name\n${prefix}-${n},A\n`, status: 'PROCESSED' };
      default:
        return { key: `imports/people/${prefix}/${n}-no-id.csv`, body: 'name\nnobody\n', status: 'FAILED' };
    }
  });
}

describeWithDocker('the local Lambda service restarted mid-burst', () => {
  let stack: RunningStack;
  let probe: Probe;
  let lambda: LambdaClient;
  const alertKeys = async () => (await probe.notifications('ProcessingAlerts')).map((n) => (JSON.parse(n.Message) as { key: string }).key);

  beforeAll(async () => {
    removeLabelledContainers();
    stack = await startStack();
    probe = new Probe(stack.localstack.clients, stack);
    lambda = lambdaClient(stack.lambdaApiUrl);
  }, 300_000);
  afterAll(async () => {
    lambda?.destroy();
    await stack?.stop();
  });

  it('loses, repeats and replays nothing: one item per upload, one alert per FAILED item, Event invocations all run, DLQs empty', async () => {
    const burst = await uploads('restart', 80);
    // Event invocations accepted just before the restart: notify publishes each once.
    const asyncKeys = ['images/restart/async-0.jpg', 'images/restart/async-1.jpg', 'images/restart/async-2.jpg'];
    const put = async (u: Upload) => probe.put(u.key, u.body);
    let next = 0;
    const uploading = Promise.all(Array.from({ length: 8 }, async () => {
      while (next < burst.length) await put(burst[next++]!);
    }));

    // Restart once some, not all, of the burst is done.
    await eventually(async () => ((await probe.scanLog()).filter((i) => i.pk.includes('/restart/')).length >= 10 ? true : undefined), 'the burst under way', 120_000, 200);
    // The 202s promise they were stored: whether they run before the restart or after it, each runs once.
    // (Not throttled to hold them: at reserved concurrency 0 AWS sends Event invocations straight
    // to the on-failure destination, and so does the service.)
    const notify = stack.functionName('notify');
    for (const key of asyncKeys) {
      const event = { Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', eventTime: new Date().toISOString(), s3: { bucket: { name: probe.uploads }, object: { key, size: 1, sequencer: key, eTag: key } } }] };
      const accepted = await lambda.send(new InvokeCommand({ FunctionName: notify, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }));
      expect(accepted.StatusCode).toBe(202);
    }
    await stack.restartService();
    lambda.destroy();
    lambda = lambdaClient(stack.lambdaApiUrl);
    await uploading;

    const items = await eventually(async () => {
      const logged = (await probe.scanLog()).filter((i) => i.pk.includes('/restart/'));
      return logged.length >= burst.length ? logged : undefined;
    }, `${burst.length} processing-log items`, 180_000, 1_000);
    const perKey = new Map<string, LogItem[]>();
    for (const item of items) perKey.set(item.pk, [...(perKey.get(item.pk) ?? []), item]);
    expect([...perKey.values()].filter((list) => list.length > 1).map((list) => list[0]!.pk)).toEqual([]);
    expect(burst.filter((u) => perKey.get(probe.pk(u.key))?.[0]?.status !== u.status).map((u) => u.key)).toEqual([]);

    // Every FAILED item alerted, each once. A sentinel failure after a second restart proves no
    // replay: a replayed stream would publish the old alerts again before the sentinel's.
    const failed = burst.filter((u) => u.status === 'FAILED').map((u) => u.key);
    await eventually(async () => ((await alertKeys()).filter((k) => k.includes('/restart/')).length >= failed.length ? true : undefined), `${failed.length} alerts`, 120_000);
    await stack.restartService();
    const sentinel = 'images/restart/zz-sentinel-broken.jpg';
    await probe.put(sentinel, 'not an image');
    await eventually(async () => ((await alertKeys()).includes(sentinel) ? true : undefined), 'the sentinel alert', 120_000);
    const alerted = (await alertKeys()).filter((k) => k.includes('/restart/') && k !== sentinel);
    expect(alerted.sort()).toEqual([...failed].sort());

    // The Event invocations accepted before the restart ran, each once.
    const notified = await eventually(async () => {
      const keys = (await probe.notifications('UploadNotifications')).map((n) => (JSON.parse(n.Message) as { key: string }).key).filter((k) => asyncKeys.includes(k));
      return keys.length >= asyncKeys.length ? keys : undefined;
    }, 'the Event invocations', 120_000);
    expect(notified.sort()).toEqual(asyncKeys);

    const queues = Object.keys(stack.view.outputs).filter((k) => k.endsWith('EventQueueUrl') || k.endsWith('DeadLetterQueueUrl'));
    expect(queues).toHaveLength(9);
    await eventually(async () => ((await Promise.all(queues.map((q) => probe.queueDepth(q)))).every((d) => d === 0) ? true : undefined), 'event queues drained and DLQs empty', 60_000);
  });
});
