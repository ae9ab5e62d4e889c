import type { SqsMappingPlan } from '../template/plan';
import { failedItems } from './poller';
import { SqsPoller } from './sqs-poller';
import { fakeClient, silent, testRuntime, until, type Answer, type TestRuntimeOptions } from './test-support';

const mapping: SqsMappingPlan = {
  kind: 'sqs',
  uuid: 'u-1',
  logicalId: 'NotifyMapping',
  function: 'notify',
  queueArn: 'arn:aws:sqs:us-east-1:000000000000:notify-events',
  batchSize: 10,
  maximumBatchingWindowInSeconds: 0,
  reportBatchItemFailures: true,
  enabled: true,
};

/** An SQS queue in memory: what was received, what was deleted. */
function queue(bodies: string[], visibilityTimeout = '30') {
  const waiting = bodies.map((body, i) => ({
    MessageId: `m${i + 1}`,
    ReceiptHandle: `rh${i + 1}`,
    Body: body,
    MD5OfBody: 'md5',
    Attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1700000000000', SenderId: 'AIDA', ApproximateFirstReceiveTimestamp: '1700000000001' },
    MessageAttributes: { kind: { DataType: 'String', StringValue: 'upload' } },
  }));
  const deleted: string[] = [];
  const fake = fakeClient({
    GetQueueUrlCommand: () => ({ QueueUrl: 'http://sqs/notify-events' }),
    GetQueueAttributesCommand: () => ({ Attributes: { QueueArn: 'arn:aws:sqs:us-east-1:000000000000:notify-events', VisibilityTimeout: visibilityTimeout } }),
    ReceiveMessageCommand: (input: { MaxNumberOfMessages: number }) => ({ Messages: waiting.splice(0, input.MaxNumberOfMessages) }),
    DeleteMessageBatchCommand: (input: { Entries: Array<{ ReceiptHandle: string }> }) => {
      deleted.push(...input.Entries.map((e) => e.ReceiptHandle));
      return { Successful: input.Entries, Failed: [] };
    },
  });
  return { ...fake, waiting, deleted };
}

function setup(bodies: string[], answer: (event: any) => Answer | Promise<Answer>, options: TestRuntimeOptions & { visibilityTimeout?: string } = {}, overrides: Partial<SqsMappingPlan> = {}) {
  const { runtime, events, started } = testRuntime(answer, { name: 'notify', ...options });
  const q = queue(bodies, options.visibilityTimeout);
  const poller = new SqsPoller({ sqs: q.client, mapping: { ...mapping, ...overrides }, runtime, region: 'us-east-1', logger: silent });
  return { runtime, q, seen: { events }, poller, started };
}

describe('SQS event source mapping', () => {
  it('invokes with the SQS event Lambda sends and deletes the batch once it succeeded', async () => {
    const { q, seen, poller } = setup(['{"Records":[]}', 'second'], () => ({ ok: { batchItemFailures: [] } }));

    expect(await poller.poll()).toBe('work');
    await poller.drain();

    expect(seen.events).toHaveLength(1);
    expect(seen.events[0].Records[0]).toEqual({
      messageId: 'm1',
      receiptHandle: 'rh1',
      body: '{"Records":[]}',
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1700000000000', SenderId: 'AIDA', ApproximateFirstReceiveTimestamp: '1700000000001' },
      messageAttributes: { kind: { stringValue: 'upload', stringListValues: [], binaryListValues: [], dataType: 'String' } },
      md5OfBody: 'md5',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:notify-events',
      awsRegion: 'us-east-1',
    });
    expect(q.deleted).toEqual(['rh1', 'rh2']);
  });

  it('deletes only the messages not reported in batchItemFailures; the others wait for their visibility timeout', async () => {
    const { q, poller } = setup(['a', 'poison', 'c'], () => ({ ok: { batchItemFailures: [{ itemIdentifier: 'm2' }] } }));
    await poller.poll();
    await poller.drain();
    expect(q.deleted).toEqual(['rh1', 'rh3']);
    expect(q.calls.some((c) => c.command === 'ChangeMessageVisibilityCommand')).toBe(false);
  });

  it('deletes nothing after a function error, or an answer naming an unknown message', async () => {
    const failing = setup(['a', 'b'], () => ({ error: { errorType: 'Error', errorMessage: 'boom' } }));
    await failing.poller.poll();
    await failing.poller.drain();
    expect(failing.q.deleted).toEqual([]);

    const confused = setup(['a', 'b'], () => ({ ok: { batchItemFailures: [{ itemIdentifier: 'nope' }] } }));
    await confused.poller.poll();
    await confused.poller.drain();
    expect(confused.q.deleted).toEqual([]);
  });

  it('throttled, receives one batch at a time, which waits for room and is let go a second before its visibility timeout', async () => {
    const { q, seen, poller, runtime } = setup(['a', 'b'], () => ({ ok: null }), { reserved: 0, visibilityTimeout: '2' }, { batchSize: 1 });
    const started = Date.now();
    expect(await poller.poll()).toBe('work');
    // The batch waits for room: no second one is received meanwhile.
    expect(await poller.poll()).toBe('busy');
    await poller.drain();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(seen.events).toEqual([]);
    expect(q.deleted).toEqual([]);
    expect(q.waiting.map((m) => m.Body)).toEqual(['b']);
    expect(runtime.throttles).toBe(1);
  });

  it('scales the batches in flight with the backlog up to the reserved concurrency; the one received over it waits for room', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { q, seen, poller, started } = setup(['a', 'b', 'c', 'd', 'e'], async () => (await gate, { ok: null }), { reserved: 2 }, { batchSize: 2 });

    expect(await poller.poll()).toBe('work');
    expect(await poller.poll()).toBe('work');
    await until(() => seen.events.length === 2, 'two batches running');
    expect(await poller.poll()).toBe('work'); // received while throttled: it waits
    expect(await poller.poll()).toBe('busy');
    expect(seen.events.map((e) => e.Records.length)).toEqual([2, 2]);
    release();
    await poller.drain();
    await until(() => q.deleted.length === 5, 'every batch deleted');
    expect(started()).toBe(2);
  });

  it('MaximumConcurrency caps the batches of the mapping in flight', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { poller } = setup(['a', 'b', 'c'], async () => (await gate, { ok: null }), {}, { batchSize: 1, maximumConcurrency: 2 });
    expect(await poller.poll()).toBe('work');
    expect(await poller.poll()).toBe('work');
    expect(await poller.poll()).toBe('busy');
    release();
    await poller.drain();
  });

  it('receives and invokes while another source of the function long-polls an empty queue (one container)', async () => {
    const { runtime, seen, poller } = setup(['upload'], () => ({ ok: null }));
    // The function's Event-invocation queue: its long poll answers only when released.
    let answerLongPoll!: () => void;
    const longPoll = new Promise<{ Messages: [] }>((resolve) => (answerLongPoll = () => resolve({ Messages: [] })));
    const empty = fakeClient({
      GetQueueUrlCommand: () => ({ QueueUrl: 'http://sqs/async' }),
      GetQueueAttributesCommand: () => ({ Attributes: { QueueArn: 'arn:aws:sqs:us-east-1:000000000000:async', VisibilityTimeout: '30' } }),
      ReceiveMessageCommand: () => longPoll,
    });
    const other = new SqsPoller({ sqs: empty.client, mapping: { ...mapping, queueArn: 'arn:aws:sqs:us-east-1:000000000000:async' }, runtime, region: 'us-east-1', logger: silent });
    const otherPoll = other.poll();
    await until(() => empty.calls.some((c) => c.command === 'ReceiveMessageCommand'), 'the other source long-polling');

    expect(await poller.poll()).toBe('work');
    await poller.drain();
    expect(seen.events.map((e) => e.Records[0].body)).toEqual(['upload']);
    answerLongPoll();
    expect(await otherPoll).toBe('idle');
  });
});

describe('failedItems', () => {
  const ok = (body: unknown) => ({ ok: true as const, payload: Buffer.from(JSON.stringify(body)), durationMs: 1, requestId: 'r' });
  it.each([
    ['no failures', ok({ batchItemFailures: [] }), []],
    ['null response', ok(null), []],
    ['one failure', ok({ batchItemFailures: [{ itemIdentifier: 'b' }] }), ['b']],
    ['unknown identifier', ok({ batchItemFailures: [{ itemIdentifier: 'x' }] }), 'all'],
    ['empty identifier', ok({ batchItemFailures: [{ itemIdentifier: '' }] }), 'all'],
    ['not a list', ok({ batchItemFailures: 'b' }), 'all'],
  ])('%s', (_name, result, expected) => {
    const failed = failedItems(result, ['a', 'b'], true);
    expect(failed === 'all' ? 'all' : [...failed]).toEqual(expected);
  });

  it('ignores the answer when the mapping does not report batch item failures', () => {
    expect([...(failedItems(ok({ batchItemFailures: [{ itemIdentifier: 'b' }] }), ['a', 'b'], false) as Set<string>)]).toEqual([]);
  });
});
