// The SQS event source mapping, as Lambda runs it: receive a batch (BatchSize, within
// MaximumBatchingWindowInSeconds), invoke the function with the SQS event, delete what succeeded.
// What failed is left alone: it becomes visible again when the queue's visibility timeout ends,
// and the queue's redrive policy moves it to the DLQ after maxReceiveCount receives.
// Scaling: a batch is received whenever the function has concurrency free, so the batches in
// flight grow with the backlog up to the function's concurrency (and ScalingConfig.
// MaximumConcurrency). Throttled, as AWS documents it ("Handling errors for an SQS event source in
// Lambda"): Lambda keeps polling, backs off, and retries the batch until the messages' visibility
// timeout runs out; then they return to the queue, each receive counting towards maxReceiveCount.
// Here one batch at a time is received while the function has no concurrency free, and it waits in
// line for room (concurrency.ts) until a second before its visibility timeout.
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import type { FunctionRuntime, InvocationResult } from '../function-runtime';
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

interface QueueInfo {
  url: string;
  arn: string;
  visibilityTimeoutSeconds: number;
}

export class SqsPoller implements Poller {
  readonly name: string;
  private queue: QueueInfo | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Batches received while the function was throttled, waiting for room. */
  private throttledBatches = 0;

  constructor(private readonly options: SqsPollerOptions) {
    this.name = `sqs ${queueNameOf(options.mapping.queueArn)} -> ${options.mapping.function}`;
  }

  private async resolveQueue(): Promise<QueueInfo> {
    if (this.queue) return this.queue;
    const { sqs, mapping } = this.options;
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueNameOf(mapping.queueArn) }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['VisibilityTimeout'] }));
    this.queue = { url: QueueUrl!, arn: mapping.queueArn, visibilityTimeoutSeconds: Number(Attributes?.VisibilityTimeout ?? 30) };
    return this.queue;
  }

  async poll(): Promise<PollOutcome> {
    const { runtime, mapping } = this.options;
    if (!mapping.enabled) return 'idle';
    const queue = await this.resolveQueue();
    // ScalingConfig.MaximumConcurrency: no more batches of this mapping at once.
    if (mapping.maximumConcurrency !== undefined && this.inFlight.size >= mapping.maximumConcurrency) return 'busy';
    // Throttled: Lambda keeps receiving, one batch at a time here, which waits for room.
    const throttled = !runtime.hasFreeConcurrency();
    if (throttled && this.throttledBatches > 0) return 'busy';
    if (throttled) this.throttledBatches++;
    const settled = () => {
      if (throttled) this.throttledBatches--;
    };
    let messages: Message[];
    try {
      messages = await this.receive(queue.url);
    } catch (error) {
      settled();
      throw error;
    }
    if (messages.length === 0) {
      settled();
      return 'idle';
    }
    const work = this.invoke(queue, messages)
      .catch((error: unknown) => this.options.logger.error({ poller: this.name, err: (error as Error)?.message }, 'could not settle an SQS batch'))
      .finally(settled);
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

  /** Invokes, waiting for room if throttled; undefined when the messages' visibility timeout ran out first. */
  private async invokeUnthrottled(queue: QueueInfo, payload: Buffer): Promise<InvocationResult | undefined> {
    // A second before the messages become visible again, the batch is let go.
    const result = await this.options.runtime.invoke({ payload }, { waitForRoomMs: queue.visibilityTimeoutSeconds * 1000 - 1_000 });
    return !result.ok && result.kind === 'Throttled' ? undefined : result;
  }

  private async invoke(queue: QueueInfo, messages: Message[]): Promise<void> {
    const { sqs, mapping, region, logger } = this.options;
    const event = { Records: messages.map((m) => toSqsRecord(m, queue.arn, region)) };
    const result = await this.invokeUnthrottled(queue, Buffer.from(JSON.stringify(event)));
    if (!result) {
      logger.warn({ poller: this.name, function: mapping.function, batchSize: messages.length }, 'throttled until the visibility timeout: the messages return to the queue (each receive counts towards maxReceiveCount)');
      return;
    }
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
