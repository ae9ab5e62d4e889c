import sharp from 'sharp';
import { MemoryObjectStore } from '#shared/memory-object-store';
import { silentLogger } from '#shared/logger';
import { MemoryProcessingLog } from '#shared/processing-log';
import { parseS3Event, type S3ObjectRef } from '#shared/s3-event';
import event from './events/s3-put-image.json';

/** The bucket the sample event names: the local stack's uploads bucket. */
const BUCKET = event.Records[0]!.s3.bucket.name;
import { processUpload } from './thumbnail';
import { jpeg } from './test-images';

const config = {
  THUMBNAIL_BUCKET: 'thumbnails',
  THUMBNAIL_WIDTHS: [128, 512],
  THUMBNAIL_FORMAT: 'webp' as const,
  MAX_INPUT_PIXELS: 50_000_000,
  MAX_INPUT_BYTES: 10_000_000,
};

function setup() {
  const store = new MemoryObjectStore();
  const log = new MemoryProcessingLog();
  const [ref] = parseS3Event(event);
  return { store, log, ref: ref as S3ObjectRef, deps: { store, log, logger: silentLogger } };
}

describe('thumbnail core: processUpload', () => {
  it('decodes the key from the fixture once: spaces, a literal plus, unicode and a percent sign', () => {
    const { ref } = setup();
    expect(ref.key).toBe('images/red flower + été%.jpg');
  });

  it('stores a thumbnail per width with its content type and records PROCESSED', async () => {
    const { store, log, ref, deps } = setup();
    store.seed(BUCKET, ref.key, await jpeg(1600, 1200), 'image/jpeg');

    const outcome = await processUpload(ref, config, deps);

    expect(outcome.status).toBe('PROCESSED');
    const small = store.objects.get('thumbnails/images/red flower + été%.jpg/128.webp');
    expect(small?.contentType).toBe('image/webp');
    expect(await sharp(small!.body).metadata()).toMatchObject({ format: 'webp', width: 128, height: 96 });
    const large = store.read('thumbnails', 'images/red flower + été%.jpg/512.webp');
    expect(await sharp(large!).metadata()).toMatchObject({ width: 512, height: 384 });

    const [item] = [...log.items.values()];
    expect(log.items.size).toBe(1);
    expect(item).toMatchObject({
      pk: `${BUCKET}/images/red flower + été%.jpg`,
      sk: 'thumbnail#0055AED6DCD90281E5:d41d8cd98f00b204e9800998ecf8427e',
      status: 'PROCESSED',
      details: { widths: [128, 512], format: 'webp', outputBucket: 'thumbnails' },
    });
    expect(item!.details!.bytesOut).toBe(small!.body.length + large!.length);
    expect(item!.details!.bytesIn).toBeGreaterThan(0);
  });

  it('turns a redelivered event into a no-op: one item, no second processing', async () => {
    const { store, log, ref, deps } = setup();
    store.seed(BUCKET, ref.key, await jpeg(800, 600));

    await processUpload(ref, config, deps);
    const again = await processUpload(ref, config, deps);

    expect(again).toEqual({ status: 'DUPLICATE' });
    expect(log.items.size).toBe(1);
  });

  it('records FAILED with a readable reason for a corrupt file and returns normally', async () => {
    const { store, log, ref, deps } = setup();
    store.seed(BUCKET, ref.key, 'GIF89a but really just text');

    const outcome = await processUpload(ref, config, deps);

    expect(outcome).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/not a decodable image/) });
    expect([...log.items.values()][0]).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/not a decodable image/) });
    expect([...store.objects.keys()].filter((k) => k.startsWith('thumbnails/'))).toEqual([]);
  });

  it('refuses an object above MAX_INPUT_BYTES without reading it whole', async () => {
    const { store, ref, deps } = setup();
    store.seed(BUCKET, ref.key, Buffer.alloc(2048));
    const outcome = await processUpload(ref, { ...config, MAX_INPUT_BYTES: 1000 }, deps);
    expect(outcome).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/larger than 1000 bytes/) });
  });

  it('records FAILED when the object was deleted before processing', async () => {
    const { ref, deps } = setup();
    expect(await processUpload(ref, config, deps)).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/no longer exists/) });
  });

  it('ignores objects of its own output bucket (recursion guard)', async () => {
    const { log, ref, deps } = setup();
    const outcome = await processUpload({ ...ref, bucket: 'thumbnails' }, config, deps);
    expect(outcome.status).toBe('IGNORED');
    expect(log.items.size).toBe(0);
  });

  it('records FAILED, without reading the object, when its thumbnail keys would pass S3\'s 1024 bytes', async () => {
    const { store, log, ref, deps } = setup();
    const key = `images/${'é'.repeat(505)}.jpg`; // 1021 bytes: fine as an upload, too long with /512.webp
    store.seed(BUCKET, key, await jpeg(400, 300));
    expect(await processUpload({ ...ref, key }, config, deps)).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^the key is too long for its thumbnails: 1030 bytes/) });
    expect([...log.items.values()]).toHaveLength(1);
  });

  it('caps a long reason at about 1 KB in the processing-log item', async () => {
    const { store, log, ref, deps } = setup();
    store.seed(BUCKET, ref.key, `${'not an image, '.repeat(20_000)}`);
    await processUpload(ref, { ...config, MAX_INPUT_BYTES: 1_000_000 }, deps);
    const item = [...log.items.values()][0]!;
    expect(item.status).toBe('FAILED');
    expect(item.reason!.length).toBeLessThanOrEqual(1024);
  });

  it('throws on a storage error so the platform retries', async () => {
    const { store, ref, deps } = setup();
    store.seed(BUCKET, ref.key, await jpeg(400, 300));
    store.put = async () => {
      throw Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' });
    };
    await expect(processUpload(ref, config, deps)).rejects.toThrow('Service Unavailable');
  });
});
