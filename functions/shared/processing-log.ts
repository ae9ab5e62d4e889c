// The processing-log item: its shape, its key and its idempotent write live here and only here.
// One item per (function, object version): a redelivered S3 event maps to the same key, and the
// conditional put turns the duplicate into a no-op, so the audit stream sees one INSERT.
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
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

/** The index that lists the log by time: partition `day`, sort `createdAt` (stack/stack.ts declares it). */
export const BY_DAY_INDEX = 'by-day';

/** The UTC days the interval [from, to) touches, newest first: the partitions of the by-day index to read. */
export function daysBetween(from: Date, to: Date): string[] {
  const DAY = 86_400_000;
  const first = Math.floor(from.getTime() / DAY);
  const last = Math.floor((to.getTime() - 1) / DAY);
  const days: string[] = [];
  for (let d = last; d >= first; d--) days.push(new Date(d * DAY).toISOString().slice(0, 10));
  return days;
}

/** Reads the log by time through the by-day index (never a Scan): what the report and the API need. */
export interface ProcessingLogReader {
  /** Items with from <= createdAt < to, newest first. */
  between(from: Date, to: Date): AsyncIterable<ProcessingLogItem>;
  /** The items of one object (every function's), by key. */
  ofObject(bucket: string, key: string): Promise<ProcessingLogItem[]>;
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

/** The reader over DynamoDB: Query on the by-day index, one day partition after the other. */
export class DynamoProcessingLogReader implements ProcessingLogReader {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly index = BY_DAY_INDEX,
  ) {}

  async *between(from: Date, to: Date): AsyncIterable<ProcessingLogItem> {
    for (const day of daysBetween(from, to)) {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: this.index,
            KeyConditionExpression: '#day = :day AND createdAt BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#day': 'day' },
            ExpressionAttributeValues: marshall({ ':day': day, ':from': from.toISOString(), ':to': new Date(to.getTime() - 1).toISOString() }),
            ScanIndexForward: false,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of out.Items ?? []) yield unmarshall(item) as ProcessingLogItem;
        start = out.LastEvaluatedKey;
      } while (start);
    }
  }

  async ofObject(bucket: string, key: string): Promise<ProcessingLogItem[]> {
    const out = await this.client.send(
      new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: marshall({ ':pk': `${bucket}/${key}` }), ConsistentRead: true }),
    );
    return (out.Items ?? []).map((i) => unmarshall(i) as ProcessingLogItem);
  }
}

/** The reader over a MemoryProcessingLog, for unit tests. */
export class MemoryProcessingLogReader implements ProcessingLogReader {
  constructor(private readonly log: MemoryProcessingLog) {}

  async *between(from: Date, to: Date): AsyncIterable<ProcessingLogItem> {
    const items = [...this.log.items.values()].filter((i) => i.createdAt >= from.toISOString() && i.createdAt < to.toISOString());
    yield* items.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async ofObject(bucket: string, key: string): Promise<ProcessingLogItem[]> {
    return [...this.log.items.values()].filter((i) => i.pk === `${bucket}/${key}`);
  }
}
