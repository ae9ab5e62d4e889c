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
  notify: { event: { Records: [] }, response: { results: [] } },
  'csv-import': {
    // The recursion guard: a rejected-rows report is never imported.
    event: { Records: [s3Record('uploads', 'reports/imports/a.csv.errors.csv')] },
    response: { results: [{ key: 'reports/imports/a.csv.errors.csv', status: 'IGNORED', reason: 'a rejected-rows report (recursion guard)' }] },
  },
  audit: {
    event: { Records: [{ eventName: 'INSERT', dynamodb: { SequenceNumber: '1', NewImage: { status: { S: 'PROCESSED' } } } }] },
    response: { batchItemFailures: [] },
  },
};
