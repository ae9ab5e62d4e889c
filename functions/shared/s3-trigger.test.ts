import type { Context, SQSRecord } from 'aws-lambda';
import { s3Trigger } from './s3-trigger';
import type { S3ObjectRef } from './s3-event';

const context = { awsRequestId: 'req-1' } as Context;

const s3Event = (...keys: string[]) => ({
  Records: keys.map((key, i) => ({
    eventSource: 'aws:s3',
    eventName: 'ObjectCreated:Put',
    eventTime: '2026-11-20T10:00:00.000Z',
    s3: { bucket: { name: 'uploads' }, object: { key, size: 3, eTag: `e${i}`, sequencer: `s${i}` } },
  })),
});

/** An SQS message as the event source mapping hands it over: the body is the S3 event (SNS raw delivery). */
const message = (id: string, body: unknown): SQSRecord => ({
  messageId: id,
  receiptHandle: `rh-${id}`,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1', SenderId: 'x', ApproximateFirstReceiveTimestamp: '1' },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:thumbnail-events',
  awsRegion: 'us-east-1',
});

describe('s3Trigger: the entry adapter of S3-triggered functions', () => {
  it('processes every object of every message and reports no failure when all succeed', async () => {
    const seen: string[] = [];
    const handler = s3Trigger(async (ref: S3ObjectRef) => (seen.push(ref.key), {}));

    const out = await handler({ Records: [message('m1', s3Event('images/a+b.jpg')), message('m2', s3Event('images/c.jpg', 'images/d.jpg'))] }, context);

    expect(out).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual(['images/a b.jpg', 'images/c.jpg', 'images/d.jpg']);
  });

  it('fails a poison message alone: its id comes back in batchItemFailures, its batch-mates succeed once', async () => {
    const seen: string[] = [];
    const handler = s3Trigger(async (ref: S3ObjectRef) => {
      if (ref.key.includes('poison')) throw new Error('cannot read it');
      seen.push(ref.key);
      return {};
    });

    const out = await handler(
      { Records: [message('m1', s3Event('images/1.jpg')), message('m2', s3Event('images/poison.jpg')), message('m3', 'not json'), message('m4', s3Event('images/4.jpg'))] },
      context,
    );

    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }, { itemIdentifier: 'm3' }] });
    expect(seen).toEqual(['images/1.jpg', 'images/4.jpg']);
  });

  it("takes S3's test event in a message as done", async () => {
    const handler = s3Trigger(async () => ({}));
    expect(await handler({ Records: [message('t', { Service: 'Amazon S3', Event: 's3:TestEvent' })] }, context)).toEqual({ batchItemFailures: [] });
  });

  it('answers a bare S3 event (aws lambda invoke) with the result per object', async () => {
    const handler = s3Trigger(async (ref: S3ObjectRef) => ({ status: `done ${ref.size}` }));
    expect(await handler(s3Event('imports/x.csv'), context)).toEqual({ results: [{ key: 'imports/x.csv', status: 'done 3' }] });
  });

  it.each([
    [{ Records: [{ nonsense: 1 }] }, 'record 0 is not an S3 record (eventSource null, expected "aws:s3")'],
    [{ Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: {} } }] }, 'record 0 (ObjectCreated:Put) has no s3.bucket.name and no s3.object.key'],
    [{ hello: 'world' }, 'not an S3 event: expected {"Records":[...]}, got {"hello":"world"}'],
    [null, 'not an S3 event'],
  ])('refuses %j with an error naming what is missing', async (event, message) => {
    const handler = s3Trigger(async () => ({}));
    await expect(handler(event, context)).rejects.toThrow(message);
  });
});
