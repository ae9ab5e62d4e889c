// The entry adapter of every S3-triggered function. What arrives is what AWS sends:
// - an SQS event from the function's queue (S3 -> SNS with raw delivery -> SQS), each message body
//   an S3 event: each message succeeds or fails alone, and the failures go back to the queue as
//   `batchItemFailures` (Powertools' BatchProcessor);
// - a bare S3 event, e.g. from `aws lambda invoke`: processed in turn, the results returned.
// Anything else is an error that says what is missing, never a silent success.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { InvalidEvent } from './errors';
import { invocationLogger, type Logger } from './logger';
import { parseS3Event, type S3ObjectRef } from './s3-event';

/** Where an object's event came from: the message that carried it (its id and body), and the invocation. */
export interface EventSource {
  /** The queue message's id (a redelivery is the same message), or the request id for a bare event. */
  owner: string;
  /** The event as it arrived (a message body, or the bare event as JSON): sent again, it is the same event. */
  body: string;
  context: Context;
}

export type S3ObjectHandler<R> = (ref: S3ObjectRef, logger: Logger, source: EventSource) => Promise<R>;

export interface S3TriggerOptions {
  /** Process the messages of a batch at the same time (default: one after the other). */
  parallel?: boolean;
}

export type S3TriggerResult<R> = SQSBatchResponse | { results: Array<{ key: string } & R> };

const isSqsEvent = (event: unknown): event is { Records: SQSRecord[] } => {
  const records = (event as { Records?: unknown })?.Records;
  return Array.isArray(records) && records.length > 0 && (records[0] as { eventSource?: unknown })?.eventSource === 'aws:sqs';
};

/** The S3 event a queue message carries (SNS raw delivery keeps it unchanged). */
export function s3EventOfMessage(record: SQSRecord): S3ObjectRef[] {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new InvalidEvent(`message ${record.messageId}: the body is not JSON (expected an S3 event)`);
  }
  return parseS3Event(body, `message ${record.messageId}: `);
}

/** Wraps a per-object handler into a Lambda handler for SQS-of-S3 and bare S3 events. */
export function s3Trigger<R extends object>(handle: S3ObjectHandler<R>, options: S3TriggerOptions = {}) {
  return async (event: unknown, context: Context): Promise<S3TriggerResult<R>> => {
    const logger = invocationLogger(context);
    if (isSqsEvent(event)) {
      const processor = new BatchProcessor(EventType.SQS);
      return processPartialResponse(
        event,
        async (record: SQSRecord) => {
          const source: EventSource = { owner: record.messageId, body: record.body, context };
          for (const ref of s3EventOfMessage(record)) await handle(ref, logger.child({ messageId: record.messageId }), source);
        },
        processor,
        { context, processInParallel: options.parallel ?? false },
      );
    }
    const refs = parseS3Event(event);
    const results: Array<{ key: string } & R> = [];
    const source: EventSource = { owner: context.awsRequestId, body: JSON.stringify(event), context };
    for (const ref of refs) results.push({ key: ref.key, ...(await handle(ref, logger, source)) });
    return { results };
  };
}
