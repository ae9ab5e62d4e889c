// S3 notifications through SQS: LocalStack S3 sends each ObjectCreated event to the function's
// queue, and this source hands the message body, which is already the `{"Records":[...]}` event
// S3 sends to Lambda, to the function. A message is deleted only after the function succeeded; a
// failure makes it visible again after a backoff, and the queue's redrive policy moves it to the
// DLQ after maxReceiveCount deliveries.
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { fullJitterDelay, sleep } from '#shared/backoff';
import type { FunctionRuntime } from './function-runtime';

export type ParsedMessage = { kind: 'event'; payload: Buffer } | { kind: 'test-event' } | { kind: 'invalid'; reason: string };

/** What an S3 -> SQS message carries: an S3 event, S3's test event, or something else. */
export function parseS3Message(body: string | undefined): ParsedMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    return { kind: 'invalid', reason: 'body is not JSON' };
  }
  const obj = parsed as { Event?: string; Records?: unknown };
  if (obj?.Event === 's3:TestEvent') return { kind: 'test-event' };
  if (Array.isArray(obj?.Records)) return { kind: 'event', payload: Buffer.from(body ?? '') };
  return { kind: 'invalid', reason: 'not an S3 event notification' };
}

/** Seconds before a failed message is delivered again: grows with each delivery, capped. */
export const retryVisibilitySeconds = (receiveCount: number): number => Math.min(2 ** receiveCount, 60);

export interface SqsS3SourceOptions {
  sqs: SQSClient;
  queueName: string;
  runtime: FunctionRuntime;
  timeoutSeconds: number;
  logger: Logger;
  maxInFlight?: number;
}

export class SqsS3Source {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: SqsS3SourceOptions) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops receiving and waits for the invocations in flight; unreceived work stays in the queue. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.allSettled(this.inFlight);
  }

  private async queueUrl(): Promise<string> {
    const { sqs, queueName, logger } = this.options;
    for (let attempt = 0; this.running; attempt++) {
      try {
        const out = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
        return out.QueueUrl!;
      } catch (error) {
        if (attempt === 0) logger.warn({ queue: queueName, err: (error as Error).message }, 'event queue not found yet (run bootstrap); retrying');
        await sleep(2000);
      }
    }
    return '';
  }

  private async run(): Promise<void> {
    const { sqs, logger, runtime } = this.options;
    const maxInFlight = this.options.maxInFlight ?? 10;
    const url = await this.queueUrl();
    let errors = 0;
    while (this.running) {
      if (this.inFlight.size >= maxInFlight) {
        await Promise.race(this.inFlight);
        continue;
      }
      try {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: Math.min(10, maxInFlight - this.inFlight.size),
            WaitTimeSeconds: 2,
            // Long enough for the message to wait its turn behind others and then run.
            VisibilityTimeout: this.options.timeoutSeconds * 3 + 30,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        errors = 0;
        for (const message of out.Messages ?? []) {
          const work = this.handle(url, message).catch((error: unknown) =>
            logger.error({ function: runtime.name, err: error }, 'could not settle an SQS message'),
          );
          this.inFlight.add(work);
          void work.finally(() => this.inFlight.delete(work));
        }
      } catch (error) {
        errors++;
        logger.warn({ function: runtime.name, err: (error as Error).message }, 'ReceiveMessage failed; backing off');
        await sleep(fullJitterDelay(Math.min(errors, 6), { baseMs: 200, capMs: 5000 }));
      }
    }
  }

  private async handle(url: string, message: Message): Promise<void> {
    const { sqs, runtime, logger } = this.options;
    const parsed = parseS3Message(message.Body);
    if (parsed.kind === 'test-event') {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
      return;
    }
    if (parsed.kind === 'invalid') {
      // Left alone: the redrive policy moves it to the DLQ after maxReceiveCount deliveries.
      logger.warn({ function: runtime.name, messageId: message.MessageId, reason: parsed.reason }, 'unexpected message on the event queue');
      return;
    }
    const result = await runtime.invoke({ payload: parsed.payload });
    logger.info(
      {
        function: runtime.name,
        source: 'sqs',
        requestId: result.requestId,
        durationMs: result.durationMs,
        outcome: result.ok ? 'success' : result.kind,
        ...(!result.ok && { error: result.error }),
      },
      'invocation',
    );
    if (result.ok) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
      return;
    }
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? '1');
    await sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: retryVisibilitySeconds(receiveCount) }),
    );
  }
}
