import { MemoryObjectStore } from '#shared/memory-object-store';
import { MemoryPublisher, snsSubject } from '#shared/publisher';
import { parseS3Event } from '#shared/s3-event';
import batch from './events/s3-put-batch.json';
import single from './events/s3-put-image.json';

/** The bucket the sample event names: the local stack's uploads bucket. */
const BUCKET = single.Records[0]!.s3.bucket.name;
import { keyPrefix, notifyUpload, type NotifyDeps } from './notify';
import type { S3ObjectRef } from '#shared/s3-event';

/** What the handler does with the objects of one message: publish each in turn. */
async function notifyUploads(refs: S3ObjectRef[], deps: NotifyDeps): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of refs) ids.push(await notifyUpload(ref, deps));
  return ids;
}

describe('notify core: notifyUpload', () => {
  it('publishes one message per record with bucket, key, size, content type and time', async () => {
    const store = new MemoryObjectStore();
    store.seed(BUCKET, 'images/holiday photo.png', 'png bytes', 'image/png');
    store.seed(BUCKET, 'imports/people.csv', 'id\n1\n', 'text/csv');
    const publisher = new MemoryPublisher();

    const ids = await notifyUploads(parseS3Event(batch), { store, publisher });

    expect(ids).toEqual(['msg-1', 'msg-2']);
    const [first, second] = publisher.published;
    expect(first!.subject).toBe(`New upload: s3://${BUCKET}/images/holiday photo.png`);
    expect(JSON.parse(first!.message)).toEqual({
      bucket: BUCKET,
      key: 'images/holiday photo.png',
      size: 2048,
      contentType: 'image/png',
      eventTime: '2026-11-20T10:15:30.123Z',
      eventName: 'ObjectCreated:Put',
      eTag: '0123456789abcdef0123456789abcdef',
    });
    expect(first!.attributes).toEqual({ bucket: BUCKET, keyPrefix: 'images/', contentType: 'image/png' });
    expect(second!.attributes).toEqual({ bucket: BUCKET, keyPrefix: 'imports/', contentType: 'text/csv' });
    expect(JSON.parse(second!.message)).toMatchObject({ versionId: '3HL4kqtJvjVBH40Nrjfkd', eventName: 'ObjectCreated:CompleteMultipartUpload' });
  });

  it('publishes with content type "unknown" when the object is already gone', async () => {
    const publisher = new MemoryPublisher();
    await notifyUploads(parseS3Event(single), { store: new MemoryObjectStore(), publisher });
    expect(publisher.published[0]!.attributes.contentType).toBe('unknown');
    expect(JSON.parse(publisher.published[0]!.message).key).toBe('images/red flower + été%.jpg');
  });

  it('lets an SNS error propagate so the event is retried', async () => {
    const store = new MemoryObjectStore();
    const publisher = new MemoryPublisher();
    publisher.publish = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' });
    };
    await expect(notifyUploads(parseS3Event(single), { store, publisher })).rejects.toThrow('Rate exceeded');
  });

  it('ignores events without ObjectCreated records, such as the S3 test event', async () => {
    const publisher = new MemoryPublisher();
    const testEvent = { Service: "Amazon S3", Event: "s3:TestEvent" };
    expect(await notifyUploads(parseS3Event(testEvent), { store: new MemoryObjectStore(), publisher })).toEqual([]);
  });
});

describe('notify helpers', () => {
  it('derives the key prefix used by filter policies', () => {
    expect(keyPrefix('images/a/b.jpg')).toBe('images/');
    expect(keyPrefix('top-level.txt')).toBe('/');
  });

  it('keeps SNS subjects within 100 characters and free of control characters', () => {
    const subject = snsSubject(`New upload: ${'x'.repeat(200)}\n`);
    expect(subject.length).toBe(100);
    expect(snsSubject('a\nb')).toBe('a b');
  });
});
