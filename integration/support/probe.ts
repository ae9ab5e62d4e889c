// Reads a running stack's outcomes back from LocalStack for the end-to-end suites: processing-log
// items, queue depths, thumbnails, and the messages that reach the topics' inboxes. Every name
// comes from the stack's outputs (physical names are the ones the template makes).
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { LocalClients } from '../../toolkit/clients';
import { logItem, logItems, scanLog, type LogItem } from '../../toolkit/processing-log';

export type { LogItem };

/** An SNS notification as an SQS subscription receives it (raw delivery off). */
export interface Envelope {
  Message: string;
  Subject?: string;
  MessageAttributes?: Record<string, { Value: string }>;
}

/** The outputs a probe reads. */
export interface ProbeNames {
  output(key: string): string;
}

export class Probe {
  private readonly received = new Map<string, Record<string, any>[]>();
  readonly uploads: string;
  readonly thumbnails: string;
  readonly table: string;

  constructor(
    readonly clients: LocalClients,
    private readonly names: ProbeNames,
  ) {
    this.uploads = names.output('UploadsBucketName');
    this.thumbnails = names.output('ThumbnailsBucketName');
    this.table = names.output('ProcessingLogTableName');
  }

  put(key: string, body: Buffer | string, contentType?: string) {
    return this.clients.s3.send(new PutObjectCommand({ Bucket: this.uploads, Key: key, Body: body, ContentType: contentType }));
  }

  /** The processing-log key of an upload: `<uploads bucket>/<key>`. */
  pk(key: string): string {
    return `${this.uploads}/${key}`;
  }

  logItems(key: string): Promise<LogItem[]> {
    return logItems(this.clients.dynamodb, this.table, this.uploads, key);
  }

  logItem(key: string, timeoutMs = 90_000): Promise<LogItem> {
    return logItem(this.clients.dynamodb, this.table, this.uploads, key, timeoutMs);
  }

  /** Every item of the processing log. */
  scanLog(): Promise<LogItem[]> {
    return scanLog(this.clients.dynamodb, this.table);
  }

  async thumbnailKeys(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.clients.s3.send(new ListObjectsV2Command({ Bucket: this.thumbnails, ContinuationToken: token }));
      keys.push(...(out.Contents ?? []).map((o) => o.Key!));
      token = out.NextContinuationToken;
    } while (token);
    return keys;
  }

  /** A queue's URL from its output key (`ThumbnailEventQueueUrl`, `NotifyDeadLetterQueueUrl`...). */
  queueUrl(outputKey: string): string {
    return this.names.output(outputKey);
  }

  /** A queue's messages: waiting (visible), received but not yet deleted, and delayed. */
  async queueCounts(outputKey: string): Promise<{ waiting: number; inFlight: number; delayed: number }> {
    const { Attributes: a } = await this.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl(outputKey),
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
  async queueDepth(outputKey: string): Promise<number> {
    const { waiting, inFlight } = await this.queueCounts(outputKey);
    return waiting + inFlight;
  }

  /** Drains a queue into memory (each message received once, then deleted); returns every body seen so far. */
  async messages(outputKey: string): Promise<Record<string, any>[]> {
    const url = this.queueUrl(outputKey);
    for (;;) {
      const out = await this.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }));
      const messages = out.Messages ?? [];
      if (messages.length === 0) break;
      this.received.set(outputKey, [...(this.received.get(outputKey) ?? []), ...messages.map((m) => JSON.parse(m.Body!) as Record<string, any>)]);
      await this.clients.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
    }
    return this.received.get(outputKey) ?? [];
  }

  /** Every notification of a topic seen so far, through its inbox (`UploadNotifications`, `ProcessingAlerts`, `DailyReports`). */
  async notifications(topic: string): Promise<Envelope[]> {
    return (await this.messages(`${topic}InboxUrl`)) as Envelope[];
  }

  /** The notifications of a topic about one key. */
  async notificationsAbout(topic: string, key: string): Promise<Envelope[]> {
    return (await this.notifications(topic)).filter((n) => (JSON.parse(n.Message) as { key?: string }).key === key);
  }

  /** The output keys of every dead-letter queue of the stack. */
  deadLetterQueues(outputs: Record<string, string>): string[] {
    return Object.keys(outputs).filter((k) => k.endsWith('DeadLetterQueueUrl'));
  }
}
