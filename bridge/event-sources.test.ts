import type { InvocationResult } from './function-runtime';
import { destinationRecord, invokeAsync } from './async-invoke';
import { FunctionRuntime } from './function-runtime';
import { functionNameFrom } from './invoke-api';
import { parseS3Message, retryVisibilitySeconds } from './sqs-s3-source';
import { isStaleIterator, iteratorStart, retryIndex, toLambdaRecord } from './stream-source';

const ok = (payload: unknown): InvocationResult => ({ ok: true, payload: Buffer.from(JSON.stringify(payload)), durationMs: 1, requestId: 'r' });
const failed: InvocationResult = { ok: false, kind: 'Unhandled', error: { errorType: 'Error', errorMessage: 'x' }, durationMs: 1, requestId: 'r' };

describe('S3 notifications through SQS', () => {
  it('passes an S3 event body through unchanged, as S3 sends it to Lambda', () => {
    const body = JSON.stringify({ Records: [{ eventSource: 'aws:s3', s3: { object: { key: 'a+b.jpg' } } }] });
    const parsed = parseS3Message(body);
    expect(parsed).toEqual({ kind: 'event', payload: Buffer.from(body) });
  });

  it('recognises the S3 test event and garbage', () => {
    expect(parseS3Message(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' }))).toEqual({ kind: 'test-event' });
    expect(parseS3Message('not json')).toEqual({ kind: 'invalid', reason: 'body is not JSON' });
    expect(parseS3Message('{"hello":1}')).toEqual({ kind: 'invalid', reason: 'not an S3 event notification' });
  });

  it('backs off a failed message further on each delivery, capped at a minute', () => {
    expect([1, 2, 3, 10].map(retryVisibilitySeconds)).toEqual([2, 4, 8, 60]);
  });
});

describe('DynamoDB Streams batches', () => {
  const seqs = ['100', '200', '300'];

  it('moves on when the function succeeded without failures', () => {
    expect(retryIndex(seqs, ok({ batchItemFailures: [] }), true)).toBeUndefined();
    expect(retryIndex(seqs, ok(null), true)).toBeUndefined();
  });

  it('retries from the lowest failed sequence number', () => {
    expect(retryIndex(seqs, ok({ batchItemFailures: [{ itemIdentifier: '300' }, { itemIdentifier: '200' }] }), true)).toBe(1);
  });

  it('retries the whole batch on a function error or an unknown identifier', () => {
    expect(retryIndex(seqs, failed, true)).toBe(0);
    expect(retryIndex(seqs, ok({ batchItemFailures: [{ itemIdentifier: '999' }] }), true)).toBe(0);
  });

  it('ignores batchItemFailures when the mapping does not report them', () => {
    expect(retryIndex(seqs, ok({ batchItemFailures: [{ itemIdentifier: '200' }] }), false)).toBeUndefined();
  });

  it('renews a stale iterator after the checkpoint, or from TRIM_HORIZON', () => {
    expect(iteratorStart(undefined)).toEqual({ ShardIteratorType: 'TRIM_HORIZON' });
    expect(iteratorStart('000123')).toEqual({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: '000123' });
    // The checkpoint itself trimmed away (a second stale answer in a row): start at the oldest record.
    expect(iteratorStart('000123', true)).toEqual({ ShardIteratorType: 'TRIM_HORIZON' });
    expect(isStaleIterator(Object.assign(new Error('The operation attempted to read past the oldest stream record in a shard.'), { name: 'TrimmedDataAccessException' }))).toBe(true);
    expect(isStaleIterator(Object.assign(new Error('expired'), { name: 'ExpiredIteratorException' }))).toBe(true);
    expect(isStaleIterator(Object.assign(new Error('slow down'), { name: 'LimitExceededException' }))).toBe(false);
  });

  it('shapes a GetRecords record as Lambda delivers it', () => {
    const record = toLambdaRecord(
      { eventID: 'e1', eventName: 'INSERT', dynamodb: { ApproximateCreationDateTime: new Date('2026-11-20T10:00:00Z'), SequenceNumber: '100', Keys: { pk: { S: 'a' } } } },
      'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x',
    );
    expect(record).toEqual({
      eventID: 'e1',
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x',
      dynamodb: { ApproximateCreationDateTime: 1795168800, SequenceNumber: '100', Keys: { pk: { S: 'a' } } },
    });
  });
});

describe('asynchronous invocations', () => {
  /** A container whose handler always throws; it polls again after each invocation. */
  function failingContainer(runtime: FunctionRuntime): { attempts: () => number } {
    let attempts = 0;
    const poller: Parameters<FunctionRuntime['addPoller']>[0] = {
      worker: 'w',
      deliver: (inv) => {
        attempts++;
        queueMicrotask(() => {
          runtime.fail(inv.requestId, { errorType: 'Error', errorMessage: `attempt ${attempts}` });
          runtime.addPoller(poller);
        });
        return true;
      },
    };
    runtime.addPoller(poller);
    return { attempts: () => attempts };
  }

  it('retries twice with the configured delays, then sends a destination record with the original event', async () => {
    const runtime = new FunctionRuntime({ name: 'f', arn: 'arn:aws:lambda:us-east-1:000000000000:function:f', timeoutSeconds: 3 });
    const container = failingContainer(runtime);
    const delays: number[] = [];
    const sent: unknown[] = [];

    const result = await invokeAsync(runtime, Buffer.from('{"Records":[1]}'), {
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
      retryDelaysMs: [10, 20],
      sleep: async (ms) => void delays.push(ms),
      sendToDestination: async (record) => void sent.push(record),
    });

    expect(result.ok).toBe(false);
    expect(container.attempts()).toBe(3);
    expect(delays).toEqual([10, 20]);
    expect(sent).toEqual([
      expect.objectContaining({
        version: '1.0',
        requestContext: expect.objectContaining({ condition: 'RetriesExhausted', approximateInvokeCount: 3, functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST' }),
        requestPayload: { Records: [1] },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: { errorType: 'Error', errorMessage: 'attempt 3' },
      }),
    ]);
  });

  it('builds the destination record of AWS', () => {
    const record = destinationRecord(Buffer.from('not json'), failed as Extract<InvocationResult, { ok: false }>, 'arn:f', 3, new Date('2026-01-01T00:00:00Z'));
    expect(record.timestamp).toBe('2026-01-01T00:00:00.000Z');
    expect(record.requestPayload).toBe('not json');
  });
});

describe('Invoke API function names', () => {
  it.each([
    ['notify', 'notify'],
    ['notify:$LATEST', 'notify'],
    ['arn:aws:lambda:us-east-1:000000000000:function:notify', 'notify'],
    ['arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Anotify%3A1', 'notify'],
    ['000000000000:function:notify', 'notify'],
  ])('reads %s as %s', (raw, name) => {
    expect(functionNameFrom(raw)).toBe(name);
  });
});
