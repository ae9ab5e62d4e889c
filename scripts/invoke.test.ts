import { eventFile, objectsNamed } from './invoke';

describe('make invoke', () => {
  it('sends the first sample event of the function unless EVENT names a file', () => {
    expect(eventFile('notify', undefined)).toBe('functions/notify/events/s3-put-batch.json');
    expect(eventFile('notify', 'functions/notify/events/s3-put-image.json')).toBe('functions/notify/events/s3-put-image.json');
    expect(() => eventFile('notify', 'nope.json')).toThrow('EVENT=nope.json does not exist');
  });

  it('finds the objects an event names, in S3 events and in SQS messages carrying them', () => {
    const s3 = { Records: [{ eventSource: 'aws:s3', s3: { bucket: { name: 'uploads' }, object: { key: 'images/red+flower.jpg' } } }] };
    expect(objectsNamed(s3)).toEqual([{ bucket: 'uploads', key: 'images/red flower.jpg' }]);
    expect(objectsNamed({ Records: [{ eventSource: 'aws:sqs', body: JSON.stringify(s3) }] })).toEqual([{ bucket: 'uploads', key: 'images/red flower.jpg' }]);
    expect(objectsNamed({ Records: [{ eventName: 'INSERT' }] })).toEqual([]);
  });
});
