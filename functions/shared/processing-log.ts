// The processing-log item: its shape, its key and its idempotent write live here and only here.
// One item per (function, object version): a redelivered S3 event maps to the same key, and the
// conditional put turns the duplicate into a no-op, so the audit stream sees one final item.
// A job longer than one invocation (csv-import of a large file) keeps an IN_PROGRESS item under the
// same key, with its checkpoint, held by one invocation at a time (a lease); its final item
// replaces it.
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { capText } from './bounded';
import { objectVersionId, type S3ObjectRef } from './s3-event';

export type ProcessingStatus = 'PROCESSED' | 'FAILED' | 'IN_PROGRESS';
export type FinalStatus = Exclude<ProcessingStatus, 'IN_PROGRESS'>;

/**
 * Who works on an IN_PROGRESS item: one invocation (its queue message), until `untilMs`. Another
 * may take the item over only once the lease has run out (the holder timed out or crashed).
 */
export interface Lease {
  owner: string;
  untilMs: number;
  nowMs: number;
}

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
  /** IN_PROGRESS only: the invocation working on it, and until when (epoch ms). */
  leaseOwner?: string;
  leaseUntil?: number;
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
  /** True when the final item exists already: the event was processed before (skip the work). */
  has(key: ProcessingLogKey): Promise<boolean>;
  /** The item, final or IN_PROGRESS, or undefined. */
  get(key: ProcessingLogKey): Promise<ProcessingLogItem | undefined>;
  /**
   * Writes the final item unless a final one with the same key exists; over an IN_PROGRESS item
   * only for the lease's owner (or once its lease has run out).
   */
  putOnce(item: ProcessingLogItem, lease?: Lease): Promise<'created' | 'duplicate'>;
  /**
   * Writes an IN_PROGRESS item (a checkpoint) if there is none, or over one whose lease this owner
   * holds or that nobody holds now; `hold` false lets it go (a hand-over). 'lost': another holds it,
   * or it is final.
   */
  putProgress(item: ProcessingLogItem, lease: Lease, hold: boolean): Promise<'saved' | 'lost'>;
}

/** Whether `lease` may write over `existing` (an IN_PROGRESS item free, its own, or expired). */
export function mayTakeOver(existing: ProcessingLogItem | undefined, lease: Lease): boolean {
  if (!existing) return true;
  if (existing.status !== 'IN_PROGRESS') return false;
  return existing.leaseOwner === undefined || existing.leaseOwner === lease.owner || (existing.leaseUntil ?? 0) < lease.nowMs;
}

const TAKE_OVER = '#status = :inProgress AND (attribute_not_exists(leaseOwner) OR leaseOwner = :owner OR leaseUntil < :now)';

export class DynamoProcessingLog implements ProcessingLog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async has(key: ProcessingLogKey): Promise<boolean> {
    const item = await this.get(key);
    return item !== undefined && item.status !== 'IN_PROGRESS';
  }

  async get(key: ProcessingLogKey): Promise<ProcessingLogItem | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: marshall(key), ConsistentRead: true }));
    return out.Item ? (unmarshall(out.Item) as ProcessingLogItem) : undefined;
  }

  async putOnce(item: ProcessingLogItem, lease?: Lease): Promise<'created' | 'duplicate'> {
    const { leaseOwner: _o, leaseUntil: _u, ...final } = item;
    return (await this.conditionalPut(final, lease)) ? 'created' : 'duplicate';
  }

  async putProgress(item: ProcessingLogItem, lease: Lease, hold: boolean): Promise<'saved' | 'lost'> {
    const { leaseOwner: _o, leaseUntil: _u, ...rest } = item;
    const progress: ProcessingLogItem = { ...rest, status: 'IN_PROGRESS', ...(hold && { leaseOwner: lease.owner, leaseUntil: lease.untilMs }) };
    return (await this.conditionalPut(progress, lease)) ? 'saved' : 'lost';
  }

  private async conditionalPut(item: ProcessingLogItem, lease: Lease | undefined): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall(item, { removeUndefinedValues: true }),
          ...(lease
            ? {
                ConditionExpression: `attribute_not_exists(pk) OR (${TAKE_OVER})`,
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: marshall({ ':inProgress': 'IN_PROGRESS', ':owner': lease.owner, ':now': lease.nowMs }),
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

/** In-memory log with the same semantics, for unit tests. */
export class MemoryProcessingLog implements ProcessingLog {
  readonly items = new Map<string, ProcessingLogItem>();

  async has(key: ProcessingLogKey): Promise<boolean> {
    const item = this.items.get(`${key.pk}|${key.sk}`);
    return item !== undefined && item.status !== 'IN_PROGRESS';
  }

  async get(key: ProcessingLogKey): Promise<ProcessingLogItem | undefined> {
    const item = this.items.get(`${key.pk}|${key.sk}`);
    return item && structuredClone(item);
  }

  async putOnce(item: ProcessingLogItem, lease?: Lease): Promise<'created' | 'duplicate'> {
    const id = `${item.pk}|${item.sk}`;
    const existing = this.items.get(id);
    if (existing && (!lease || !mayTakeOver(existing, lease))) return 'duplicate';
    const { leaseOwner: _o, leaseUntil: _u, ...final } = item;
    this.items.set(id, structuredClone(final));
    return 'created';
  }

  async putProgress(item: ProcessingLogItem, lease: Lease, hold: boolean): Promise<'saved' | 'lost'> {
    const id = `${item.pk}|${item.sk}`;
    if (!mayTakeOver(this.items.get(id), lease)) return 'lost';
    const { leaseOwner: _o, leaseUntil: _u, ...rest } = item;
    this.items.set(id, structuredClone({ ...rest, status: 'IN_PROGRESS' as const, ...(hold && { leaseOwner: lease.owner, leaseUntil: lease.untilMs }) }));
    return 'saved';
  }
}
