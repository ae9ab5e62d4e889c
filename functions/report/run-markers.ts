// The marker per period that makes the summary go out once: a conditional put claims the period,
// an update confirms it was sent. A claim older than the function can run is taken over (a run that
// died between claiming and sending must not leave the period without a summary).
import { ConditionalCheckFailedException, DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RunMarkers } from './report';

/** A claim older than this is abandoned: longer than the function may run. */
const STALE_CLAIM_MS = 15 * 60_000;

export class DynamoRunMarkers implements RunMarkers {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async claim(period: string, now: Date): Promise<'claimed' | 'sent' | 'busy'> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: { period: { S: period }, state: { S: 'claimed' }, claimedAt: { S: now.toISOString() } },
          ConditionExpression: 'attribute_not_exists(period) OR (#state = :claimed AND claimedAt < :stale)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':claimed': { S: 'claimed' }, ':stale': { S: new Date(now.getTime() - STALE_CLAIM_MS).toISOString() } },
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item } = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { period: { S: period } }, ConsistentRead: true }));
      return Item?.state?.S === 'sent' ? 'sent' : 'busy';
    }
  }

  async confirm(period: string, messageId: string, now: Date): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { period: { S: period } },
        UpdateExpression: 'SET #state = :sent, sentAt = :now, messageId = :id',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':sent': { S: 'sent' }, ':now': { S: now.toISOString() }, ':id': { S: messageId } },
      }),
    );
  }

  async release(period: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.table, Key: { period: { S: period } }, ConditionExpression: '#state = :claimed', ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: { ':claimed': { S: 'claimed' } } }));
  }
}

/** In memory, for unit tests. */
export class MemoryRunMarkers implements RunMarkers {
  readonly items = new Map<string, { state: 'claimed' | 'sent'; claimedAt: Date; messageId?: string }>();
  async claim(period: string, now: Date) {
    const existing = this.items.get(period);
    if (existing?.state === 'sent') return 'sent' as const;
    if (existing && now.getTime() - existing.claimedAt.getTime() < STALE_CLAIM_MS) return 'busy' as const;
    this.items.set(period, { state: 'claimed', claimedAt: now });
    return 'claimed' as const;
  }
  async confirm(period: string, messageId: string) {
    this.items.set(period, { ...this.items.get(period)!, state: 'sent', messageId });
  }
  async release(period: string) {
    if (this.items.get(period)?.state === 'claimed') this.items.delete(period);
  }
}
