// The DynamoDB Streams event source mapping, as Lambda runs it: per shard, in order, batches of
// BatchSize from the checkpoint (or StartingPosition the first time). A failed batch is bisected
// (BisectBatchOnFunctionError: splitting does not count as a retry), retried from the lowest
// failed sequence number with ReportBatchItemFailures, and given up on after MaximumRetryAttempts
// or MaximumRecordAgeInSeconds, when a DDBStreamBatchInfo record goes to the on-failure destination.
// Checkpoints are stored (checkpoints.ts): a restarted service replays nothing. A child shard waits
// until its parent was read to its end.
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  type DynamoDBStreamsClient,
} from '@aws-sdk/client-dynamodb-streams';
import type { Logger } from 'pino';
import { fullJitterDelay, sleep as realSleep } from '#shared/backoff';
import type { FunctionRuntime, InvocationResult } from '../function-runtime';
import type { StreamMappingPlan } from '../template/plan';
import type { CheckpointStore } from './checkpoints';
import { streamFailureRecord, type SendRecord } from './failure-records';
import { failedItems, logInvocation, outcomeOf, type PollOutcome, type Poller, type ReportMetric } from './poller';

/** A GetRecords record in the shape Lambda hands to functions (dates as epoch seconds). */
export function toLambdaRecord(record: StreamRecord, eventSourceARN: string): Record<string, unknown> {
  const { dynamodb, ...rest } = record;
  const created = dynamodb?.ApproximateCreationDateTime;
  return {
    ...rest,
    eventSource: 'aws:dynamodb',
    dynamodb: { ...dynamodb, ...(created instanceof Date && { ApproximateCreationDateTime: Math.floor(created.getTime() / 1000) }) },
    eventSourceARN,
  };
}

/**
 * Where a shard's next iterator starts: after the checkpoint, or at the mapping's starting
 * position when there is none, or at TRIM_HORIZON when the checkpoint itself has been trimmed away.
 */
export function iteratorStart(checkpoint: string | undefined, startingPosition: StreamMappingPlan['startingPosition'], checkpointTrimmed = false) {
  if (checkpoint && !checkpointTrimmed) return { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: checkpoint } as const;
  return { ShardIteratorType: checkpoint ? 'TRIM_HORIZON' : startingPosition } as const;
}

/**
 * An iterator that can never read again and must be replaced: expired (15 minutes on AWS), or
 * pointing before the oldest record. DynamoDB Local (LocalStack's streams) also answers the latter
 * for a TRIM_HORIZON iterator taken while the shard was still empty, once records arrive; retrying
 * the same iterator then fails forever.
 */
export const isStaleIterator = (error: unknown): boolean => ['TrimmedDataAccessException', 'ExpiredIteratorException'].includes((error as Error)?.name);

interface Shard {
  id: string;
  parentId: string | undefined;
  loaded: boolean;
  checkpoint: string | undefined;
  iterator: string | undefined;
  staleInARow: number;
  /** Read to its end and everything handed on. */
  done: boolean;
  /** GetRecords answered without a next iterator: done once the batch in hand is settled. */
  closing: boolean;
  busy: boolean;
}

interface Batch {
  records: Record<string, unknown>[];
  /** Invocations of these records so far. */
  attempts: number;
}

export interface StreamPollerOptions {
  streams: DynamoDBStreamsClient;
  mapping: StreamMappingPlan;
  runtime: FunctionRuntime;
  functionArn: string;
  checkpoints: CheckpointStore;
  /** Sends a failure record to a queue; resolves once it is stored. */
  sendRecord: SendRecord;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Delay before retry n of a failed batch. */
  retryDelayMs?: (attempt: number) => number;
  /** How often the shard list is read again (shards rotate). */
  shardRefreshMs?: number;
  /** IteratorAge of each batch sent, failed deliveries to the on-failure destination. */
  metric?: ReportMetric;
}

const sequenceOf = (record: Record<string, unknown>): string => String((record.dynamodb as { SequenceNumber?: string } | undefined)?.SequenceNumber ?? '');
const createdOf = (record: Record<string, unknown>): number => Number((record.dynamodb as { ApproximateCreationDateTime?: number } | undefined)?.ApproximateCreationDateTime ?? 0);

export class StreamPoller implements Poller {
  readonly name: string;
  private readonly streamArn: string;
  private readonly shards = new Map<string, Shard>();
  private lastRefresh = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: StreamPollerOptions) {
    this.streamArn = options.mapping.streamArn;
    // arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>
    this.name = `dynamodb-stream ${this.streamArn.split('/')[1] ?? this.streamArn} -> ${options.mapping.function}`;
  }

  private get checkpointKey(): string {
    return `${this.options.mapping.function}|${this.streamArn}`;
  }

  private async refreshShards(): Promise<void> {
    const { streams, now = Date.now, shardRefreshMs = 5_000 } = this.options;
    if (this.lastRefresh > 0 && now() - this.lastRefresh < shardRefreshMs) return;
    const arn = this.streamArn;
    let start: string | undefined;
    do {
      const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: arn, ExclusiveStartShardId: start }));
      for (const s of StreamDescription?.Shards ?? []) {
        if (!this.shards.has(s.ShardId!)) {
          this.shards.set(s.ShardId!, { id: s.ShardId!, parentId: s.ParentShardId, loaded: false, checkpoint: undefined, iterator: undefined, staleInARow: 0, done: false, closing: false, busy: false });
        }
      }
      start = StreamDescription?.LastEvaluatedShardId;
    } while (start);
    this.lastRefresh = now();
  }

  async poll(): Promise<PollOutcome> {
    if (!this.options.mapping.enabled) return 'idle';
    // No room in the function's concurrency: the records wait in the stream (nothing is lost).
    if (!this.options.runtime.hasFreeConcurrency()) return 'busy';
    await this.refreshShards();
    let outcome: PollOutcome = 'idle';
    for (const shard of this.shards.values()) {
      if (shard.done || shard.busy) continue;
      const parent = shard.parentId ? this.shards.get(shard.parentId) : undefined;
      if (parent && !parent.done) continue; // parents are drained before their children
      const records = await this.read(shard);
      if (records.length === 0) {
        if (shard.closing) await this.finishShard(shard);
        continue;
      }
      shard.busy = true;
      const work = this.settle(shard, { records, attempts: 0 })
        .catch((error: unknown) => this.options.logger.error({ poller: this.name, shardId: shard.id, err: (error as Error)?.message }, 'stream batch could not be settled'))
        .finally(() => {
          shard.busy = false;
        });
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
      outcome = 'work';
    }
    return outcome;
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  /** The next records of a shard (up to BatchSize, within the batching window). */
  private async read(shard: Shard): Promise<Record<string, unknown>[]> {
    const { streams, mapping, checkpoints, logger, now = Date.now } = this.options;
    if (!shard.loaded) {
      const stored = await checkpoints.get(this.checkpointKey, shard.id);
      shard.checkpoint = stored?.sequenceNumber;
      shard.done = stored?.done === true;
      shard.loaded = true;
      if (shard.done) return [];
    }
    const windowEnds = now() + mapping.maximumBatchingWindowInSeconds * 1000;
    const records: Record<string, unknown>[] = [];
    do {
      try {
        shard.iterator ??= (
          await streams.send(
            new GetShardIteratorCommand({ StreamArn: this.streamArn, ShardId: shard.id, ...iteratorStart(shard.checkpoint, mapping.startingPosition, shard.staleInARow > 1) }),
          )
        ).ShardIterator;
        if (!shard.iterator) {
          shard.closing = true;
          break;
        }
        const out = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: mapping.batchSize - records.length }));
        shard.staleInARow = 0;
        records.push(...(out.Records ?? []).map((r) => toLambdaRecord(r, this.streamArn)));
        // No next iterator: the shard is closed and read to its end.
        if (!out.NextShardIterator) shard.closing = true;
        shard.iterator = out.NextShardIterator;
        if (shard.closing || (out.Records ?? []).length === 0) break;
      } catch (error) {
        if (!isStaleIterator(error)) throw error;
        shard.staleInARow++;
        logger.info({ poller: this.name, shardId: shard.id, checkpoint: shard.checkpoint, err: (error as Error).message }, 'shard iterator no longer valid; taking a new one');
        shard.iterator = undefined;
        if (records.length > 0) break;
      }
    } while (mapping.maximumBatchingWindowInSeconds > 0 && records.length < mapping.batchSize && now() < windowEnds);
    // Never hand a record on twice: records at or before the checkpoint (a renewed iterator) are skipped.
    return shard.checkpoint ? records.filter((r) => BigInt(sequenceOf(r)) > BigInt(shard.checkpoint!)) : records;
  }

  private async invoke(shard: Shard, batch: Batch): Promise<InvocationResult> {
    const { runtime, mapping, logger, now = Date.now } = this.options;
    const newest = createdOf(batch.records.at(-1) ?? {});
    if (newest > 0) this.options.metric?.('IteratorAge', Math.max(0, now() - newest * 1000));
    const result = await runtime.invoke({ payload: Buffer.from(JSON.stringify({ Records: batch.records })) });
    // A throttle is not an attempt: the batch is tried again until it is let in or its records expire.
    if (!result.ok && result.kind === 'Throttled') return result;
    batch.attempts++;
    logInvocation(logger, {
      function: mapping.function,
      source: 'dynamodb-stream',
      shardId: shard.id,
      requestId: result.requestId,
      durationMs: result.durationMs,
      outcome: outcomeOf(result),
      batchSize: batch.records.length,
      attempt: batch.attempts,
      ...(!result.ok && { error: result.error }),
    });
    return result;
  }

  /** Invokes until the batch is handed on (processed or sent to the on-failure destination). */
  private async settle(shard: Shard, first: Batch): Promise<void> {
    const { mapping, sleep = realSleep, retryDelayMs = (n) => fullJitterDelay(n, { baseMs: 250, capMs: 10_000 }) } = this.options;
    const pending: Batch[] = [first];
    while (pending.length > 0) {
      const batch = pending[0]!;
      const expired = this.expired(batch.records);
      if (expired.length > 0) {
        await this.giveUp(shard, expired, undefined, batch.attempts, 'RecordAgeExceeded');
        batch.records = batch.records.slice(expired.length);
        if (batch.records.length === 0) {
          pending.shift();
          continue;
        }
      }
      const result = await this.invoke(shard, batch);
      if (!result.ok && result.kind === 'Throttled') {
        await sleep(retryDelayMs(1));
        continue;
      }
      const failed = failedItems(result, batch.records.map(sequenceOf), mapping.reportBatchItemFailures);
      if (failed !== 'all' && failed.size === 0) {
        await this.checkpoint(shard, sequenceOf(batch.records.at(-1)!));
        pending.shift();
        continue;
      }
      if (failed !== 'all') {
        // Everything before the lowest failed record is done; retry from it.
        const from = batch.records.findIndex((r) => failed.has(sequenceOf(r)));
        if (from > 0) await this.checkpoint(shard, sequenceOf(batch.records[from - 1]!));
        batch.records = batch.records.slice(from);
      } else if (mapping.bisectBatchOnFunctionError && batch.records.length > 1) {
        const half = Math.ceil(batch.records.length / 2);
        pending.splice(0, 1, { records: batch.records.slice(0, half), attempts: 0 }, { records: batch.records.slice(half), attempts: 0 });
        continue;
      }
      if (mapping.maximumRetryAttempts !== -1 && batch.attempts > mapping.maximumRetryAttempts) {
        await this.giveUp(shard, batch.records, result, batch.attempts, 'RetryAttemptsExhausted');
        pending.shift();
        continue;
      }
      await sleep(retryDelayMs(batch.attempts));
    }
    if (shard.closing) await this.finishShard(shard);
  }

  /** The leading records older than MaximumRecordAgeInSeconds (records are in arrival order). */
  private expired(records: Record<string, unknown>[]): Record<string, unknown>[] {
    const { mapping, now = Date.now } = this.options;
    if (mapping.maximumRecordAgeInSeconds < 0) return [];
    const oldest = now() / 1000 - mapping.maximumRecordAgeInSeconds;
    const firstYoung = records.findIndex((r) => createdOf(r) >= oldest);
    return records.slice(0, firstYoung < 0 ? records.length : firstYoung);
  }

  /** The records go to the on-failure destination; the shard moves past them. Retried until stored. */
  private async giveUp(shard: Shard, records: Record<string, unknown>[], result: InvocationResult | undefined, attempts: number, condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded') {
    const { mapping, functionArn, sendRecord, logger } = this.options;
    const record = streamFailureRecord({
      records: records.map((r) => ({ sequenceNumber: sequenceOf(r), createdAt: createdOf(r) })),
      result,
      shardId: shard.id,
      streamArn: this.streamArn,
      functionArn,
      attempts,
      condition,
    });
    if (mapping.onFailure) {
      await this.retried(async () => {
        try {
          await sendRecord(mapping.onFailure!, record);
        } catch (error) {
          this.options.metric?.('DestinationDeliveryFailures', 1);
          throw error;
        }
      }, 'send the failure record');
      logger.error({ poller: this.name, shardId: shard.id, records: records.length, condition, destination: mapping.onFailure }, 'stream records given up on; sent to the on-failure destination');
    } else {
      logger.error({ poller: this.name, shardId: shard.id, records: records.length, condition }, 'stream records given up on; dropped (the mapping has no on-failure destination)');
    }
    await this.checkpoint(shard, sequenceOf(records.at(-1)!));
  }

  private async checkpoint(shard: Shard, sequenceNumber: string): Promise<void> {
    shard.checkpoint = sequenceNumber;
    await this.retried(() => this.options.checkpoints.put(this.checkpointKey, shard.id, { sequenceNumber }), 'store the checkpoint');
  }

  private async finishShard(shard: Shard): Promise<void> {
    await this.retried(() => this.options.checkpoints.put(this.checkpointKey, shard.id, { sequenceNumber: shard.checkpoint, done: true }), 'store the end of the shard');
    shard.done = true;
  }

  /** Runs `step` until it succeeds (LocalStack may be restarting), logging each failure. */
  private async retried(step: () => Promise<void>, what: string): Promise<void> {
    const { sleep = realSleep, logger } = this.options;
    for (let attempt = 1; ; attempt++) {
      try {
        return await step();
      } catch (error) {
        logger.warn({ poller: this.name, attempt, err: (error as Error)?.message }, `could not ${what}; retrying`);
        await sleep(fullJitterDelay(Math.min(attempt, 6), { baseMs: 250, capMs: 10_000 }));
      }
    }
  }
}
