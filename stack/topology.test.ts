import { baseStack } from './stack';
import { coveringPrefixes, topology } from './topology';

const t = topology(baseStack);

describe('the topology both targets build', () => {
  it('fans each bucket with S3 triggers out through one topic, with S3 rules that never overlap', () => {
    expect(t.fanOuts).toEqual([{ bucket: 'uploads', topic: 'uploads-object-created', prefixes: ['images/', 'imports/'] }]);
    expect(coveringPrefixes(['images/', 'imports/', 'images/raw/', 'a', 'ab'])).toEqual(['a', 'images/', 'imports/']);
  });

  it('gives every S3-triggered function its own queue, subscribed raw with a filter on the key', () => {
    expect(t.subscriptions.filter((s) => s.topic === 'uploads-object-created')).toEqual([
      { topic: 'uploads-object-created', queue: 'thumbnail-events', rawMessageDelivery: true, filterPolicy: { Records: { s3: { object: { key: [{ prefix: 'images/' }] } } } } },
      { topic: 'uploads-object-created', queue: 'notify-events', rawMessageDelivery: true, filterPolicy: { Records: { s3: { object: { key: [{ prefix: 'images/' }, { prefix: 'imports/' }] } } } } },
      { topic: 'uploads-object-created', queue: 'csv-import-events', rawMessageDelivery: true, filterPolicy: { Records: { s3: { object: { key: [{ prefix: 'imports/' }] } } } } },
    ]);
  });

  it('sizes each event queue at six times its function timeout and redrives it to the function DLQ', () => {
    const queue = (name: string) => t.queues.find((q) => q.name === name);
    expect(queue('thumbnail-events')).toEqual({ name: 'thumbnail-events', visibilityTimeoutSeconds: 360, retentionSeconds: 345_600, redrive: { deadLetterQueue: 'thumbnail-dlq', maxReceiveCount: 3 } });
    expect(queue('csv-import-events')?.visibilityTimeoutSeconds).toBe(1800);
    expect(queue('audit-dlq')).toEqual({ name: 'audit-dlq', visibilityTimeoutSeconds: 30, retentionSeconds: 1_209_600 });
  });

  it('maps each trigger to an event source mapping with the settings named as AWS names them', () => {
    expect(t.mappings).toEqual([
      { kind: 'sqs', function: 'thumbnail', queue: 'thumbnail-events', batchSize: 5, maximumBatchingWindowInSeconds: 0, reportBatchItemFailures: true },
      { kind: 'sqs', function: 'notify', queue: 'notify-events', batchSize: 10, maximumBatchingWindowInSeconds: 0, reportBatchItemFailures: true },
      { kind: 'sqs', function: 'csv-import', queue: 'csv-import-events', batchSize: 1, maximumBatchingWindowInSeconds: 0, reportBatchItemFailures: true },
      {
        kind: 'dynamodb-stream',
        function: 'audit',
        table: 'processing-log',
        startingPosition: 'TRIM_HORIZON',
        batchSize: 10,
        maximumBatchingWindowInSeconds: 0,
        maximumRetryAttempts: 5,
        maximumRecordAgeInSeconds: -1,
        bisectBatchOnFunctionError: true,
        reportBatchItemFailures: true,
        onFailure: 'audit-dlq',
      },
    ]);
  });

  it('sends failed Event invocations of every function to its DLQ after two retries', () => {
    expect(t.asyncInvokes.map((a) => [a.function, a.maximumRetryAttempts, a.onFailure])).toEqual([
      ['thumbnail', 2, 'thumbnail-dlq'],
      ['notify', 2, 'notify-dlq'],
      ['csv-import', 2, 'csv-import-dlq'],
      ['audit', 2, 'audit-dlq'],
      ['report', 2, 'report-dlq'],
      ['api', 2, 'api-dlq'],
    ]);
  });

  it('subscribes an inbox queue (raw delivery off) to every topic that asks for one', () => {
    expect(t.subscriptions.filter((s) => !s.rawMessageDelivery)).toEqual([
      { topic: 'upload-notifications', queue: 'upload-notifications-inbox', rawMessageDelivery: false },
      { topic: 'processing-alerts', queue: 'processing-alerts-inbox', rawMessageDelivery: false },
      { topic: 'daily-reports', queue: 'daily-reports-inbox', rawMessageDelivery: false },
    ]);
  });

  it('runs the report on its schedule, what cannot be handed over going to its DLQ', () => {
    expect(t.schedules).toEqual([
      { name: 'report-schedule', function: 'report', expression: 'cron(0 6 * * ? *)', timezone: 'UTC', maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600, onFailure: 'report-dlq' },
    ]);
  });
});
