import type { DynamoDBRecord } from 'aws-lambda';
import { silentLogger } from '#shared/logger';
import { MemoryPublisher } from '#shared/publisher';
import { auditRecords, failedItem } from './audit';
import batch from './events/stream-batch.json';

const records = batch.Records as DynamoDBRecord[];

describe('audit core: auditRecords', () => {
  it('publishes one alert per FAILED item and none for PROCESSED ones', async () => {
    const publisher = new MemoryPublisher();

    const result = await auditRecords(records, publisher, silentLogger);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(publisher.published).toHaveLength(2);
    expect(publisher.published[0]).toEqual({
      subject: 'FAILED: thumbnail s3://uploads/images/notes.png',
      message: JSON.stringify({
        function: 'thumbnail',
        bucket: 'uploads',
        key: 'images/notes.png',
        objectVersion: '0055AED6DCD90281E6',
        reason: 'not a decodable image (Input buffer contains unsupported image format)',
        failedAt: '2026-11-20T10:15:32.000Z',
      }),
      attributes: { function: 'thumbnail', status: 'FAILED' },
    });
    expect(publisher.published[1]!.attributes).toEqual({ function: 'csv-import', status: 'FAILED' });
  });

  it('reports the record that could not be published and every later one, by sequence number', async () => {
    const publisher = new MemoryPublisher();
    let calls = 0;
    publisher.publish = async () => {
      calls++;
      throw Object.assign(new Error('Topic does not exist'), { name: 'NotFoundException' });
    };

    const result = await auditRecords(records, publisher, silentLogger);

    expect(calls).toBe(1);
    expect(result).toEqual({
      batchItemFailures: [{ itemIdentifier: '111100000000000000002' }, { itemIdentifier: '111100000000000000003' }],
    });
  });

  it('does not alert again when an item that was already FAILED is modified', () => {
    const failed = records[1]!;
    const modify: DynamoDBRecord = {
      ...failed,
      eventName: 'MODIFY',
      dynamodb: { ...failed.dynamodb, OldImage: failed.dynamodb!.NewImage },
    };
    expect(failedItem(modify)).toBeUndefined();
    expect(failedItem({ ...failed, eventName: 'MODIFY' })).toMatchObject({ status: 'FAILED' });
    expect(failedItem({ ...failed, eventName: 'REMOVE' })).toBeUndefined();
  });

  it('returns no failures for an empty batch', async () => {
    expect(await auditRecords([], new MemoryPublisher(), silentLogger)).toEqual({ batchItemFailures: [] });
  });
});
