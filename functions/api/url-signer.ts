// Presigned URLs: the browser uploads straight to S3 (a POST whose policy S3 enforces: key, content
// type, size range) and downloads thumbnails and rejected-rows reports straight from it.
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

export interface PresignedPost {
  url: string;
  /** Form fields to send before the file, as they are. */
  fields: Record<string, string>;
}

export interface UrlSigner {
  post(bucket: string, key: string, contentType: string, maxBytes: number, expiresSeconds: number): Promise<PresignedPost>;
  get(bucket: string, key: string, expiresSeconds: number): Promise<string>;
}

export class S3UrlSigner implements UrlSigner {
  /** `client` must address S3 as the browser reaches it (LOCAL_PUBLIC_ENDPOINT_URL locally). */
  constructor(private readonly client: S3Client) {}

  post(bucket: string, key: string, contentType: string, maxBytes: number, expiresSeconds: number): Promise<PresignedPost> {
    return createPresignedPost(this.client, {
      Bucket: bucket,
      Key: key,
      Conditions: [
        ['content-length-range', 1, maxBytes],
        ['eq', '$Content-Type', contentType],
      ],
      Fields: { 'Content-Type': contentType },
      Expires: expiresSeconds,
    });
  }

  get(bucket: string, key: string, expiresSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresSeconds });
  }
}

/** Predictable URLs, for unit tests. */
export class FakeUrlSigner implements UrlSigner {
  async post(bucket: string, key: string, contentType: string, maxBytes: number): Promise<PresignedPost> {
    return { url: `https://s3.test/${bucket}`, fields: { key, 'Content-Type': contentType, 'x-max': String(maxBytes) } };
  }
  async get(bucket: string, key: string): Promise<string> {
    return `https://s3.test/${bucket}/${encodeURIComponent(key)}?signed`;
  }
}
