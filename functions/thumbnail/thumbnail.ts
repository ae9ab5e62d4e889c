// The thumbnail core: one S3 object in, thumbnails out, one processing-log item. No AWS SDK here:
// the handler passes the ports (object store, processing log).
import type { Logger } from '#shared/logger';
import { MAX_S3_KEY_BYTES, utf8Bytes } from '#shared/bounded';
import { RejectedInput } from '#shared/errors';
import { readAtMost, type ObjectStore } from '#shared/object-store';
import { newLogItem, processingLogKey, type ProcessingLog } from '#shared/processing-log';
import type { S3ObjectRef } from '#shared/s3-event';
import type { ThumbnailConfig } from './config';
import { renderThumbnails } from './render';
import { CONTENT_TYPES, thumbnailKey } from './resize-plan';

export const FUNCTION_NAME = 'thumbnail';

export interface ThumbnailDeps {
  store: ObjectStore;
  log: ProcessingLog;
  logger: Logger;
  now?: () => number;
}

export interface ThumbnailOutput {
  key: string;
  width: number;
  height: number;
  bytes: number;
}

export type ThumbnailOutcome =
  | { status: 'IGNORED'; reason: string }
  | { status: 'DUPLICATE' }
  | { status: 'PROCESSED'; outputs: ThumbnailOutput[] }
  | { status: 'FAILED'; reason: string };

type Config = Pick<ThumbnailConfig, 'THUMBNAIL_BUCKET' | 'THUMBNAIL_WIDTHS' | 'THUMBNAIL_FORMAT' | 'MAX_INPUT_PIXELS' | 'MAX_INPUT_BYTES'>;

/**
 * Processes one uploaded object. Bad input ends as a FAILED item and a normal return (a retry
 * would fail the same way); S3 and DynamoDB errors throw, so the platform retries the event.
 */
export async function processUpload(ref: S3ObjectRef, config: Config, deps: ThumbnailDeps): Promise<ThumbnailOutcome> {
  const now = deps.now ?? Date.now;
  if (ref.bucket === config.THUMBNAIL_BUCKET) {
    // Recursion guard: our own output must never be fed back in, whatever the wiring says.
    return { status: 'IGNORED', reason: `object is in the output bucket ${config.THUMBNAIL_BUCKET}` };
  }
  if (await deps.log.has(processingLogKey(FUNCTION_NAME, ref))) return { status: 'DUPLICATE' };

  const started = now();
  const record = async (outcome: Exclude<ThumbnailOutcome, { status: 'IGNORED' | 'DUPLICATE' }>, details: Record<string, unknown>) => {
    const item = newLogItem({
      fn: FUNCTION_NAME,
      ref,
      status: outcome.status,
      durationMs: now() - started,
      ...(outcome.status === 'FAILED' && { reason: outcome.reason }),
      details,
    });
    const written = await deps.log.putOnce(item);
    deps.logger.info({ bucket: ref.bucket, key: ref.key, status: outcome.status, reason: item.reason, written }, 'thumbnail done');
    return written === 'created' ? outcome : ({ status: 'DUPLICATE' } as const);
  };

  // `<key>/<width>.<ext>` must fit S3's 1024 bytes: a longer key fails now, with a reason, rather
  // than on every retry of the PutObject.
  const longestOutput = thumbnailKey(ref.key, Math.max(...config.THUMBNAIL_WIDTHS), config.THUMBNAIL_FORMAT);
  if (utf8Bytes(longestOutput) > MAX_S3_KEY_BYTES) {
    return record({ status: 'FAILED', reason: `the key is too long for its thumbnails: ${utf8Bytes(longestOutput)} bytes with /<width>.<ext> added, S3 allows ${MAX_S3_KEY_BYTES}; upload it under a shorter key` }, {});
  }
  const object = await deps.store.get(ref.bucket, ref.key);
  if (!object) return record({ status: 'FAILED', reason: 'object no longer exists (deleted before it was processed)' }, {});
  const input = await readAtMost(object.body, config.MAX_INPUT_BYTES);
  if (input === 'too-large') {
    return record({ status: 'FAILED', reason: `object is larger than ${config.MAX_INPUT_BYTES} bytes (MAX_INPUT_BYTES)` }, {});
  }

  let rendered;
  try {
    rendered = await renderThumbnails(input, {
      widths: config.THUMBNAIL_WIDTHS,
      format: config.THUMBNAIL_FORMAT,
      maxInputPixels: config.MAX_INPUT_PIXELS,
    });
  } catch (error) {
    if (error instanceof RejectedInput) return record({ status: 'FAILED', reason: error.message }, { bytesIn: input.length });
    throw error;
  }

  const outputs = await Promise.all(
    rendered.outputs.map(async (out) => {
      const key = thumbnailKey(ref.key, out.width, config.THUMBNAIL_FORMAT);
      await deps.store.put(config.THUMBNAIL_BUCKET, key, out.data, CONTENT_TYPES[config.THUMBNAIL_FORMAT], out.data.length);
      return { key, width: out.width, height: out.height, bytes: out.data.length };
    }),
  );
  return record(
    { status: 'PROCESSED', outputs },
    {
      source: rendered.source,
      widths: outputs.map((o) => o.width),
      format: config.THUMBNAIL_FORMAT,
      outputBucket: config.THUMBNAIL_BUCKET,
      outputs,
      bytesIn: input.length,
      bytesOut: outputs.reduce((sum, o) => sum + o.bytes, 0),
    },
  );
}
