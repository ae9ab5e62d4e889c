// In-memory ObjectStore with S3's semantics, for unit tests of the cores.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ObjectHead, ObjectStore, RangedOptions, StoredObject } from './object-store';
import { rangedStream } from './ranged-reader';

export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, { body: Buffer; contentType: string }>();

  private id(bucket: string, key: string): string {
    return `${bucket}/${key}`;
  }

  seed(bucket: string, key: string, body: Buffer | string, contentType = 'application/octet-stream'): void {
    this.objects.set(this.id(bucket, key), { body: Buffer.from(body), contentType });
  }

  read(bucket: string, key: string): Buffer | undefined {
    return this.objects.get(this.id(bucket, key))?.body;
  }

  async get(bucket: string, key: string): Promise<StoredObject | undefined> {
    const obj = this.objects.get(this.id(bucket, key));
    return obj && { body: Readable.from([obj.body]), contentLength: obj.body.length, contentType: obj.contentType };
  }

  async head(bucket: string, key: string): Promise<ObjectHead | undefined> {
    const obj = this.objects.get(this.id(bucket, key));
    return obj && { contentLength: obj.body.length, contentType: obj.contentType, eTag: eTagOf(obj.body) };
  }

  /** Through the same ranged reader as S3, in small ranges so tests cross range boundaries. */
  async getRanged(bucket: string, key: string, options: RangedOptions = {}): Promise<StoredObject | undefined> {
    const obj = this.objects.get(this.id(bucket, key));
    if (!obj) return undefined;
    const { eTag, ...ranged } = options;
    const body = rangedStream(async (start, end) => {
      // If-Match, as S3 answers it: the version asked for, or 412.
      const now = this.objects.get(this.id(bucket, key));
      if (!now || (eTag !== undefined && eTagOf(now.body) !== eTag)) throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
      return [now.body.subarray(start, end + 1)];
    }, { rangeBytes: 7, ...ranged, size: obj.body.length });
    return { body, contentLength: obj.body.length, contentType: obj.contentType, eTag: eTagOf(obj.body) };
  }

  async delete(bucket: string, key: string): Promise<void> {
    this.objects.delete(this.id(bucket, key));
  }

  async put(bucket: string, key: string, body: Buffer | Readable, contentType: string): Promise<void> {
    const data = Buffer.isBuffer(body) ? body : Buffer.concat(await body.toArray());
    this.objects.set(this.id(bucket, key), { body: data, contentType });
  }
}

/** S3's ETag of a single-part upload: the MD5 of the bytes, quoted. */
const eTagOf = (body: Buffer): string => `"${createHash('md5').update(body).digest('hex')}"`;
