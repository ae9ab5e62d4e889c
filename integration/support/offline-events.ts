// For each function, an event it completes without reaching AWS, and the response it must post:
// lets a test or a benchmark run an image with nothing but a Runtime API.
export const s3Record = (bucket: string, key: string) => ({
  eventVersion: '2.1',
  eventSource: 'aws:s3',
  awsRegion: 'us-east-1',
  eventTime: '2026-11-20T10:00:00.000Z',
  eventName: 'ObjectCreated:Put',
  s3: { s3SchemaVersion: '1.0', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key, size: 10, eTag: 'e', sequencer: '01' } },
});

export const offlineCases: Record<string, { event: unknown; response: unknown }> = {
  // The recursion guard answers without touching S3.
  thumbnail: {
    event: { Records: [s3Record('thumbnails', 'images/a.jpg/128.webp')] },
    response: { results: [{ key: 'images/a.jpg/128.webp', status: 'IGNORED', reason: 'object is in the output bucket thumbnails' }] },
  },
  notify: { event: { Records: [] }, response: { published: 0, messageIds: [] } },
  'csv-import': {
    event: { Records: [s3Record('uploads', 'imports/notes.txt')] },
    response: { results: [{ key: 'imports/notes.txt', status: 'IGNORED', reason: 'not a .csv key' }] },
  },
  audit: {
    event: { Records: [{ eventName: 'INSERT', dynamodb: { SequenceNumber: '1', NewImage: { status: { S: 'PROCESSED' } } } }] },
    response: { batchItemFailures: [] },
  },
};
