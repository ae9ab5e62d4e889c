import { functions } from '#stack';
import { bucketNotifications, s3SendPolicy } from './bootstrap-plan';

describe('bootstrap plan', () => {
  it('routes every S3 trigger of the uploads bucket to its function queue with its filter', () => {
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

  it('wires nothing on the thumbnails bucket, so outputs never trigger a function', () => {
    expect(bucketNotifications('thumbnails', functions)).toEqual([]);
  });

  it('lets only the stack buckets send to a queue', () => {
    const policy = JSON.parse(s3SendPolicy('notify-events', ['uploads']));
    expect(policy.Statement[0]).toMatchObject({
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: 'arn:aws:sqs:us-east-1:000000000000:notify-events',
      Condition: { ArnLike: { 'aws:SourceArn': ['arn:aws:s3:::uploads'] } },
    });
  });
});
