// The processing-log item: its shape, its key and its idempotent write live here and only here.
// One item per (function, object version): a redelivered S3 event maps to the same key, and the
// conditional put turns the duplicate into a no-op, so the audit stream sees one INSERT.
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { capText } from './bounded';
import { objectVersionId, type S3ObjectRef } from './s3-event';

export type ProcessingStatus = 'PROCESSED' | 'FAILED';

export interface ProcessingLogKey {
  /** `<bucket>/<decoded key>` */
  pk: string;
  /** `<function>#<versionId | sequencer | eTag>` */
  sk: string;
}

export interface ProcessingLogItem extends ProcessingLogKey {
  function: string;
  bucket: string;
  key: string;
  objectVersion: string;
  status: ProcessingStatus;
  /** Why a FAILED item failed, readable by a person. */
  reason?: string;
  createdAt: string;
  /** The UTC date of createdAt (YYYY-MM-DD): the partition of the by-day index, newest first within it. */
  day: string;
  durationMs: number;
  /** Function-specific facts (thumbnail outputs, import counts...). */
  details?: Record<string, unknown>;
}

export function processingLogKey(fn: string, ref: Pick<S3ObjectRef, 'bucket' | 'key' | 'versionId' | 'sequencer' | 'eTag'>): ProcessingLogKey {
  return { pk: `${ref.bucket}/${ref.key}`, sk: `${fn}#${objectVersionId(ref)}` };
}

export interface NewLogItem {
  fn: string;
  ref: S3ObjectRef;
  status: ProcessingStatus;
  durationMs: number;
  reason?: string;
  details?: Record<string, unknown>;
  now?: Date;
}

export function newLogItem({ fn, ref, status, durationMs, reason, details, now = new Date() }: NewLogItem): ProcessingLogItem {
  return {
    ...processingLogKey(fn, ref),
    function: fn,
    bucket: ref.bucket,
    key: ref.key,
    objectVersion: objectVersionId(ref),
    status,
    // Capped: a reason may quote the input, and the item must stay far below 400 KB.
    ...(reason !== undefined && { reason: capText(reason) }),
    createdAt: now.toISOString(),
    day: now.toISOString().slice(0, 10),
    durationMs: Math.round(durationMs),
    ...(details !== undefined && { details }),
  };
}

/** The port the cores write through; tests pass an in-memory one. */
export interface ProcessingLog {
  /** True when the item exists already: the event was processed before (skip the work). */
  has(key: ProcessingLogKey): Promise<boolean>;
  /** Writes the item unless one with the same key exists. */
  putOnce(item: ProcessingLogItem): Promise<'created' | 'duplicate'>;
}

export class DynamoProcessingLog implements ProcessingLog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async has(key: ProcessingLogKey): Promise<boolean> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: marshall(key), ProjectionExpression: 'pk', ConsistentRead: true }),
    );
    return out.Item !== undefined;
  }

  async putOnce(item: ProcessingLogItem): Promise<'created' | 'duplicate'> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall(item, { removeUndefinedValues: true }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'created';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'duplicate';
      throw error;
    }
  }
}

/** In-memory log with the same semantics, for unit tests. */
export class MemoryProcessingLog implements ProcessingLog {
  readonly items = new Map<string, ProcessingLogItem>();

  async has(key: ProcessingLogKey): Promise<boolean> {
    return this.items.has(`${key.pk}|${key.sk}`);
  }

  async putOnce(item: ProcessingLogItem): Promise<'created' | 'duplicate'> {
    const id = `${item.pk}|${item.sk}`;
    if (this.items.has(id)) return 'duplicate';
    this.items.set(id, item);
    return 'created';
  }
}
