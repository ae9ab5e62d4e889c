// Event (asynchronous) invocations, as Lambda runs them: the Invoke API answers 202 only once the
// event is stored in the function's internal queue (so a restart loses none); this poller invokes
// it, retries a failure MaximumRetryAttempts times with a delay, and sends what still fails (or
// grew older than MaximumEventAgeInSeconds) to the on-failure destination in AWS's record format.
// Throttled ("Error handling and automatic retries in Lambda"): the event goes back to the queue
// and is tried again, 1 s after the first attempt and doubling up to 5 minutes, until it reaches
// its maximum age; throttles are not attempts. At reserved concurrency 0 it goes straight to the
// on-failure destination, condition ZeroReservedConcurrency, never invoked (as AWS records it).
import { createHash } from 'node:crypto';
import { ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import type { FunctionRuntime } from '../function-runtime';
import type { AsyncInvokePlan } from '../template/plan';
import { asyncFailureRecord, type SendRecord } from './failure-records';
import { logInvocation, LONG_POLL_SECONDS, outcomeOf, type PollOutcome, type Poller, type ReportMetric } from './poller';

/** AWS's limit for an Event invocation's payload. */
export const MAX_ASYNC_PAYLOAD_BYTES = 1_048_576;

/**
 * The service's own queue of a function's Event invocations (not part of the stack): SQS names
 * are at most 80 characters, function names 64, so a long name keeps its start and a hash.
 */
export function asyncQueueName(fn: string): string {
  const name = `local-lambda-async-${fn}`;
  if (name.length <= 80) return name;
  return `${name.slice(0, 71)}-${createHash('sha256').update(fn).digest('hex').slice(0, 8)}`;
}

/** What the internal queue holds for one Event invocation. */
export interface QueuedEvent {
  requestId: string;
  /** The payload, base64. */
  payload: string;
  /** Invocations so far. */
  attempts: number;
  /** When the Invoke API accepted it (epoch ms): MaximumEventAgeInSeconds counts from here. */
  acceptedAt: number;
  /** Throttled tries so far (they set the backoff, they are not attempts). */
  throttles?: number;
}

/** The wait before a throttled event is tried again: 1 s, doubling, up to 5 minutes. */
export const throttledRetrySeconds = (throttles: number): number => Math.min(300, 2 ** Math.max(0, throttles - 1));

export interface AsyncQueue {
  url: string;
}

/** Creates (or finds) the internal queue; its messages can hold AWS's 1 MB async payloads. */
export async function ensureAsyncQueue(sqs: SQSClient, fn: string, visibilitySeconds: number): Promise<AsyncQueue> {
  const base = { VisibilityTimeout: String(visibilitySeconds), MessageRetentionPeriod: '21600' };
  try {
    const out = await sqs.send(new CreateQueueCommand({ QueueName: asyncQueueName(fn), Attributes: { ...base, MaximumMessageSize: String(2 * MAX_ASYNC_PAYLOAD_BYTES) } }));
    return { url: out.QueueUrl! };
  } catch {
    // An SQS that caps messages at 256 KiB (older LocalStack): Event payloads are then capped there too.
    const out = await sqs.send(new CreateQueueCommand({ QueueName: asyncQueueName(fn), Attributes: base }));
    return { url: out.QueueUrl! };
  }
}

/** Stores an Event invocation; resolves once SQS has it (then, and only then, the 202 is due). */
export async function enqueueEvent(sqs: SQSClient, queue: AsyncQueue, event: QueuedEvent, delaySeconds = 0): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(event), DelaySeconds: delaySeconds }));
}

export interface AsyncPollerOptions {
  sqs: SQSClient;
  /** The internal queue (created on first use, once LocalStack answers). */
  queue: () => Promise<AsyncQueue>;
  config: AsyncInvokePlan;
  runtime: FunctionRuntime;
  functionArn: string;
  sendRecord: SendRecord;
  /** Seconds before retry n (1-based); AWS waits about 60 s, then 120 s. */
  retryDelaySeconds: (attempt: number) => number;
  logger: Logger;
  now?: () => number;
  /** AsyncEventAge of each event sent, events dropped, failed deliveries to a destination. */
  metric?: ReportMetric;
}

export class AsyncPoller implements Poller {
  readonly name: string;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: AsyncPollerOptions) {
    this.name = `event invocations -> ${options.config.function}`;
  }

  async poll(): Promise<PollOutcome> {
    const { sqs, runtime } = this.options;
    const queue = await this.options.queue();
    // No room now: the events wait in the queue (at reserved concurrency 0 they are taken, to be recorded).
    if (!runtime.throttledForGood && !runtime.hasFreeConcurrency()) return 'busy';
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 1, WaitTimeSeconds: LONG_POLL_SECONDS }));
    const messages = out.Messages ?? [];
    for (const message of messages) {
      const work = this.handle(queue, message).catch((error: unknown) =>
        this.options.logger.error({ poller: this.name, err: (error as Error)?.message }, 'Event invocation could not be settled; it will be delivered again'),
      );
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    }
    return messages.length > 0 ? 'work' : 'idle';
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async handle(queue: AsyncQueue, message: Message): Promise<void> {
    const { sqs, config, runtime, functionArn, sendRecord, retryDelaySeconds, logger, now = Date.now } = this.options;
    let event: QueuedEvent;
    try {
      event = JSON.parse(message.Body ?? '') as QueuedEvent;
    } catch {
      logger.error({ poller: this.name, messageId: message.MessageId }, 'unreadable message in the Event queue; dropped');
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
      return;
    }
    const payload = Buffer.from(event.payload, 'base64');
    const ageSeconds = (now() - event.acceptedAt) / 1000;
    let result: Awaited<ReturnType<FunctionRuntime['invoke']>> | undefined;
    let condition: 'RetriesExhausted' | 'EventAgeExceeded' | 'ZeroReservedConcurrency' | undefined;
    if (ageSeconds > config.maximumEventAgeInSeconds) {
      condition = 'EventAgeExceeded';
    } else if (runtime.throttledForGood) {
      condition = 'ZeroReservedConcurrency';
    } else {
      this.options.metric?.('AsyncEventAge', Math.max(0, now() - event.acceptedAt));
      result = await runtime.invoke({ payload });
      if (!result.ok && result.kind === 'Throttled') {
        event.throttles = (event.throttles ?? 0) + 1;
        const delay = throttledRetrySeconds(event.throttles);
        if (ageSeconds + delay <= config.maximumEventAgeInSeconds) {
          await enqueueEvent(sqs, queue, event, Math.min(900, delay));
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
          return;
        }
        result = undefined;
        condition = 'EventAgeExceeded';
      }
    }
    if (result) {
      event.attempts++;
      logInvocation(logger, {
        function: config.function,
        source: 'event',
        requestId: event.requestId,
        durationMs: result.durationMs,
        outcome: outcomeOf(result),
        attempt: event.attempts,
        ...(!result.ok && { error: result.error }),
      });
      if (result.ok) {
        if (config.onSuccess) {
          await sendRecord(config.onSuccess, asyncFailureRecord({ payload, result, requestId: event.requestId, functionArn, attempts: event.attempts, condition: 'Success' }));
        }
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
        return;
      }
      const delay = retryDelaySeconds(event.attempts);
      if (event.attempts <= config.maximumRetryAttempts) {
        if (ageSeconds + delay <= config.maximumEventAgeInSeconds) {
          // The retry is a new message, delayed; the old one goes only once the new one is stored.
          await enqueueEvent(sqs, queue, event, Math.min(900, delay));
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
          return;
        }
        condition = 'EventAgeExceeded';
      } else {
        condition = 'RetriesExhausted';
      }
    }
    const record = asyncFailureRecord({ payload, result, requestId: event.requestId, functionArn, attempts: event.attempts, condition: condition! });
    if (!config.onFailure) {
      this.options.metric?.('AsyncEventsDropped', 1);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
      logger.error({ function: config.function, requestId: event.requestId, condition }, 'Event invocation failed for good; dropped (no on-failure destination)');
      return;
    }
    try {
      await sendRecord(config.onFailure, record);
    } catch (error) {
      this.options.metric?.('DestinationDeliveryFailures', 1);
      // Not stored: keep the event (visible again in a few seconds) rather than lose it.
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 5 })).catch(() => undefined);
      throw error;
    }
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
    logger.error({ function: config.function, requestId: event.requestId, condition, destination: config.onFailure }, 'Event invocation failed for good; sent to the on-failure destination');
  }
}
