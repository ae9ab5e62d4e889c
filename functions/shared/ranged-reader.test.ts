import { Readable } from 'node:stream';
import { readRanges, type FetchRange } from './ranged-reader';

const object = Buffer.from(Array.from({ length: 1000 }, (_, i) => `line ${String(i).padStart(4, '0')}\n`).join(''));
const noSleep = { sleep: async () => undefined };

/** Serves ranges of `object`; `breakAfter(call)` cuts that call's stream after n bytes (or not). */
function source(breakAfter: (call: number) => number | undefined = () => undefined) {
  const calls: Array<[number, number]> = [];
  const fetchRange: FetchRange = async (start, end) => {
    calls.push([start, end]);
    const cut = breakAfter(calls.length);
    const bytes = object.subarray(start, end + 1);
    async function* chunks() {
      // Small chunks, so a cut can land in the middle of a range.
      for (let at = 0; at < bytes.length; at += 50) {
        if (cut !== undefined && at >= cut) throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
        yield bytes.subarray(at, at + 50);
      }
    }
    return chunks();
  };
  return { fetchRange, calls };
}

const collect = async (gen: AsyncIterable<Buffer>) => Buffer.concat(await Readable.from(gen).toArray());

describe('ranged reader', () => {
  it('reads an object in ranges of the given size, in order, each byte once', async () => {
    const { fetchRange, calls } = source();
    const out = await collect(readRanges(fetchRange, { size: object.length, rangeBytes: 4096, ...noSleep }));
    expect(out.equals(object)).toBe(true);
    expect(calls).toEqual([[0, 4095], [4096, 8191], [8192, object.length - 1]]);
  });

  it('starts at a given byte (a continuation carries on from its checkpoint)', async () => {
    const { fetchRange, calls } = source();
    const out = await collect(readRanges(fetchRange, { size: object.length, start: 5000, rangeBytes: 4096, ...noSleep }));
    expect(out.equals(object.subarray(5000))).toBe(true);
    expect(calls).toEqual([[5000, 9095], [9096, object.length - 1]]);
    expect(await collect(readRanges(fetchRange, { size: object.length, start: object.length, ...noSleep }))).toHaveLength(0);
  });

  it('resumes a stream that breaks mid-range from the byte where it broke', async () => {
    // The 2nd GET (range 4096-8191) dies after 1000 bytes; the 4th (the 3rd range) after 0 bytes.
    const { fetchRange, calls } = source((call) => (call === 2 ? 1000 : call === 4 ? 0 : undefined));
    const retries: number[] = [];

    const out = await collect(
      readRanges(fetchRange, { size: object.length, rangeBytes: 4096, ...noSleep, onRetry: ({ resumeAt }) => retries.push(resumeAt) }),
    );

    expect(out.equals(object)).toBe(true);
    // Resumed at 4096 + 1000, never re-reading the 1000 bytes already received.
    expect(calls).toEqual([[0, 4095], [4096, 8191], [5096, 8191], [8192, object.length - 1], [8192, object.length - 1]]);
    expect(retries).toEqual([5096, 8192]);
  });

  it('hands nothing on twice even when the consumer is slower than the downloads', async () => {
    const { fetchRange } = source((call) => (call % 3 === 0 ? 120 : undefined));
    const seen: Buffer[] = [];
    for await (const chunk of readRanges(fetchRange, { size: object.length, rangeBytes: 1000, ...noSleep })) {
      seen.push(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(Buffer.concat(seen).equals(object)).toBe(true);
  });

  it('gives up after maxRetries failures in a row without progress, naming the bytes', async () => {
    const { fetchRange, calls } = source((call) => (call >= 2 ? 0 : undefined));
    await expect(collect(readRanges(fetchRange, { size: object.length, rangeBytes: 4096, maxRetries: 3, ...noSleep }))).rejects.toThrow(
      'reading bytes 4096-8191 failed 4 times in a row: aborted',
    );
    expect(calls).toHaveLength(5);
  });

  it('does not retry a 4xx answer (object deleted or replaced meanwhile)', async () => {
    let calls = 0;
    const gone: FetchRange = async () => {
      calls++;
      throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { $metadata: { httpStatusCode: 412 } });
    };
    await expect(collect(readRanges(gone, { size: 10, ...noSleep }))).rejects.toThrow(/pre-conditions/);
    expect(calls).toBe(1);
  });

  it('treats a response that ends early as broken and resumes it', async () => {
    let first = true;
    const short: FetchRange = async (start, end) => {
      const bytes = object.subarray(start, end + 1);
      if (first) {
        first = false;
        return [bytes.subarray(0, 10)];
      }
      return [bytes];
    };
    expect((await collect(readRanges(short, { size: 100, ...noSleep }))).equals(object.subarray(0, 100))).toBe(true);
  });

  it('reads an empty object without a request', async () => {
    const { fetchRange, calls } = source();
    expect((await collect(readRanges(fetchRange, { size: 0 }))).length).toBe(0);
    expect(calls).toEqual([]);
  });
});
