import { billOf, parseReport, tieredUsd, usageOf } from './lambda-cost';
import { LAMBDA_PRICES } from './lambda-prices';

describe('what a run costs on Lambda', () => {
  it('reads Billed Duration (INIT included) and Memory Size from a REPORT line', () => {
    expect(parseReport('REPORT RequestId: r-1\tDuration: 40917.00 ms\tBilled Duration: 41858 ms\tMemory Size: 512 MB\tMax Memory Used: 81 MB\tInit Duration: 940.12 ms')).toEqual({ requestId: 'r-1', billedMs: 41858, memoryMb: 512 });
    expect(parseReport('START RequestId: r-1 Version: $LATEST')).toBeUndefined();
    expect(parseReport('REPORT RequestId: r-1\tDuration: 1.00 ms')).toBeUndefined();
  });

  it('prices requests and GB-s on each architecture, ephemeral storage above 512 MB too', () => {
    // 1,000 invocations of 200 ms at 1,024 MB: 200 GB-s.
    const usage = usageOf(Array.from({ length: 1_000 }, (_, i) => ({ requestId: String(i), billedMs: 200, memoryMb: 1024 })), 2048);
    expect(usage).toMatchObject({ requests: 1_000, billedMs: 200_000 });
    expect(usage.gbSeconds).toBeCloseTo(200, 9);
    expect(usage.ephemeralGbSeconds).toBeCloseTo(300, 9); // 1.5 GB above the free 512 MB, 200 s
    const x86 = billOf(usage, 'x86_64', LAMBDA_PRICES);
    expect(x86.requestsUsd).toBeCloseTo(0.0002, 12);
    expect(x86.durationUsd).toBeCloseTo(200 * 0.0000166667, 12);
    expect(x86.storageUsd).toBeCloseTo(300 * 0.0000000309, 12);
    expect(billOf(usage, 'arm64', LAMBDA_PRICES).durationUsd).toBeCloseTo(200 * 0.0000133334, 12);
  });

  it('takes the free tier off first, and prices a month past 6 billion GB-s in its tiers', () => {
    const month = { requests: 3_000_000, billedMs: 0, gbSeconds: 1_400_000, ephemeralGbSeconds: 0 };
    expect(billOf(month, 'x86_64', LAMBDA_PRICES, true).totalUsd).toBeCloseTo(0.4 + 1_000_000 * 0.0000166667, 9);
    expect(billOf({ ...month, requests: 10, gbSeconds: 10 }, 'x86_64', LAMBDA_PRICES, true).totalUsd).toBe(0);
    expect(tieredUsd(7e9, LAMBDA_PRICES.duration.x86_64)).toBeCloseTo(6e9 * 0.0000166667 + 1e9 * 0.000015, 3);
  });
});
