import { BatchWriter, type WriteChunk } from './batch-writer';
import type { Item } from './row-schema';

const rows = (n: number, from = 0): Item[] => Array.from({ length: n }, (_, i) => ({ id: String(from + i), n: i }));
const noSleep = { sleep: async () => undefined, random: () => 0.5 };

describe('BatchWriter', () => {
  it('writes in chunks of at most 25', async () => {
    const calls: number[] = [];
    const write: WriteChunk = async (items) => {
      calls.push(items.length);
      return [];
    };
    const writer = new BatchWriter(write, { keyOf: (i) => String(i.id), ...noSleep });

    for (const row of rows(60)) await writer.add(row);
    await writer.flush();

    expect(calls).toEqual([25, 25, 10]);
    expect(writer.written).toBe(60);
  });

  it('keeps the last row when a key repeats inside one chunk (BatchWriteItem refuses duplicates)', async () => {
    const written: Item[] = [];
    const writer = new BatchWriter(async (items) => (written.push(...items), []), { keyOf: (i) => String(i.id), ...noSleep });
    await writer.add({ id: 'a', v: 1 });
    await writer.add({ id: 'b', v: 1 });
    await writer.add({ id: 'a', v: 2 });
    await writer.flush();
    expect(written).toEqual([{ id: 'b', v: 1 }, { id: 'a', v: 2 }]);
  });

  it('retries UnprocessedItems with growing, jittered delays until all are written', async () => {
    const delays: number[] = [];
    let call = 0;
    const attempts: string[][] = [];
    const write: WriteChunk = async (items) => {
      attempts.push(items.map((i) => String(i.id)));
      call++;
      return call <= 2 ? items.slice(0, 2) : [];
    };
    const writer = new BatchWriter(write, {
      keyOf: (i) => String(i.id),
      baseDelayMs: 100,
      sleep: async (ms) => void delays.push(ms),
      random: () => 0.5,
    });

    for (const row of rows(5)) await writer.add(row);
    await writer.flush();

    expect(attempts).toEqual([['0', '1', '2', '3', '4'], ['0', '1'], ['0', '1']]);
    expect(delays).toEqual([100, 200]);
    expect(writer.written).toBe(5);
  });

  it('retries throttling errors and gives up on other errors at once', async () => {
    let throttled = 0;
    const throttling: WriteChunk = async () => {
      if (throttled++ < 2) throw Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });
      return [];
    };
    const ok = new BatchWriter(throttling, { keyOf: (i) => String(i.id), ...noSleep });
    await ok.add({ id: '1' });
    await ok.flush();
    expect(ok.written).toBe(1);

    let calls = 0;
    const broken = new BatchWriter(
      async () => {
        calls++;
        throw Object.assign(new Error('One or more parameter values were invalid'), { name: 'ValidationException' });
      },
      { keyOf: (i) => String(i.id), ...noSleep },
    );
    await broken.add({ id: '1' });
    await expect(broken.flush()).rejects.toThrow('One or more parameter values were invalid');
    expect(calls).toBe(1);
  });

  it('fails after a bounded number of attempts when items stay unprocessed', async () => {
    const writer = new BatchWriter(async (items) => items, { keyOf: (i) => String(i.id), maxAttempts: 4, ...noSleep });
    await writer.add({ id: '1' });
    await expect(writer.flush()).rejects.toThrow('BatchWriteItem left 1 items unprocessed after 4 attempts');
  });

  it('keeps at most maxInFlight chunks in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const write: WriteChunk = async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return [];
    };
    const writer = new BatchWriter(write, { keyOf: (i) => String(i.id), maxInFlight: 3, ...noSleep });
    for (const row of rows(25 * 10)) await writer.add(row);
    await writer.flush();
    expect(peak).toBe(3);
    expect(writer.written).toBe(250);
  });
});
