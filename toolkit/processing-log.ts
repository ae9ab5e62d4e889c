// Processing-log lookups, for the demo, the bench and the suites: the items a function wrote for an
// upload (key `<bucket>/<key>`, one item per function and object version).
import { QueryCommand, ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { eventually } from './eventually';

export type LogItem = Record<string, any> & { pk: string; sk: string; status: string; function: string };

/** Every item of an upload (of one function when given), newest write first as DynamoDB orders them. */
export async function logItems(dynamodb: DynamoDBClient, table: string, bucket: string, key: string, fn?: string): Promise<LogItem[]> {
  const out = await dynamodb.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: fn ? 'pk = :pk AND begins_with(sk, :fn)' : 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `${bucket}/${key}` }, ...(fn && { ':fn': { S: `${fn}#` } }) },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).map((i) => unmarshall(i) as LogItem);
}

/** The first final item of an upload (PROCESSED or FAILED), once there is one: a long import is IN_PROGRESS before. */
export const logItem = (dynamodb: DynamoDBClient, table: string, bucket: string, key: string, timeoutMs = 90_000, fn?: string): Promise<LogItem> =>
  eventually(async () => (await logItems(dynamodb, table, bucket, key, fn)).find((i) => i.status !== 'IN_PROGRESS'), `the processing-log item of ${key}`, timeoutMs);

/** Every item of the log. */
export async function scanLog(dynamodb: DynamoDBClient, table: string): Promise<LogItem[]> {
  const items: LogItem[] = [];
  let start: Record<string, any> | undefined;
  do {
    const out = await dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(out.Items ?? []).map((i) => unmarshall(i) as LogItem));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}
