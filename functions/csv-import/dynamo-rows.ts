// The DynamoDB side of the import: one BatchWriteItem call (put), or one conditional PutItem
// (if-newer), each reporting what it could not do.
import { BatchWriteItemCommand, ConditionalCheckFailedException, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { WriteChunk } from './batch-writer';
import type { ConditionalPut } from './conditional-writer';
import type { TableKeys } from './datasets';
import type { Item } from './row-schema';

const toAttributes = (item: Item) => marshall(item, { removeUndefinedValues: true, convertEmptyValues: false });

export const dynamoWriteChunk =
  (client: DynamoDBClient, table: string): WriteChunk =>
  async (items: Item[]) => {
    const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: items.map((item) => ({ PutRequest: { Item: toAttributes(item) } })) } }));
    return (out.UnprocessedItems?.[table] ?? []).flatMap((req) => (req.PutRequest?.Item ? [unmarshall(req.PutRequest.Item) as Item] : []));
  };

/** Puts a row unless the stored one's `versionColumn` is greater or equal. */
export const dynamoPutIfNewer =
  (client: DynamoDBClient, table: string, keys: TableKeys, versionColumn: string): ConditionalPut =>
  async (item: Item) => {
    try {
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: toAttributes(item),
          ConditionExpression: 'attribute_not_exists(#pk) OR attribute_not_exists(#v) OR #v < :v',
          ExpressionAttributeNames: { '#pk': keys.partitionKey, '#v': versionColumn },
          ExpressionAttributeValues: marshall({ ':v': item[versionColumn] }),
        }),
      );
      return 'written';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'older';
      throw error;
    }
  };
