// The S3 port of the cores, and its adapter over the SDK. Cores see streams and plain values only.
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, NoSuchKey, NotFound, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { rangedStream, type RangedReadOptions } from './ranged-reader';

export interface StoredObject {
  body: Readable;
  contentLength: number | undefined;
  contentType: string | undefined;
  /** The version read (every range of a ranged read is of this one). */
  eTag?: string | undefined;
}

export interface ObjectHead {
  contentLength: number | undefined;
  contentType: string | undefined;
  eTag?: string | undefined;
}

/**
 * How a large object is read: ranges of this size, retried this often (see ranged-reader.ts), from
 * byte `start`, of the version `eTag` only (a read of another version fails with PreconditionFailed).
 */
export type RangedOptions = Omit<RangedReadOptions, 'size'> & { eTag?: string };

export interface ObjectStore {
  /** The object's body as a stream, or undefined when it no longer exists. */
  get(bucket: string, key: string): Promise<StoredObject | undefined>;
  /** Metadata only, or undefined when the object no longer exists. */
  head(bucket: string, key: string): Promise<ObjectHead | undefined>;
  put(bucket: string, key: string, body: Buffer | Readable, contentType: string, contentLength?: number): Promise<void>;
  /**
   * The object's body read in ranged GETs of one version (If-Match on its ETag), resumed where a
   * stream breaks: for large objects read slowly. Undefined when the object no longer exists.
   */
  getRanged(bucket: string, key: string, options?: RangedOptions): Promise<StoredObject | undefined>;
  delete(bucket: string, key: string): Promise<void>;
}

const isMissing = (error: unknown): boolean =>
  error instanceof NoSuchKey || error instanceof NotFound || (error as { name?: string })?.name === 'NotFound';

export class S3ObjectStore implements ObjectStore {
  constructor(private readonly client: S3Client) {}

  async get(bucket: string, key: string): Promise<StoredObject | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return { body: out.Body as Readable, contentLength: out.ContentLength, contentType: out.ContentType };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async head(bucket: string, key: string): Promise<ObjectHead | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { contentLength: out.ContentLength, contentType: out.ContentType, eTag: out.ETag };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async put(bucket: string, key: string, body: Buffer | Readable, contentType: string, contentLength?: number): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, ContentLength: contentLength }),
    );
  }

  async getRanged(bucket: string, key: string, options: RangedOptions = {}): Promise<StoredObject | undefined> {
    const head = await this.head(bucket, key);
    if (!head) return undefined;
    const size = head.contentLength ?? 0;
    const eTag = options.eTag ?? head.eTag;
    const { eTag: _wanted, ...ranged } = options;
    const body = rangedStream(async (start, end) => {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end}`, ...(eTag && { IfMatch: eTag }) }));
      return out.Body as Readable;
    }, { ...ranged, size });
    return { body, contentLength: size, contentType: head.contentType, eTag: head.eTag };
  }

  async delete(bucket: string, key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }
}

/**
 * Reads a stream into one buffer, refusing more than maxBytes: a decoder needs the whole
 * compressed file, but an oversized upload must not exhaust the function's memory.
 */
export async function readAtMost(stream: Readable, maxBytes: number): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    total += buf.length;
    if (total > maxBytes) {
      stream.destroy();
      return 'too-large';
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total);
}
