// DynamoDB Streams polled like Lambda's event source mapping: per shard, from TRIM_HORIZON on
// first start, in batches of batchSize, in order. With ReportBatchItemFailures the function's
// `batchItemFailures` say where to resume: the batch is retried from the lowest failed sequence
// number. After maxRetries a batch is sent to the on-failure destination and skipped, as Lambda
// does with MaximumRetryAttempts. Checkpoints live in memory: a restart replays from TRIM_HORIZON,
// which the functions' idempotent writes absorb.
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  type DynamoDBStreamsClient,
} from '@aws-sdk/client-dynamodb-streams';
import type { Logger } from 'pino';
import { fullJitterDelay, sleep } from '#shared/backoff';
import type { FunctionRuntime, InvocationResult } from './function-runtime';

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
 * Where to resume after an invocation of `sequenceNumbers`: undefined when all succeeded, else
 * the index of the first record to retry. A failed invocation, or a response naming a record
 * that is not in the batch, retries the whole batch (Lambda's rule).
 */
export function retryIndex(sequenceNumbers: readonly string[], result: InvocationResult, reportBatchItemFailures: boolean): number | undefined {
  if (!result.ok) return 0;
  if (!reportBatchItemFailures) return undefined;
  let response: unknown;
  try {
    response = JSON.parse(result.payload.toString('utf8') || 'null');
  } catch {
    return undefined;
  }
  const failures = (response as { batchItemFailures?: Array<{ itemIdentifier?: unknown }> } | null)?.batchItemFailures;
  if (!Array.isArray(failures) || failures.length === 0) return undefined;
  const indexes = failures.map((f) => sequenceNumbers.indexOf(String(f?.itemIdentifier ?? '')));
  return indexes.some((i) => i < 0) ? 0 : Math.min(...indexes);
}

/**
 * Where a shard's next iterator starts: after the last record handed on (the checkpoint), or at
 * TRIM_HORIZON when nothing was, or when the checkpoint itself has been trimmed away.
 */
export function iteratorStart(checkpoint: string | undefined, checkpointTrimmed = false) {
  return checkpoint && !checkpointTrimmed
    ? ({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: checkpoint } as const)
    : ({ ShardIteratorType: 'TRIM_HORIZON' } as const);
}

/**
 * An iterator that can never read again and must be replaced: expired (15 minutes on AWS), or
 * pointing before the oldest record. DynamoDB Local (LocalStack's streams) also answers the latter
 * for a TRIM_HORIZON iterator taken while the shard was still empty, once records arrive; retrying
 * the same iterator then fails forever.
 */
export const isStaleIterator = (error: unknown): boolean =>
  ['TrimmedDataAccessException', 'ExpiredIteratorException'].includes((error as Error)?.name);

export interface StreamSourceOptions {
  dynamodb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  table: string;
  batchSize: number;
  reportBatchItemFailures: boolean;
  runtime: FunctionRuntime;
  logger: Logger;
  maxRetries?: number;
  pollIntervalMs?: number;
  sendToDestination: (batch: { shardId: string; records: Record<string, unknown>[]; error: unknown }) => Promise<void>;
}

export class StreamSource {
  private running = false;
  private readonly shards = new Map<string, Promise<void>>();
  private loop: Promise<void> | undefined;

  constructor(private readonly options: StreamSourceOptions) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.allSettled(this.shards.values());
  }

  private async run(): Promise<void> {
    const { logger, table, runtime } = this.options;
    let warned = false;
    while (this.running) {
      try {
        const { Table } = await this.options.dynamodb.send(new DescribeTableCommand({ TableName: table }));
        const streamArn = Table?.LatestStreamArn;
        if (!streamArn) throw new Error(`table ${table} has no stream`);
        const { StreamDescription } = await this.options.streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
        for (const shard of StreamDescription?.Shards ?? []) {
          const id = shard.ShardId!;
          if (!this.shards.has(id)) this.shards.set(id, this.pollShard(streamArn, id));
        }
        warned = false;
      } catch (error) {
        if (!warned) logger.warn({ function: runtime.name, table, err: (error as Error).message }, 'stream not ready yet (run bootstrap); retrying');
        warned = true;
      }
      // New shards appear as DynamoDB rotates them: look again now and then.
      for (let waited = 0; this.running && waited < 5000; waited += 250) await sleep(250);
    }
  }

  private async pollShard(streamArn: string, shardId: string): Promise<void> {
    const { streams, runtime, logger } = this.options;
    const pollIntervalMs = this.options.pollIntervalMs ?? 250;
    /** Sequence number of the last record handed on: where a renewed iterator resumes. */
    let checkpoint: string | undefined;
    let staleInARow = 0;
    let iterator: string | undefined;
    while (this.running) {
      let out;
      try {
        iterator ??= (
          await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ...iteratorStart(checkpoint, staleInARow > 1) }))
        ).ShardIterator;
        if (!iterator) return;
        out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.options.batchSize }));
        staleInARow = 0;
      } catch (error) {
        if (isStaleIterator(error)) {
          staleInARow++;
          logger.info({ function: runtime.name, shardId, checkpoint, err: (error as Error).message }, 'shard iterator no longer valid; taking a new one');
          iterator = undefined;
        } else {
          logger.warn({ function: runtime.name, shardId, err: (error as Error).message }, 'GetRecords failed; retrying');
        }
        await sleep(staleInARow === 1 ? 0 : 1000);
        continue;
      }
      const records = (out.Records ?? []).map((r) => toLambdaRecord(r, streamArn));
      if (records.length > 0) {
        await this.deliver(shardId, records);
        checkpoint = (out.Records!.at(-1)!.dynamodb?.SequenceNumber) ?? checkpoint;
      }
      // No next iterator: the shard is closed and fully read (its successor is polled on its own).
      if (!out.NextShardIterator) return;
      iterator = out.NextShardIterator;
      if (records.length === 0) await sleep(pollIntervalMs);
    }
  }

  /** Invokes until the batch is done (or given up on); never returns before that. */
  private async deliver(shardId: string, batch: Record<string, unknown>[]): Promise<void> {
    const { runtime, logger } = this.options;
    const maxRetries = this.options.maxRetries ?? 5;
    let records = batch;
    for (let attempt = 0; ; attempt++) {
      const sequenceNumbers = records.map((r) => String((r.dynamodb as { SequenceNumber?: string }).SequenceNumber));
      const result = await runtime.invoke({ payload: Buffer.from(JSON.stringify({ Records: records })) });
      const from = retryIndex(sequenceNumbers, result, this.options.reportBatchItemFailures);
      logger.info(
        { function: runtime.name, source: 'dynamodb-stream', shardId, records: records.length, requestId: result.requestId, durationMs: result.durationMs, outcome: from === undefined ? 'success' : `retry from ${from}` },
        'invocation',
      );
      if (from === undefined) return;
      records = records.slice(from);
      if (attempt >= maxRetries) {
        await this.options.sendToDestination({ shardId, records, error: result.ok ? 'batchItemFailures' : result.error });
        logger.error({ function: runtime.name, shardId, records: records.length }, 'stream batch retries exhausted; sent to the on-failure destination');
        return;
      }
      await sleep(fullJitterDelay(attempt + 1, { baseMs: 250, capMs: 10_000 }));
    }
  }
}
