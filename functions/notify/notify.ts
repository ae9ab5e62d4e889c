// The notify core: one SNS message per uploaded object, with attributes for filter policies.
import type { ObjectStore } from '#shared/object-store';
import type { Notification, Publisher } from '#shared/publisher';
import type { S3ObjectRef } from '#shared/s3-event';

/** Content type reported when the object is gone before we could look (deleted since upload). */
export const UNKNOWN_CONTENT_TYPE = 'unknown';

export interface NotifyDeps {
  store: ObjectStore;
  publisher: Publisher;
}

/** `images/cat.jpg` -> `images/`; a key without a folder -> `/`. */
export function keyPrefix(key: string): string {
  const slash = key.indexOf('/');
  return slash > 0 ? key.slice(0, slash + 1) : '/';
}

export function uploadNotification(ref: S3ObjectRef, contentType: string): Notification {
  return {
    subject: `New upload: s3://${ref.bucket}/${ref.key}`,
    message: JSON.stringify({
      bucket: ref.bucket,
      key: ref.key,
      size: ref.size,
      contentType,
      eventTime: ref.eventTime,
      eventName: ref.eventName,
      eTag: ref.eTag,
      versionId: ref.versionId,
    }),
    attributes: { bucket: ref.bucket, keyPrefix: keyPrefix(ref.key), contentType },
  };
}

/**
 * Publishes one upload. S3 events carry no content type, so it is read with a HEAD request. Any
 * SNS or S3 error propagates: the message is retried (at least once).
 */
export async function notifyUpload(ref: S3ObjectRef, deps: NotifyDeps): Promise<string> {
  const head = await deps.store.head(ref.bucket, ref.key);
  return deps.publisher.publish(uploadNotification(ref, head?.contentType ?? UNKNOWN_CONTENT_TYPE));
}
