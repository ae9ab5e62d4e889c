import { gzipSync } from 'node:zlib';
import { errorLinesAlert, isLogsEvent, readLogsEvent } from './log-errors';

const encode = (payload: object) => ({ awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } });

describe('error lines of the logs (a subscription filter)', () => {
  it('reads what CloudWatch Logs sends and makes one alert of it', () => {
    const event = encode({ messageType: 'DATA_MESSAGE', owner: '000000000000', logGroup: 'ThumbnailLogs', logStream: '2026/11/29/[$LATEST]ab', subscriptionFilters: ['f'], logEvents: [{ id: '1', timestamp: 0, message: 'REPORT RequestId: r\tStatus: error' }] });
    expect(isLogsEvent(event)).toBe(true);
    expect(isLogsEvent({ Records: [] })).toBe(false);
    const alert = errorLinesAlert(readLogsEvent(event))!;
    expect(alert.subject).toBe('ERROR lines in ThumbnailLogs: 1');
    expect(JSON.parse(alert.message)).toEqual({ logGroup: 'ThumbnailLogs', logStream: '2026/11/29/[$LATEST]ab', lines: [{ time: '1970-01-01T00:00:00.000Z', message: 'REPORT RequestId: r\tStatus: error' }] });
    expect(alert.attributes).toEqual({ source: 'logs', logGroup: 'ThumbnailLogs' });
  });

  it('keeps an alert small: 20 lines of at most 2,000 characters, the rest counted', () => {
    const logEvents = Array.from({ length: 25 }, (_, i) => ({ id: String(i), timestamp: i, message: 'x'.repeat(5_000) }));
    const message = JSON.parse(errorLinesAlert(readLogsEvent(encode({ messageType: 'DATA_MESSAGE', logGroup: 'g', logStream: 's', logEvents })))!.message);
    expect(message.lines).toHaveLength(20);
    expect(message.lines[0].message).toHaveLength(2_001);
    expect(message.more).toBe(5);
  });

  it("says nothing for CloudWatch's CONTROL_MESSAGE, and names what is wrong with a broken event", () => {
    expect(errorLinesAlert(readLogsEvent(encode({ messageType: 'CONTROL_MESSAGE', logGroup: '', logStream: '', logEvents: [{ id: '1', timestamp: 0, message: 'CWL CONTROL MESSAGE: Checking health of destination' }] })))).toBeUndefined();
    expect(() => readLogsEvent({ awslogs: { data: 'not gzip' } })).toThrow('awslogs.data is not base64 of gzipped JSON');
    expect(() => readLogsEvent(encode({ hello: 1 }))).toThrow('awslogs.data has no logGroup or logEvents');
  });
});
