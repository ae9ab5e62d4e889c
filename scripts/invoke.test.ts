import { eventFile, eventFor, objectsNamed } from './invoke';

describe('make invoke', () => {
  it('sends the first sample event of the function unless EVENT names a file', () => {
    expect(eventFile('notify', undefined)).toBe('functions/notify/events/s3-put-batch.json');
    expect(eventFile('notify', 'functions/notify/events/s3-put-image.json')).toBe('functions/notify/events/s3-put-image.json');
    expect(() => eventFile('notify', 'nope.json')).toThrow('EVENT=nope.json does not exist');
  });

  it('sends a function on a schedule the event its schedule would send now, unless EVENT names a file', () => {
    const now = new Date('2026-11-24T12:34:56.789Z');
    const arn = 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/daily';
    const schedules = [{ name: 'daily', arn, function: 'Stack-Report-X', expression: 'cron(0 6 * * ? *)', timezone: 'UTC', input: '{"detail-type":"Scheduled Event","time":"<aws.scheduler.scheduled-time>","resources":["<aws.scheduler.schedule-arn>"]}' }];
    const { label, payload } = eventFor('report', 'Stack-Report-X', schedules, undefined, now);
    expect(label).toBe('the event of schedule daily for now (2026-11-24T12:34:56Z)');
    expect(JSON.parse(payload.toString())).toEqual({ 'detail-type': 'Scheduled Event', time: '2026-11-24T12:34:56Z', resources: [arn] });
    expect(eventFor('report', 'Stack-Report-X', schedules, 'functions/report/events/scheduled-event.json').label).toBe('functions/report/events/scheduled-event.json');
  });

  it('finds the objects an event names, in S3 events and in SQS messages carrying them', () => {
    const s3 = { Records: [{ eventSource: 'aws:s3', s3: { bucket: { name: 'uploads' }, object: { key: 'images/red+flower.jpg' } } }] };
    expect(objectsNamed(s3)).toEqual([{ bucket: 'uploads', key: 'images/red flower.jpg' }]);
    expect(objectsNamed({ Records: [{ eventSource: 'aws:sqs', body: JSON.stringify(s3) }] })).toEqual([{ bucket: 'uploads', key: 'images/red flower.jpg' }]);
    expect(objectsNamed({ Records: [{ eventName: 'INSERT' }] })).toEqual([]);
  });
});
