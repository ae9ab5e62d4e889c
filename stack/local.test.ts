import { baseStack } from './stack';
import { localEnvironment, localPlan } from './local';
import { topology } from './topology';

const plan = localPlan(topology(baseStack));

describe('the local plan bootstrap applies', () => {
  it('resolves environment references to LocalStack names and ARNs', () => {
    expect(localEnvironment(baseStack.functions[1]!)).toEqual({ TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:upload-notifications' });
    expect(localEnvironment(baseStack.functions[2]!)).toMatchObject({ PROCESSING_LOG_TABLE: 'processing-log', IMPORT_TABLE__PEOPLE: 'imported-rows', IMPORT_TABLE__DEBIAN_RELEASES: 'debian-releases', REPORT_BUCKET: 'uploads' });
  });

  it('points the uploads bucket at its fan-out topic, one rule per prefix, and the other buckets at nothing', () => {
    expect(plan.notifications).toEqual([
      {
        bucket: 'uploads',
        topicConfigurations: [
          { Id: 'uploads-object-created-0', TopicArn: 'arn:aws:sns:us-east-1:000000000000:uploads-object-created', Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'images/' }] } } },
          { Id: 'uploads-object-created-1', TopicArn: 'arn:aws:sns:us-east-1:000000000000:uploads-object-created', Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'imports/' }] } } },
        ],
      },
      { bucket: 'thumbnails', topicConfigurations: [] },
      { bucket: 'reports', topicConfigurations: [] },
    ]);
    expect(JSON.parse(plan.topics.find((t) => t.name === 'uploads-object-created')!.policy!).Statement[0]).toMatchObject({
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'sns:Publish',
      Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::uploads' } },
    });
  });

  it('subscribes with raw delivery and a message-body filter policy', () => {
    expect(plan.subscriptions.find((s) => s.queue === 'csv-import-events')).toEqual({
      topic: 'uploads-object-created',
      queue: 'csv-import-events',
      attributes: { RawMessageDelivery: 'true', FilterPolicyScope: 'MessageBody', FilterPolicy: '{"Records":{"s3":{"object":{"key":[{"prefix":"imports/"}]}}}}' },
    });
  });

  it('creates the DLQs before the queues that redrive into them, and lets only the subscribed topic send', () => {
    const names = plan.queues.map((q) => q.name);
    expect(names.indexOf('notify-dlq')).toBeLessThan(names.indexOf('notify-events'));
    const attributes = plan.queues.find((q) => q.name === 'notify-events')!.attributes('arn:aws:sqs:us-east-1:000000000000:notify-events');
    expect(JSON.parse(attributes.RedrivePolicy!)).toEqual({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:notify-dlq', maxReceiveCount: 3 });
    expect(attributes.VisibilityTimeout).toBe('90');
    expect(JSON.parse(attributes.Policy!).Statement[0].Condition).toEqual({ ArnEquals: { 'aws:SourceArn': ['arn:aws:sns:us-east-1:000000000000:uploads-object-created'] } });
  });

  it('creates each table with its keys, stream and indexes', () => {
    expect(plan.tables.find((t) => t.TableName === 'processing-log')).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      BillingMode: 'PAY_PER_REQUEST',
    });
  });
});
