// Bursts end to end, environments on demand: 300 uploads at once (images and CSVs, some bad) all
// end as exactly one processing-log item each, with every thumbnail, every notification and every
// alert, queues drained and DLQs empty; then a function's environment is killed in the middle of a
// second burst, the next event starts another, and every event is still processed exactly once.
import { execFileSync } from 'node:child_process';
import { jpeg } from '../functions/thumbnail/test-images';
import { describeWithDocker, eventually, removeLabelledContainers } from './support/docker';
import { Probe, type LogItem } from './support/probe';
import { startStack, type RunningStack } from './support/stack';

const WIDTHS = [128, 512, 1024];

interface Upload {
  key: string;
  body: Buffer | string;
  function: 'thumbnail' | 'csv-import';
  status: 'PROCESSED' | 'FAILED';
}

/** `count` uploads under `prefix`: 6 in 10 good images, 1 bad image, 2 good CSVs, 1 bad CSV. */
async function mixedUploads(prefix: string, count: number): Promise<Upload[]> {
  const photo = await jpeg(1200, 900);
  return Array.from({ length: count }, (_, i): Upload => {
    const n = String(i).padStart(3, '0');
    switch (i % 10) {
      case 6:
        return { key: `images/${prefix}/${n}-broken.jpg`, body: photo.subarray(0, 400), function: 'thumbnail', status: 'FAILED' };
      case 7:
      case 8:
        return { key: `imports/people/${prefix}/${n}.csv`, body: `id,name,email,age,active\n${prefix}-${n}-a,A,a@example.com,${i},true\n${prefix}-${n}-b,B,b@example.com,x,false\n`, function: 'csv-import', status: 'PROCESSED' };
      case 9:
        return { key: `imports/people/${prefix}/${n}-no-id.csv`, body: 'name\nnobody\n', function: 'csv-import', status: 'FAILED' };
      default:
        return { key: `images/${prefix}/${n}.jpg`, body: photo, function: 'thumbnail', status: 'PROCESSED' };
    }
  });
}

/** Uploads with at most `parallel` PutObject calls in flight. */
async function uploadAll(probe: Probe, uploads: Upload[], parallel = 25): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < uploads.length) {
        const u = uploads[next++]!;
        await probe.put(u.key, u.body);
      }
    }),
  );
}

const countBy = (values: string[]) => values.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {});

describeWithDocker('bursts, environments on demand', () => {
  let stack: RunningStack;
  let probe: Probe;
  const eventQueues = () => Object.keys(stack.view.outputs).filter((k) => k.endsWith('EventQueueUrl'));
  const dlqs = () => Object.keys(stack.view.outputs).filter((k) => k.endsWith('DeadLetterQueueUrl'));

  /** The log items under a prefix, once there are `expected` of them; names the missing ones if not. */
  async function itemsUnder(uploads: Upload[], prefix: string, timeoutMs: number): Promise<LogItem[]> {
    const under = async () => (await probe.scanLog()).filter((i) => i.pk.includes(`/${prefix}/`));
    try {
      return await eventually(async () => {
        const items = await under();
        return items.length >= uploads.length ? items : undefined;
      }, `${uploads.length} processing-log items under ${prefix}/`, timeoutMs, 1_000);
    } catch (error) {
      const logged = new Set((await under()).map((i) => i.pk));
      const missing = uploads.filter((u) => !logged.has(probe.pk(u.key))).map((u) => u.key);
      throw new Error(`${(error as Error).message}: ${logged.size} logged, ${missing.length} never processed, e.g. ${missing.slice(0, 5).join(', ')}`);
    }
  }

  const drained = () =>
    eventually(async () => ((await Promise.all(eventQueues().map((q) => probe.queueDepth(q)))).every((d) => d === 0) ? true : undefined), 'every event queue drained', 60_000);

  function expectExactlyOnce(items: LogItem[], uploads: Upload[]): void {
    const byKey = countBy(items.map((i) => i.pk));
    const repeated = Object.entries(byKey).filter(([, n]) => n > 1);
    expect(repeated).toEqual([]);
    expect(items).toHaveLength(uploads.length);
    const expected = new Map(uploads.map((u) => [probe.pk(u.key), `${u.function} ${u.status}`]));
    const wrong = items.filter((i) => expected.get(i.pk) !== `${i.function} ${i.status}`).map((i) => `${i.pk}: ${i.function} ${i.status} ${i.reason ?? ''}`);
    expect(wrong).toEqual([]);
  }

  /** Every width of every good image is in the thumbnails bucket, and no DLQ holds anything. */
  async function expectOutputsComplete(uploads: Upload[]): Promise<void> {
    const thumbnails = new Set(await probe.thumbnailKeys());
    const missing = uploads.filter((u) => u.function === 'thumbnail' && u.status === 'PROCESSED').flatMap((u) => WIDTHS.map((w) => `${u.key}/${w}.webp`)).filter((k) => !thumbnails.has(k));
    expect(missing).toEqual([]);
    expect(dlqs()).toHaveLength(6);
    for (const dlq of dlqs()) expect([dlq, await probe.queueDepth(dlq)]).toEqual([dlq, 0]);
  }

  beforeAll(async () => {
    removeLabelledContainers();
    stack = await startStack();
    probe = new Probe(stack.localstack.clients, stack);
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('300 uploads at once: one item each with the right status, every thumbnail, notification and alert; queues drained, DLQs empty', async () => {
    const uploads = await mixedUploads('burst', 300);
    const started = Date.now();

    await uploadAll(probe, uploads);
    const uploadedMs = Date.now() - started;
    const items = await itemsUnder(uploads, 'burst', 200_000);
    const drainMs = Date.now() - started;
    await drained();

    console.log(`burst: 300 uploads in ${uploadedMs} ms, all processed after ${(drainMs / 1000).toFixed(1)} s: ${(300 / (drainMs / 1000)).toFixed(1)} uploads/s, environments on demand`);
    expectExactlyOnce(items, uploads);
    await expectOutputsComplete(uploads);

    // notify saw every upload once; audit alerted every FAILED item once.
    const notified = await eventually(async () => {
      const n = (await probe.notifications('UploadNotifications')).map((e) => (JSON.parse(e.Message) as { key: string }).key).filter((k) => k.includes('/burst/'));
      return n.length >= uploads.length ? n : undefined;
    }, '300 upload notifications', 120_000);
    expect(Object.values(countBy(notified)).every((n) => n === 1) && notified.length).toBe(uploads.length);
    const failedKeys = uploads.filter((u) => u.status === 'FAILED').map((u) => u.key);
    const alerted = await eventually(async () => {
      const a = (await probe.notifications('ProcessingAlerts')).map((e) => (JSON.parse(e.Message) as { key: string }).key).filter((k) => k.includes('/burst/'));
      return a.length >= failedKeys.length ? a : undefined;
    }, `${failedKeys.length} alerts`, 120_000);
    expect(alerted.sort()).toEqual(failedKeys.sort());
  });

  it('a thumbnail environment killed mid-burst: the service starts another, every upload is processed exactly once', async () => {
    const uploads = await mixedUploads('fault', 100);
    await uploadAll(probe, uploads);

    // Kill one while it works: once some, not all, of the images are done. Nobody starts it again:
    // as on Lambda, the function never runs out of environments, the next event starts a new one.
    await eventually(async () => ((await probe.scanLog()).filter((i) => i.pk.includes('/fault/') && i.function === 'thumbnail').length >= 5 ? true : undefined), 'the burst under way', 120_000, 100);
    // One that is still running when the kill comes: environments come and go during a burst.
    const victim = await eventually(async () => {
      for (const id of stack.environments('thumbnail')) {
        try {
          execFileSync('docker', ['kill', id], { stdio: 'pipe' });
          return id;
        } catch {
          // gone between the listing and the kill: the next one
        }
      }
      return undefined;
    }, 'a running thumbnail environment to kill', 30_000, 100);

    const items = await itemsUnder(uploads, 'fault', 120_000);
    expect(stack.environments('thumbnail')).not.toContain(victim);
    const health = await stack.health();
    expect(health.functions[stack.functionName('thumbnail')]!.waiting).toBe(0);
    await drained();
    expectExactlyOnce(items, uploads);
    await expectOutputsComplete(uploads);
  });
});
