// The DynamoDB side of the import: one BatchWriteItem call (put), or one conditional PutItem
// (if-newer), each reporting what it could not do.
import { BatchWriteItemCommand, ConditionalCheckFailedException, PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { WriteChunk } from './batch-writer';
import type { ConditionalPut } from './conditional-writer';
import type { TableKeys } from './datasets';
import type { Item, Value } from './row-schema';

/**
 * An item as DynamoDB attributes. Not util-dynamodb's marshall: it builds maps by assignment, so an
 * attribute named `__proto__` vanishes silently and one named `constructor` makes it throw ("Unsupported
 * type passed"); column names are data here (any header a user types), so every name becomes an own
 * property (Object.fromEntries), and an item holds only JSON-shaped values (row-schema.ts).
 */
export const toAttributes = (item: Readonly<Record<string, Value>>): Record<string, AttributeValue> =>
  Object.fromEntries(Object.entries(item).map(([name, value]) => [name, toAttribute(value)]));

function toAttribute(value: Value): AttributeValue {
  if (value === null) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(toAttribute) };
  return { M: toAttributes(value) };
}

/** Attributes back into an item (what BatchWriteItem left unprocessed), every name an own property. */
export const fromAttributes = (attributes: Readonly<Record<string, AttributeValue>>): Item =>
  Object.fromEntries(Object.entries(attributes).map(([name, attribute]) => [name, fromAttribute(attribute)]));

function fromAttribute(attribute: AttributeValue): Value {
  if (attribute.S !== undefined) return attribute.S;
  if (attribute.N !== undefined) return Number(attribute.N);
  if (attribute.BOOL !== undefined) return attribute.BOOL;
  if (attribute.L !== undefined) return attribute.L.map(fromAttribute);
  if (attribute.M !== undefined) return fromAttributes(attribute.M);
  return null;
}

export const dynamoWriteChunk =
  (client: DynamoDBClient, table: string): WriteChunk =>
  async (items: Item[]) => {
    const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: items.map((item) => ({ PutRequest: { Item: toAttributes(item) } })) } }));
    return (out.UnprocessedItems?.[table] ?? []).flatMap((req) => (req.PutRequest?.Item ? [fromAttributes(req.PutRequest.Item)] : []));
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
          ExpressionAttributeValues: { ':v': toAttribute(item[versionColumn] ?? null) },
        }),
      );
      return 'written';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'older';
      throw error;
    }
  };
