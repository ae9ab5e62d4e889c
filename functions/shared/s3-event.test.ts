import { decodeS3Key, objectVersionId, parseS3Event } from './s3-event';

describe('S3 key decoding', () => {
  it.each([
    ['red+flower.jpg', 'red flower.jpg'],
    ['a%2Bb.jpg', 'a+b.jpg'],
    ['100%25+sure.png', '100% sure.png'],
    ['%C3%A9t%C3%A9/%E5%86%99%E7%9C%9F.jpg', 'été/写真.jpg'],
    ['images/plain.jpg', 'images/plain.jpg'],
  ])('decodes %s as %s', (encoded, decoded) => {
    expect(decodeS3Key(encoded)).toBe(decoded);
  });
});

describe('parseS3Event', () => {
  it('keeps ObjectCreated records only, with decoded keys', () => {
    const record = (eventName: string, key: string) => ({
      eventSource: 'aws:s3',
      eventName,
      eventTime: '2026-11-20T10:00:00.000Z',
      s3: { bucket: { name: 'uploads' }, object: { key, size: 3, sequencer: '01' } },
    });
    const refs = parseS3Event({ Records: [record('ObjectCreated:Put', 'a+b.jpg'), record('ObjectRemoved:Delete', 'c.jpg')] });
    expect(refs).toEqual([
      expect.objectContaining({ bucket: 'uploads', key: 'a b.jpg', size: 3, sequencer: '01', eventName: 'ObjectCreated:Put' }),
    ]);
  });

  it('returns nothing for the S3 test event, and refuses garbage', () => {
    expect(parseS3Event({ Service: 'Amazon S3', Event: 's3:TestEvent' })).toEqual([]);
    expect(() => parseS3Event(null)).toThrow('not an S3 event');
    expect(() => parseS3Event({ Records: 'nope' })).toThrow('not an S3 event');
  });

  it('identifies an object version by versionId, else by sequencer and eTag together', () => {
    expect(objectVersionId({ versionId: 'v1', sequencer: 's', eTag: 'e' })).toBe('v1');
    expect(objectVersionId({ versionId: undefined, sequencer: 's', eTag: 'e' })).toBe('s:e');
    expect(objectVersionId({ versionId: undefined, sequencer: undefined, eTag: 'e' })).toBe(':e');
  });

  it('tells a re-upload with new content from a redelivery even when the sequencer repeats (LocalStack)', () => {
    const first = { versionId: undefined, sequencer: '0055AED6DCD90281E5', eTag: 'aaa' };
    expect(objectVersionId({ ...first, eTag: 'bbb' })).not.toBe(objectVersionId(first));
    expect(objectVersionId({ ...first })).toBe(objectVersionId(first));
  });
});
