import { functions, type FunctionSpec } from '#stack';
import {
  bucketNotifications,
  queueAttributeChanges,
  redrivePolicy,
  s3SendPolicy,
  sameNotifications,
  snsSendPolicy,
  stackDescription,
} from './bootstrap-plan';

describe('bootstrap plan', () => {
  describe('bucket notifications', () => {
    it('route every S3 trigger of the uploads bucket to its function queue with its filter', () => {
      expect(bucketNotifications('uploads', functions)).toEqual([
        {
          Id: 'thumbnail-0',
          QueueArn: 'arn:aws:sqs:us-east-1:000000000000:thumbnail-events',
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'images/' }] } },
        },
        {
          Id: 'notify-0',
          QueueArn: 'arn:aws:sqs:us-east-1:000000000000:notify-events',
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'images/' }] } },
        },
        {
          Id: 'notify-1',
          QueueArn: 'arn:aws:sqs:us-east-1:000000000000:notify-events',
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'imports/' }] } },
        },
        {
          Id: 'csv-import-0',
          QueueArn: 'arn:aws:sqs:us-east-1:000000000000:csv-import-events',
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'imports/' }, { Name: 'suffix', Value: '.csv' }] } },
        },
      ]);
    });

    it('wire nothing on the thumbnails bucket, so outputs never trigger a function', () => {
      expect(bucketNotifications('thumbnails', functions)).toEqual([]);
    });

    it('use the queue ARNs the endpoint reported when given them', () => {
      const fn: FunctionSpec = { ...functions[0]!, name: 'resize', triggers: [{ type: 's3', bucket: 'in' }] };

      const configs = bucketNotifications('in', [fn], (name) => `arn:aws:sqs:eu-west-1:123456789012:${name}`);

      expect(configs).toEqual([{ Id: 'resize-0', QueueArn: 'arn:aws:sqs:eu-west-1:123456789012:resize-events', Events: ['s3:ObjectCreated:*'] }]);
    });

    it('count as unchanged when S3 echoes them back capitalised and reordered', () => {
      const wanted = bucketNotifications('uploads', functions);
      const echoed = [...wanted].reverse().map((c) => ({
        ...c,
        Filter: c.Filter && { Key: { FilterRules: c.Filter.Key!.FilterRules!.map((r) => ({ Name: r.Name === 'prefix' ? 'Prefix' : 'Suffix', Value: r.Value })) } },
      }));

      expect(sameNotifications(echoed as typeof wanted, wanted)).toBe(true);
    });

    it('count as changed when a rule or a queue differs, or one is missing', () => {
      const wanted = bucketNotifications('uploads', functions);
      const otherSuffix = wanted.map((c) => (c.Id === 'csv-import-0' ? { ...c, Filter: { Key: { FilterRules: [{ Name: 'suffix' as const, Value: '.tsv' }] } } } : c));

      expect(sameNotifications(otherSuffix, wanted)).toBe(false);
      expect(sameNotifications(wanted.slice(1), wanted)).toBe(false);
      expect(sameNotifications([], [])).toBe(true);
    });
  });

  describe('queue policies', () => {
    it('let only the given buckets send S3 notifications to a queue', () => {
      const policy = JSON.parse(s3SendPolicy('arn:aws:sqs:us-east-1:000000000000:notify-events', ['uploads']));

      expect(policy.Statement).toEqual([
        {
          Sid: 'AllowS3Notifications',
          Effect: 'Allow',
          Principal: { Service: 's3.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: 'arn:aws:sqs:us-east-1:000000000000:notify-events',
          Condition: { ArnLike: { 'aws:SourceArn': ['arn:aws:s3:::uploads'] } },
        },
      ]);
    });

    it('let only the subscribed topic deliver to an inbox queue', () => {
      const policy = JSON.parse(snsSendPolicy('arn:aws:sqs:us-east-1:000000000000:t-inbox', 'arn:aws:sns:us-east-1:000000000000:t'));

      expect(policy.Statement[0]).toMatchObject({
        Principal: { Service: 'sns.amazonaws.com' },
        Resource: 'arn:aws:sqs:us-east-1:000000000000:t-inbox',
        Condition: { ArnEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:000000000000:t' } },
      });
    });

    it('send a message to the DLQ after three receives', () => {
      expect(JSON.parse(redrivePolicy('arn:aws:sqs:us-east-1:000000000000:notify-dlq'))).toEqual({
        deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:notify-dlq',
        maxReceiveCount: 3,
      });
    });
  });

  describe('queue attribute changes', () => {
    it('are empty when SQS echoes the same policies with numbers as strings and keys reordered', () => {
      const dlq = 'arn:aws:sqs:us-east-1:000000000000:x-dlq';
      const current = { RedrivePolicy: `{"maxReceiveCount":"3","deadLetterTargetArn":"${dlq}"}`, VisibilityTimeout: '60', QueueArn: 'arn' };

      expect(queueAttributeChanges(current, { RedrivePolicy: redrivePolicy(dlq), VisibilityTimeout: '60' })).toEqual({});
    });

    it('hold only the attributes that are missing or differ', () => {
      const current = { VisibilityTimeout: '30', MessageRetentionPeriod: '1209600' };

      const changes = queueAttributeChanges(current, { VisibilityTimeout: '60', MessageRetentionPeriod: '1209600', Policy: '{}' });

      expect(changes).toEqual({ VisibilityTimeout: '60', Policy: '{}' });
    });
  });

  it('describes the whole stack: two buckets, two tables, two topics, four functions', () => {
    expect({
      buckets: stackDescription.buckets.map((b) => b.name),
      tables: stackDescription.tables.map((t) => t.name),
      topics: stackDescription.topics.map((t) => t.name),
      functions: stackDescription.functions.map((f) => f.name),
    }).toEqual({
      buckets: ['uploads', 'thumbnails'],
      tables: ['processing-log', 'imported-rows'],
      topics: ['upload-notifications', 'processing-alerts'],
      functions: ['thumbnail', 'notify', 'csv-import', 'audit'],
    });
  });
});
