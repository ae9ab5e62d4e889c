// The DynamoDB side of the import: one BatchWriteItem call, returning what was left unprocessed.
import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { WriteChunk } from './batch-writer';
import type { Item } from './row-schema';

export const dynamoWriteChunk =
  (client: DynamoDBClient, table: string): WriteChunk =>
  async (items: Item[]) => {
    const out = await client.send(
      new BatchWriteItemCommand({ RequestItems: { [table]: items.map((item) => ({ PutRequest: { Item: marshall(item) } })) } }),
    );
    return (out.UnprocessedItems?.[table] ?? []).flatMap((req) => (req.PutRequest?.Item ? [unmarshall(req.PutRequest.Item) as Item] : []));
  };
