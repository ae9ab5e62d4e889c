// Reads a running stack's outcomes back from LocalStack for the end-to-end suites: processing-log
// items, queue depths, thumbnails, and the messages that reach SQS subscriptions of the topics.
import { QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { inboxQueueName } from '#stack/topology';
import type { LocalClients } from '../../scripts/local-clients';
import { eventually } from './docker';

export type LogItem = Record<string, any> & { pk: string; sk: string; status: string; function: string };

/** An SNS notification as an SQS subscription receives it (raw delivery off). */
export interface Envelope {
  Message: string;
  MessageAttributes?: Record<string, { Value: string }>;
}

export class Probe {
  private readonly urls = new Map<string, string>();
  private readonly received = new Map<string, Record<string, any>[]>();

  constructor(readonly clients: LocalClients) {}

  put(key: string, body: Buffer | string, contentType?: string) {
    return this.clients.s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: key, Body: body, ContentType: contentType }));
  }

  async logItems(key: string): Promise<LogItem[]> {
    const out = await this.clients.dynamodb.send(
      new QueryCommand({ TableName: 'processing-log', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `uploads/${key}` } }, ConsistentRead: true }),
    );
    return (out.Items ?? []).map((i) => unmarshall(i) as LogItem);
  }

  logItem(key: string, timeoutMs = 90_000): Promise<LogItem> {
    return eventually(async () => (await this.logItems(key))[0], `the processing-log item of ${key}`, timeoutMs);
  }

  /** Every item of the processing log. */
  async scanLog(): Promise<LogItem[]> {
    const items: LogItem[] = [];
    let start: Record<string, any> | undefined;
    do {
      const out = await this.clients.dynamodb.send(new ScanCommand({ TableName: 'processing-log', ExclusiveStartKey: start, ConsistentRead: true }));
      items.push(...(out.Items ?? []).map((i) => unmarshall(i) as LogItem));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async thumbnailKeys(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.clients.s3.send(new ListObjectsV2Command({ Bucket: 'thumbnails', ContinuationToken: token }));
      keys.push(...(out.Contents ?? []).map((o) => o.Key!));
      token = out.NextContinuationToken;
    } while (token);
    return keys;
  }

  async queueUrl(name: string): Promise<string> {
    if (!this.urls.has(name)) this.urls.set(name, (await this.clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!);
    return this.urls.get(name)!;
  }

  /** A queue's messages: waiting (visible), received but not yet deleted, and delayed. */
  async queueCounts(name: string): Promise<{ waiting: number; inFlight: number; delayed: number }> {
    const { Attributes: a } = await this.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: await this.queueUrl(name),
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    return {
      waiting: Number(a?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(a?.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(a?.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  }

  /** Messages waiting plus messages received but not yet deleted. */
  async queueDepth(name: string): Promise<number> {
    const { waiting, inFlight } = await this.queueCounts(name);
    return waiting + inFlight;
  }

  /** Drains a queue into memory (each message received once, then deleted); returns every body seen so far. */
  async messages(queue: string): Promise<Record<string, any>[]> {
    const url = await this.queueUrl(queue);
    for (;;) {
      const out = await this.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }));
      const messages = out.Messages ?? [];
      if (messages.length === 0) break;
      this.received.set(queue, [...(this.received.get(queue) ?? []), ...messages.map((m) => JSON.parse(m.Body!) as Record<string, any>)]);
      await this.clients.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
    }
    return this.received.get(queue) ?? [];
  }

  /** Every notification of a topic seen so far, through its SQS subscription. */
  async notifications(topic: string): Promise<Envelope[]> {
    return (await this.messages(inboxQueueName(topic))) as Envelope[];
  }

  /** The notifications of a topic about one key. */
  async notificationsAbout(topic: string, key: string): Promise<Envelope[]> {
    return (await this.notifications(topic)).filter((n) => (JSON.parse(n.Message) as { key?: string }).key === key);
  }
}
