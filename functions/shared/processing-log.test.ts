import { MemoryProcessingLog, newLogItem, type Lease } from './processing-log';

const ref = { bucket: 'uploads', key: 'imports/people/big.csv', size: 1, sequencer: '01', eTag: 'e', versionId: undefined, eventName: 'ObjectCreated:Put', eventTime: '' };
const item = (status: 'IN_PROGRESS' | 'PROCESSED' | 'FAILED', rowsRead = 0) => newLogItem({ fn: 'csv-import', ref, status, durationMs: 1, details: { rowsRead } });
const lease = (owner: string, nowMs: number, untilMs = nowMs + 20_000): Lease => ({ owner, nowMs, untilMs });

describe('the processing log: one item per object version, a long job held by one invocation at a time', () => {
  it('keeps an IN_PROGRESS item for its owner until its lease runs out, then lets another take it over', async () => {
    const log = new MemoryProcessingLog();
    expect(await log.putProgress(item('IN_PROGRESS', 10), lease('m1', 1_000), true)).toBe('saved');
    expect(await log.has(item('IN_PROGRESS'))).toBe(false); // not final: the work is not done
    expect(await log.putProgress(item('IN_PROGRESS', 20), lease('m2', 2_000), true)).toBe('lost');
    expect(await log.putProgress(item('IN_PROGRESS', 30), lease('m1', 3_000), true)).toBe('saved');
    // Let go (a hand-over): anyone may take it.
    expect(await log.putProgress(item('IN_PROGRESS', 40), lease('m1', 4_000), false)).toBe('saved');
    expect(await log.putProgress(item('IN_PROGRESS', 40), lease('m3', 5_000), true)).toBe('saved');
    // m3 crashed: once its lease (until 25,000) has run out, m4 takes over.
    expect(await log.putProgress(item('IN_PROGRESS', 40), lease('m4', 24_000), true)).toBe('lost');
    expect(await log.putProgress(item('IN_PROGRESS', 40), lease('m4', 25_001), true)).toBe('saved');
    expect((await log.get(item('IN_PROGRESS')))!).toMatchObject({ status: 'IN_PROGRESS', leaseOwner: 'm4', details: { rowsRead: 40 } });
  });

  it('replaces the IN_PROGRESS item with the final one for its owner only, and nothing replaces a final item', async () => {
    const log = new MemoryProcessingLog();
    await log.putProgress(item('IN_PROGRESS', 10), lease('m1', 1_000), true);
    expect(await log.putOnce(item('PROCESSED', 99))).toBe('duplicate'); // no lease: a plain write never replaces
    expect(await log.putOnce(item('PROCESSED', 99), lease('m2', 2_000))).toBe('duplicate');
    expect(await log.putOnce(item('PROCESSED', 99), lease('m1', 2_000))).toBe('created');
    const final = (await log.get(item('PROCESSED')))!;
    expect(final).toMatchObject({ status: 'PROCESSED', details: { rowsRead: 99 } });
    expect(final.leaseOwner).toBeUndefined();
    expect(await log.has(final)).toBe(true);
    expect(await log.putProgress(item('IN_PROGRESS'), lease('m1', 3_000), true)).toBe('lost');
    expect(await log.putOnce(item('FAILED'), lease('m1', 3_000))).toBe('duplicate');
  });
});
