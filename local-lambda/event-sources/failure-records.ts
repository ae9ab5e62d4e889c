// The records AWS Lambda sends to an on-failure destination, in AWS's own shapes, and the one
// place they are sent from. Two kinds exist, as on AWS (an SQS source needs none: its queue's
// redrive policy moves the message itself to the DLQ):
// - an Event invocation whose retries ran out: the request and the error;
// - a stream batch given up on: DDBStreamBatchInfo, which names the records (shard, sequence
//   numbers) but does not carry them;
// - a schedule's fire time that could not be handed to the function (EventBridge Scheduler's
//   dead-letter event: the event itself, the error in message attributes).
import { capText } from '#shared/bounded';
import type { FunctionError, InvocationResult } from '../function-runtime';

/** SQS takes messages up to 256 KB: a record stays well below, whatever the payload was. */
export const MAX_RECORD_BYTES = 200 * 1024;

/** An error as a record carries it: the message capped, the stack trace to its first lines. */
const boundedError = (error: FunctionError): FunctionError => ({
  errorType: capText(error.errorType, 200),
  errorMessage: capText(error.errorMessage),
  ...(error.stackTrace && { stackTrace: error.stackTrace.slice(0, 10).map((line) => capText(line, 300)) }),
});

type Failure = Extract<InvocationResult, { ok: false }> | { ok: true; requestId: string; payload: Buffer };

interface RequestContext {
  requestId: string;
  functionArn: string;
  condition: 'Success' | 'RetriesExhausted' | 'EventAgeExceeded' | 'ZeroReservedConcurrency' | 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
  approximateInvokeCount: number;
}

interface ResponseContext {
  statusCode: number;
  executedVersion: '$LATEST';
  functionError?: 'Unhandled';
}

export interface AsyncFailureRecord {
  version: '1.0';
  timestamp: string;
  requestContext: RequestContext;
  requestPayload: unknown;
  responseContext: ResponseContext;
  responsePayload: unknown;
}

export interface StreamFailureRecord {
  version: '1.0';
  timestamp: string;
  requestContext: RequestContext;
  responseContext: ResponseContext;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}


const parseJson = (payload: Buffer): unknown => {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return payload.toString('utf8');
  }
};

function responseContext(result: Failure | undefined): ResponseContext {
  // A function that answered (even with batchItemFailures) has no functionError.
  if (!result || result.ok) return { statusCode: 200, executedVersion: '$LATEST' };
  return { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' };
}

/**
 * What Lambda sends on for an Event invocation that failed every attempt (or grew too old), and to
 * an on-success destination for one that succeeded (condition Success, the response with it).
 */
export function asyncFailureRecord(options: {
  payload: Buffer;
  result: Failure | undefined;
  requestId: string;
  functionArn: string;
  attempts: number;
  condition: 'Success' | 'RetriesExhausted' | 'EventAgeExceeded' | 'ZeroReservedConcurrency';
  now?: Date;
}): AsyncFailureRecord {
  const { payload, result, requestId, functionArn, attempts, condition, now = new Date() } = options;
  const record: AsyncFailureRecord = {
    version: '1.0',
    timestamp: now.toISOString(),
    requestContext: { requestId, functionArn: `${functionArn}:$LATEST`, condition, approximateInvokeCount: attempts },
    requestPayload: parseJson(payload),
    responseContext: responseContext(result),
    responsePayload: result && !result.ok ? boundedError(result.error) : result?.ok ? parseJson(result.payload) : undefined,
  };
  // An Event payload may be up to 1 MB: past the bound, the record keeps an excerpt and says so.
  if (Buffer.byteLength(JSON.stringify(record)) > MAX_RECORD_BYTES) {
    record.requestPayload = { truncated: true, bytes: payload.length, excerpt: capText(payload.toString('utf8'), 4096) };
    if (Buffer.byteLength(JSON.stringify(record)) > MAX_RECORD_BYTES) record.responsePayload = { truncated: true };
  }
  return record;
}

export interface StreamRecordInfo {
  sequenceNumber: string;
  /** ApproximateCreationDateTime, epoch seconds. */
  createdAt: number;
}

/** What Lambda sends on for stream records it gave up on: where they are, not what they are. */
export function streamFailureRecord(options: {
  records: readonly StreamRecordInfo[];
  result: Failure | undefined;
  shardId: string;
  streamArn: string;
  functionArn: string;
  attempts: number;
  condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
  now?: Date;
}): StreamFailureRecord {
  const { records, result, shardId, streamArn, functionArn, attempts, condition, now = new Date() } = options;
  const first = records[0]!;
  const last = records[records.length - 1]!;
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    version: '1.0',
    timestamp: now.toISOString(),
    requestContext: { requestId: result?.requestId ?? '', functionArn, condition, approximateInvokeCount: attempts },
    responseContext: responseContext(result),
    DDBStreamBatchInfo: {
      shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: iso(first.createdAt),
      approximateArrivalOfLastRecord: iso(last.createdAt),
      batchSize: records.length,
      streamArn,
    },
  };
}

/** Scheduler's dead-letter event: the body is the target's input, the rest is in message attributes. */
export interface ScheduleDeadLetter {
  body: string;
  attributes: Record<string, string>;
}

export function scheduleDeadLetter(options: {
  event: Buffer;
  error: unknown;
  condition: 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds';
  retries: number;
  scheduleArn: string;
  targetArn: string;
}): ScheduleDeadLetter {
  const { event, error, condition, retries, scheduleArn, targetArn } = options;
  return {
    body: event.toString('utf8'),
    attributes: {
      ERROR_CODE: capText((error as Error)?.name ?? 'Error', 200),
      ERROR_MESSAGE: capText(String((error as Error)?.message ?? error)),
      EXHAUSTED_RETRY_CONDITION: condition,
      RETRY_ATTEMPTS: String(retries),
      SCHEDULE_ARN: scheduleArn,
      TARGET_ARN: targetArn,
    },
  };
}

export type FailureRecord = AsyncFailureRecord | StreamFailureRecord | ScheduleDeadLetter;

export const isDeadLetter = (record: FailureRecord): record is ScheduleDeadLetter => 'body' in record && 'attributes' in record;

export type SendRecord = (queue: string, record: FailureRecord) => Promise<void>;
