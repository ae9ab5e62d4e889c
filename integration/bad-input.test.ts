// Bad input end to end: what production throws at the pipelines ends as the right processing-log
// item, and every FAILED item as exactly one alert delivered by the audit function through SNS.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { jpeg, pixelBombPng } from '../functions/thumbnail/test-images';
import { describeWithDocker, eventually, removeLabelledContainers } from './support/docker';
import { Probe } from './support/probe';
import { startStack, type RunningStack } from './support/stack';

interface Case {
  what: string;
  key: string;
  body: () => Promise<Buffer | string>;
  function: 'thumbnail' | 'csv-import';
  status: 'PROCESSED' | 'FAILED';
  reason?: RegExp;
}

const truncatedJpeg = async () => {
  const whole = await jpeg(800, 600);
  return whole.subarray(0, Math.floor(whole.length / 2));
};

const cases: Case[] = [
  { what: 'a truncated JPEG', key: 'images/bad/corrupt.jpg', body: truncatedJpeg, function: 'thumbnail', status: 'FAILED', reason: /corrupt or truncated jpeg image/ },
  { what: 'a text file named .png', key: 'images/bad/notes.png', body: async () => 'shopping list: milk, eggs', function: 'thumbnail', status: 'FAILED', reason: /not a decodable image/ },
  { what: 'a 0-byte object', key: 'images/bad/empty.jpg', body: async () => Buffer.alloc(0), function: 'thumbnail', status: 'FAILED', reason: /empty object \(0 bytes\)/ },
  { what: 'a pixel-bomb PNG (8000x8000 in a few KB)', key: 'images/bad/bomb.png', body: () => pixelBombPng(8000), function: 'thumbnail', status: 'FAILED', reason: /above the limit of 50000000 \(MAX_INPUT_PIXELS\)/ },
  { what: 'a key with spaces, unicode and +', key: 'images/Été 2026/café + crème ☕ (1).jpg', body: () => jpeg(600, 400), function: 'thumbnail', status: 'PROCESSED' },
  { what: 'a HEIC photo', key: 'images/bad/iphone.heic', body: async () => readFileSync(join(__dirname, '../functions/thumbnail/fixtures/red-64x48.heic')), function: 'thumbnail', status: 'FAILED', reason: /^HEIC \(HEVC-coded HEIF\) cannot be decoded/ },
  { what: 'a CSV without its key column', key: 'imports/people/bad/no-id.csv', body: async () => 'name,email\nAda,ada@example.com\n', function: 'csv-import', status: 'FAILED', reason: /the header has no "id" column \(data set people; found: name, email\)/ },
  { what: 'an empty CSV', key: 'imports/people/bad/empty.csv', body: async () => '', function: 'csv-import', status: 'PROCESSED' },
  { what: 'a CSV under a prefix no data set has', key: 'imports/cars/fleet.csv', body: async () => 'id\n1\n', function: 'csv-import', status: 'FAILED', reason: /matches no data set; upload it under the prefix of one of: people \(imports\/people\/\), debian-releases/ },
  { what: 'a file under imports/ that is not a CSV', key: 'imports/people/notes.txt', body: async () => 'hello', function: 'csv-import', status: 'FAILED', reason: /^not a CSV file/ },
];

describeWithDocker('bad input end to end', () => {
  let stack: RunningStack;
  let probe: Probe;

  beforeAll(async () => {
    removeLabelledContainers();
    stack = await startStack();
    probe = new Probe(stack.localstack.clients, stack);
    for (const c of cases) await probe.put(c.key, await c.body());
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it.each(cases)('$what -> one $status item from $function', async (c) => {
    const item = await probe.logItem(c.key);

    expect(item).toMatchObject({ function: c.function, status: c.status });
    if (c.reason) expect(item.reason).toMatch(c.reason);
    expect(await probe.logItems(c.key)).toHaveLength(1);
  });

  it.each(cases.filter((c) => c.status === 'FAILED'))('$what -> exactly one alert on processing-alerts', async (c) => {
    const alert = await eventually(async () => (await probe.notificationsAbout('ProcessingAlerts', c.key))[0], `an alert for ${c.key}`, 60_000);

    expect(alert.MessageAttributes).toMatchObject({ function: { Value: c.function }, status: { Value: 'FAILED' } });
    expect(JSON.parse(alert.Message)).toMatchObject({ function: c.function, bucket: probe.uploads, key: c.key, reason: expect.stringMatching(c.reason!) });
  });

  it('no alert for the PROCESSED items, and no second alert for any FAILED one', async () => {
    // The alerts above arrived through the stream; once the audit queue of records is through
    // (the last FAILED item's alert is in), anything extra would be there too.
    const alerts = (await probe.notifications('ProcessingAlerts')).map((n) => (JSON.parse(n.Message) as { key: string }).key);
    const failed = cases.filter((c) => c.status === 'FAILED').map((c) => c.key);
    expect(alerts.sort()).toEqual([...failed].sort());
  });

  it('the key with spaces, unicode and + gets its thumbnails under the exact same key', async () => {
    const key = cases.find((c) => c.what.startsWith('a key with'))!.key;
    for (const [width, height] of [[128, 85], [512, 341]]) {
      const obj = await stack.localstack.clients.s3.send(new GetObjectCommand({ Bucket: probe.thumbnails, Key: `${key}/${width}.webp` }));
      const meta = await sharp(Buffer.from(await obj.Body!.transformToByteArray())).metadata();
      expect([meta.width, meta.height]).toEqual([width, height]);
    }
  });
});
