// S3 event parsing, and THE one place S3 keys are decoded.
import type { S3EventRecord } from 'aws-lambda';
import { InvalidEvent } from './errors';

/**
 * S3 URL-encodes object keys in events, with `+` for a space (`red flower.jpg` -> `red+flower.jpg`,
 * a literal `+` -> `%2B`). Decode exactly once, here.
 */
export function decodeS3Key(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

export interface S3ObjectRef {
  bucket: string;
  /** Decoded key. */
  key: string;
  size: number;
  eTag: string | undefined;
  versionId: string | undefined;
  sequencer: string | undefined;
  eventName: string;
  eventTime: string;
}

export function toObjectRef(record: S3EventRecord): S3ObjectRef {
  const { bucket, object } = record.s3;
  return {
    bucket: bucket.name,
    key: decodeS3Key(object.key),
    size: object.size ?? 0,
    eTag: object.eTag,
    versionId: object.versionId,
    sequencer: object.sequencer,
    eventName: record.eventName,
    eventTime: record.eventTime ?? new Date().toISOString(),
  };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The ObjectCreated records of an S3 event, keys decoded. S3's test event carries none, and other
 * kinds (ObjectRemoved...) are skipped. Anything that is not an S3 event, or an ObjectCreated record
 * without the fields we use, throws an InvalidEvent naming what is missing: a malformed event must
 * fail loudly, never pass as "nothing to do".
 */
export function parseS3Event(event: unknown, where = ''): S3ObjectRef[] {
  if (isObject(event) && event.Event === 's3:TestEvent') return [];
  if (!isObject(event) || !Array.isArray(event.Records)) {
    throw new InvalidEvent(`${where}not an S3 event: expected {"Records":[...]}, got ${JSON.stringify(event)?.slice(0, 200)}`);
  }
  return event.Records.flatMap((record: unknown, index) => {
    const at = `${where}record ${index}`;
    if (!isObject(record)) throw new InvalidEvent(`${at} is not an object`);
    if (record.eventSource !== 'aws:s3') throw new InvalidEvent(`${at} is not an S3 record (eventSource ${JSON.stringify(record.eventSource ?? null)}, expected "aws:s3")`);
    if (typeof record.eventName !== 'string') throw new InvalidEvent(`${at} has no eventName`);
    if (!record.eventName.startsWith('ObjectCreated:')) return [];
    const s3 = isObject(record.s3) ? record.s3 : {};
    const bucket = isObject(s3.bucket) ? s3.bucket : {};
    const object = isObject(s3.object) ? s3.object : {};
    const missing = [
      typeof bucket.name !== 'string' && 's3.bucket.name',
      typeof object.key !== 'string' && 's3.object.key',
    ].filter(Boolean);
    if (missing.length > 0) throw new InvalidEvent(`${at} (${record.eventName}) has no ${missing.join(' and no ')}`);
    return [toObjectRef(record as unknown as S3EventRecord)];
  });
}

/**
 * Identity of one version of an object, for idempotent writes: a redelivered event carries the
 * same versionId (versioned buckets) or the same sequencer and eTag (unversioned), so it maps to
 * the same log item. The eTag joins the sequencer because LocalStack 4.14 sends one constant
 * sequencer for every event: alone, it would turn a re-upload with new content into a duplicate.
 */
export function objectVersionId(ref: Pick<S3ObjectRef, 'versionId' | 'sequencer' | 'eTag'>): string {
  if (ref.versionId) return ref.versionId;
  if (ref.sequencer === undefined && ref.eTag === undefined) return 'unversioned';
  return `${ref.sequencer ?? ''}:${ref.eTag ?? ''}`;
}
