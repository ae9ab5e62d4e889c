// In-memory ObjectStore with S3's semantics, for unit tests of the cores.
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
    return obj && { contentLength: obj.body.length, contentType: obj.contentType };
  }

  /** Through the same ranged reader as S3, in small ranges so tests cross range boundaries. */
  async getRanged(bucket: string, key: string, options: RangedOptions = {}): Promise<StoredObject | undefined> {
    const obj = this.objects.get(this.id(bucket, key));
    if (!obj) return undefined;
    const body = rangedStream(async (start, end) => [obj.body.subarray(start, end + 1)], { rangeBytes: 7, ...options, size: obj.body.length });
    return { body, contentLength: obj.body.length, contentType: obj.contentType };
  }

  async put(bucket: string, key: string, body: Buffer | Readable, contentType: string): Promise<void> {
    const data = Buffer.isBuffer(body) ? body : Buffer.concat(await body.toArray());
    this.objects.set(this.id(bucket, key), { body: data, contentType });
  }
}
