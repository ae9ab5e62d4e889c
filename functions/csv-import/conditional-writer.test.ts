import { ConditionalWriter } from './conditional-writer';

const noSleep = { sleep: async () => undefined, random: () => 0.5 };

describe('ConditionalWriter (if-newer)', () => {
  it('counts rows written and rows the table already holds in a newer version', async () => {
    const writer = new ConditionalWriter(async (item) => (Number(item.v) > 1 ? 'written' : 'older'), noSleep);
    for (const v of [1, 2, 3]) await writer.add({ id: String(v), v });
    await writer.flush();
    expect([writer.written, writer.skipped]).toEqual([2, 1]);
  });

  it('retries throttling, and stops at the first other error', async () => {
    let calls = 0;
    const throttled = new ConditionalWriter(async () => {
      if (++calls < 3) throw Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
      return 'written';
    }, noSleep);
    await throttled.add({ id: '1' });
    await throttled.flush();
    expect(throttled.written).toBe(1);

    const broken = new ConditionalWriter(async () => {
      throw Object.assign(new Error('The provided key element does not match the schema'), { name: 'ValidationException' });
    }, noSleep);
    await broken.add({ id: '1' });
    await expect(broken.flush()).rejects.toThrow('does not match the schema');
  });

  it('keeps at most maxInFlight puts in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const writer = new ConditionalWriter(async () => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return 'written';
    }, { ...noSleep, maxInFlight: 3 });
    for (let i = 0; i < 20; i++) await writer.add({ id: String(i) });
    await writer.flush();
    expect(peak).toBe(3);
  });
});
