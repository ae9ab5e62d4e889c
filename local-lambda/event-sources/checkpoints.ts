// Where a stream event source mapping resumes after a restart of the local Lambda service: per
// shard, the sequence number of the last record handed on (or "done" for a closed shard read to
// its end); and for a schedule, the last time it fired. Kept in a DynamoDB table in LocalStack, so a restarted service replays nothing, and
// the checkpoints go away with the data they point into.
import {
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
  ResourceInUseException,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

export interface Checkpoint {
  /** Sequence number of the last record handed on (processed, or sent to the on-failure destination). */
  sequenceNumber?: string;
  /** The shard is closed and was read to its end: its children may start. */
  done?: boolean;
  /** A schedule's last fire time (ISO 8601), handed over or sent to its DLQ. */
  lastFiredAt?: string;
}

export interface CheckpointStore {
  get(mapping: string, shardId: string): Promise<Checkpoint | undefined>;
  put(mapping: string, shardId: string, checkpoint: Checkpoint): Promise<void>;
}

/** The service's own table, beside the stack's: not part of the stack description. */
export const CHECKPOINT_TABLE = 'local-lambda-service-checkpoints';

export class DynamoCheckpointStore implements CheckpointStore {
  private ready: Promise<void> | undefined;

  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly table = CHECKPOINT_TABLE,
  ) {}

  private ensureTable(): Promise<void> {
    this.ready ??= (async () => {
      try {
        await this.dynamodb.send(
          new CreateTableCommand({
            TableName: this.table,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: [
              { AttributeName: 'mapping', AttributeType: 'S' },
              { AttributeName: 'shardId', AttributeType: 'S' },
            ],
            KeySchema: [
              { AttributeName: 'mapping', KeyType: 'HASH' },
              { AttributeName: 'shardId', KeyType: 'RANGE' },
            ],
          }),
        );
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
      await waitUntilTableExists({ client: this.dynamodb, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: this.table });
    })().catch((error: unknown) => {
      this.ready = undefined; // try again on the next call
      throw error;
    });
    return this.ready;
  }

  async get(mapping: string, shardId: string): Promise<Checkpoint | undefined> {
    await this.ensureTable();
    const { Item } = await this.dynamodb.send(
      new GetItemCommand({ TableName: this.table, Key: { mapping: { S: mapping }, shardId: { S: shardId } }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      ...(Item.sequenceNumber?.S && { sequenceNumber: Item.sequenceNumber.S }),
      ...(Item.done?.BOOL && { done: true }),
      ...(Item.lastFiredAt?.S && { lastFiredAt: Item.lastFiredAt.S }),
    };
  }

  async put(mapping: string, shardId: string, checkpoint: Checkpoint): Promise<void> {
    await this.ensureTable();
    await this.dynamodb.send(
      new PutItemCommand({
        TableName: this.table,
        Item: {
          mapping: { S: mapping },
          shardId: { S: shardId },
          ...(checkpoint.sequenceNumber && { sequenceNumber: { S: checkpoint.sequenceNumber } }),
          done: { BOOL: checkpoint.done === true },
          ...(checkpoint.lastFiredAt && { lastFiredAt: { S: checkpoint.lastFiredAt } }),
          updatedAt: { S: new Date().toISOString() },
        },
      }),
    );
  }
}

/** For unit tests, and for a service started without LocalStack. */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly items = new Map<string, Checkpoint>();
  async get(mapping: string, shardId: string) {
    return this.items.get(`${mapping}|${shardId}`);
  }
  async put(mapping: string, shardId: string, checkpoint: Checkpoint) {
    this.items.set(`${mapping}|${shardId}`, { ...checkpoint });
  }
}
