// S3 event parsing, and THE one place S3 keys are decoded.
import type { S3Event, S3EventRecord } from 'aws-lambda';

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
    eventTime: record.eventTime,
  };
}

/** The ObjectCreated records of an S3 event (S3 test events and other kinds carry none). */
export function objectCreatedRecords(event: unknown): S3ObjectRef[] {
  const records: unknown = (event as Partial<S3Event> | null | undefined)?.Records;
  if (!Array.isArray(records)) return [];
  return (records as S3EventRecord[])
    .filter((r) => r?.eventSource === 'aws:s3' && r.eventName?.startsWith('ObjectCreated:') && r.s3?.object?.key !== undefined)
    .map(toObjectRef);
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
