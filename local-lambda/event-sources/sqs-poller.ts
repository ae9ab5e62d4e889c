// The SQS event source mapping, as Lambda runs it: receive a batch (BatchSize, within
// MaximumBatchingWindowInSeconds), invoke the function with the SQS event, delete what succeeded.
// What failed is left alone: it becomes visible again when the queue's visibility timeout ends,
// and the queue's redrive policy moves it to the DLQ after maxReceiveCount receives. A batch is
// only received when a container is idle to run it at once.
import { DeleteMessageBatchCommand, GetQueueUrlCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import type { FunctionRuntime } from '../function-runtime';
import type { SqsMappingPlan } from '../template/plan';
import { failedItems, logInvocation, LONG_POLL_SECONDS, outcomeOf, type PollOutcome, type Poller } from './poller';

/** The queue's name in its ARN (`arn:aws:sqs:<region>:<account>:<name>`). */
export const queueNameOf = (arn: string): string => arn.slice(arn.lastIndexOf(':') + 1);

/** One SQS message as Lambda hands it to a function. */
export function toSqsRecord(message: Message, eventSourceARN: string, awsRegion: string) {
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: { ...message.Attributes },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, v]) => [
        name,
        {
          ...(v.StringValue !== undefined && { stringValue: v.StringValue }),
          ...(v.BinaryValue !== undefined && { binaryValue: Buffer.from(v.BinaryValue).toString('base64') }),
          stringListValues: v.StringListValues ?? [],
          binaryListValues: (v.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
          dataType: v.DataType ?? 'String',
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion,
  };
}

export interface SqsPollerOptions {
  sqs: SQSClient;
  mapping: SqsMappingPlan;
  runtime: FunctionRuntime;
  region: string;
  logger: Logger;
  now?: () => number;
}

export class SqsPoller implements Poller {
  readonly name: string;
  private queue: { url: string; arn: string } | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: SqsPollerOptions) {
    this.name = `sqs ${queueNameOf(options.mapping.queueArn)} -> ${options.mapping.function}`;
  }

  private async resolveQueue(): Promise<{ url: string; arn: string }> {
    if (this.queue) return this.queue;
    const { sqs, mapping } = this.options;
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueNameOf(mapping.queueArn) }));
    this.queue = { url: QueueUrl!, arn: mapping.queueArn };
    return this.queue;
  }

  async poll(): Promise<PollOutcome> {
    const { runtime, mapping } = this.options;
    if (!mapping.enabled) return 'idle';
    const queue = await this.resolveQueue();
    if (!runtime.canTakeWork()) return 'busy';
    // ScalingConfig.MaximumConcurrency: no more batches of this mapping at once.
    if (mapping.maximumConcurrency !== undefined && this.inFlight.size >= mapping.maximumConcurrency) return 'busy';
    const messages = await this.receive(queue.url);
    if (messages.length === 0) return 'idle';
    const work = this.invoke(queue, messages).catch((error: unknown) =>
      this.options.logger.error({ poller: this.name, err: (error as Error)?.message }, 'could not settle an SQS batch'),
    );
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
    return 'work';
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  /** Up to BatchSize messages: one long poll, or polls until the batching window closes. */
  private async receive(url: string): Promise<Message[]> {
    const { sqs, mapping, now = Date.now } = this.options;
    const windowEnds = now() + mapping.maximumBatchingWindowInSeconds * 1000;
    const messages: Message[] = [];
    do {
      const remainingSeconds = Math.ceil((windowEnds - now()) / 1000);
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: Math.min(10, mapping.batchSize - messages.length),
          WaitTimeSeconds: mapping.maximumBatchingWindowInSeconds > 0 ? Math.min(20, Math.max(0, remainingSeconds)) : LONG_POLL_SECONDS,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      messages.push(...(out.Messages ?? []));
    } while (mapping.maximumBatchingWindowInSeconds > 0 && messages.length < mapping.batchSize && now() < windowEnds);
    return messages;
  }

  private async invoke(queue: { url: string; arn: string }, messages: Message[]): Promise<void> {
    const { sqs, mapping, runtime, region, logger } = this.options;
    const event = { Records: messages.map((m) => toSqsRecord(m, queue.arn, region)) };
    const result = await runtime.invoke({ payload: Buffer.from(JSON.stringify(event)) });
    const ids = messages.map((m) => m.MessageId ?? '');
    const failed = failedItems(result, ids, mapping.reportBatchItemFailures);
    const done = failed === 'all' ? [] : messages.filter((m) => !failed.has(m.MessageId ?? ''));
    logInvocation(logger, {
      function: mapping.function,
      source: 'sqs',
      requestId: result.requestId,
      durationMs: result.durationMs,
      outcome: outcomeOf(result),
      batchSize: messages.length,
      failed: messages.length - done.length,
      ...(!result.ok && { error: result.error }),
    });
    for (let i = 0; i < done.length; i += 10) {
      const chunk = done.slice(i, i + 10);
      const out = await sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: chunk.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle })) }),
      );
      // Not deleted: the message comes back after its visibility timeout and the function's
      // idempotent writes absorb the second delivery (at least once, as on AWS).
      if (out.Failed?.length) logger.warn({ poller: this.name, failed: out.Failed.length }, 'could not delete processed messages; they will be delivered again');
    }
  }
}
