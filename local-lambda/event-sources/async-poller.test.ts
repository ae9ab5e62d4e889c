import type { AsyncInvokePlan } from '../template/plan';
import { AsyncPoller, type QueuedEvent } from './async-poller';
import type { AsyncFailureRecord, FailureRecord } from './failure-records';
import { EsmWorker } from './poller';
import { fakeClient, silent, testRuntime, until, type Answer, type TestRuntimeOptions } from './test-support';

const spec: AsyncInvokePlan = { function: 'thumbnail', maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21_600, onFailure: 'arn:aws:sqs:us-east-1:000000000000:thumbnail-dlq' };

/** The internal queue in memory; a delayed message simply waits its turn. */
function internalQueue(events: QueuedEvent[]) {
  const waiting = events.map((e, i) => ({ MessageId: `m${i}`, ReceiptHandle: `rh${i}`, Body: JSON.stringify(e) }));
  const sentDelays: number[] = [];
  const deleted: string[] = [];
  let n = 100;
  const fake = fakeClient({
    ReceiveMessageCommand: () => ({ Messages: waiting.splice(0, 1) }),
    SendMessageCommand: (input: { MessageBody: string; DelaySeconds: number }) => {
      sentDelays.push(input.DelaySeconds);
      waiting.push({ MessageId: `m${n}`, ReceiptHandle: `rh${n++}`, Body: input.MessageBody });
      return {};
    },
    DeleteMessageCommand: (input: { ReceiptHandle: string }) => void deleted.push(input.ReceiptHandle),
    ChangeMessageVisibilityCommand: () => ({}),
  });
  return { ...fake, waiting, sentDelays, deleted };
}

function setup(events: QueuedEvent[], answer: (event: any) => Answer | Promise<Answer>, now = () => 1_000_000, options: TestRuntimeOptions = {}) {
  const { runtime, events: seenEvents } = testRuntime(answer, { name: 'thumbnail', ...options });
  const seen = { events: seenEvents };
  const q = internalQueue(events);
  const sent: Array<{ queue: string; record: FailureRecord }> = [];
  const metrics: Array<[string, number]> = [];
  const poller = new AsyncPoller({
    sqs: q.client,
    queue: async () => ({ url: 'http://sqs/async' }),
    config: spec,
    runtime,
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:thumbnail',
    sendRecord: async (queue, record) => void sent.push({ queue, record }),
    retryDelaySeconds: (attempt) => [60, 120][attempt - 1] ?? 120,
    logger: silent,
    now,
    metric: (name, value) => void metrics.push([name, value]),
  });
  return { poller, q, seen, sent, runtime, metrics };
}

const event = (payload: unknown, acceptedAt = 1_000_000): QueuedEvent => ({ requestId: 'req-1', payload: Buffer.from(JSON.stringify(payload)).toString('base64'), attempts: 0, acceptedAt });

async function pollUntilIdle(poller: AsyncPoller) {
  for (let i = 0; i < 20; i++) {
    const outcome = await poller.poll();
    await poller.drain();
    if (outcome === 'idle') return;
  }
}

describe('Event invocations', () => {
  it('are invoked once and removed from the queue when they succeed', async () => {
    const { poller, q, seen, sent, metrics } = setup([event({ hello: 1 }, 990_000)], () => ({ ok: 'done' }));
    await pollUntilIdle(poller);
    expect(seen.events).toEqual([{ hello: 1 }]);
    expect(q.deleted).toEqual(['rh0']);
    expect(sent).toEqual([]);
    // AsyncEventAge: accepted 10 s before it was sent to the function.
    expect(metrics).toEqual([['AsyncEventAge', 10_000]]);
  });

  it('are retried MaximumRetryAttempts times with a growing delay, then sent to the on-failure destination in AWS\'s format', async () => {
    const { poller, q, seen, sent } = setup([event({ Records: [1] })], () => ({ error: { errorType: 'Error', errorMessage: 'boom' } }));
    await pollUntilIdle(poller);

    expect(seen.events).toHaveLength(3);
    expect(q.sentDelays).toEqual([60, 120]);
    expect(q.waiting).toEqual([]);
    expect(sent).toHaveLength(1);
    const record = sent[0]!.record as AsyncFailureRecord;
    expect(sent[0]!.queue).toBe('arn:aws:sqs:us-east-1:000000000000:thumbnail-dlq');
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: { requestId: 'req-1', condition: 'RetriesExhausted', approximateInvokeCount: 3, functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:thumbnail:$LATEST' },
      requestPayload: { Records: [1] },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'Error', errorMessage: 'boom' },
    });
  });

  it('that grew older than MaximumEventAgeInSeconds are not invoked, only recorded', async () => {
    const { poller, seen, sent } = setup([event({}, 0)], () => ({ ok: null }), () => 21_601_000);
    await pollUntilIdle(poller);
    expect(seen.events).toEqual([]);
    expect((sent[0]!.record as AsyncFailureRecord).requestContext.condition).toBe('EventAgeExceeded');
  });
});

describe('Event invocations throttled', () => {
  it('go back to the queue with a growing delay, not counted as attempts', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const answer = async (e: { blocker?: boolean }): Promise<Answer> => (e.blocker ? (await gate, { ok: 'b' }) : { ok: 'done' });
    const { poller, q, seen, runtime } = setup([event({ n: 1 })], answer, () => 1_000_000, { reserved: 1 });
    // The one execution the function has is taken by a synchronous call that waits for an environment.
    const blocker = runtime.invoke({ payload: Buffer.from('{"blocker":true}') });
    await until(() => seen.events.length === 1, 'the blocker running');
    expect(await poller.poll()).toBe('busy');
    // Room appears only after the poll saw none: the event is received, then throttled when invoked.
    const realHas = runtime.hasFreeConcurrency.bind(runtime);
    runtime.hasFreeConcurrency = () => true;
    expect(await poller.poll()).toBe('work');
    await poller.drain();
    runtime.hasFreeConcurrency = realHas;
    expect(q.sentDelays).toEqual([1]);
    expect(JSON.parse(q.waiting[0]!.Body)).toMatchObject({ attempts: 0, throttles: 1 });
    release();
    await blocker;
  });

  it('at reserved concurrency 0 go straight to the on-failure destination, never invoked (ZeroReservedConcurrency)', async () => {
    const { poller, seen, sent } = setup([event({ n: 1 })], () => ({ ok: 'done' }), () => 1_000_000, { reserved: 0 });
    await pollUntilIdle(poller);
    expect(seen.events).toEqual([]);
    expect((sent[0]!.record as AsyncFailureRecord).requestContext).toMatchObject({ condition: 'ZeroReservedConcurrency', approximateInvokeCount: 0 });
  });
});

describe('EsmWorker', () => {
  it('keeps polling through errors, backing off, and stops cleanly', async () => {
    let polls = 0;
    const delays: number[] = [];
    const worker = new EsmWorker(
      {
        name: 'flaky',
        poll: async () => {
          polls++;
          if (polls <= 3) throw new Error('LocalStack is restarting');
          return 'idle';
        },
        drain: async () => undefined,
      },
      { logger: silent, sleep: (ms) => (delays.push(ms), new Promise((resolve) => setImmediate(resolve))) },
    );
    worker.start();
    await until(() => polls >= 6, 'six polls');
    await worker.stop();
    expect(delays.length).toBeGreaterThanOrEqual(5);
  });
});

describe('failure records', () => {
  it('stay far below SQS\'s 256 KB whatever the payload and the error were', async () => {
    const { asyncFailureRecord, MAX_RECORD_BYTES } = await import('./failure-records');
    const big = Buffer.from(JSON.stringify({ data: 'x'.repeat(1_000_000) }));
    const record = asyncFailureRecord({
      payload: big,
      result: { ok: false, kind: 'Unhandled', error: { errorType: 'Error', errorMessage: 'y'.repeat(500_000), stackTrace: Array.from({ length: 1000 }, () => 'z'.repeat(1000)) }, durationMs: 1, requestId: 'r' },
      requestId: 'r',
      functionArn: 'arn',
      attempts: 3,
      condition: 'RetriesExhausted',
    });
    expect(Buffer.byteLength(JSON.stringify(record))).toBeLessThanOrEqual(MAX_RECORD_BYTES);
    expect(record.requestPayload).toMatchObject({ truncated: true, bytes: big.length });
    expect((record.responsePayload as { errorMessage: string }).errorMessage.length).toBeLessThanOrEqual(1024);
  });
});
