// What a run costs on Lambda, from the REPORT lines its invocations wrote (Billed Duration, INIT
// included, and Memory Size), priced from the dated table in lambda-prices.ts. Pure: the numbers
// only; scripts/cost.ts reads the lines and prints.
import type { Architecture, LambdaPrices, PriceTier } from './lambda-prices';

export interface ReportUsage {
  requestId: string;
  billedMs: number;
  memoryMb: number;
}

/** `REPORT RequestId: … Billed Duration: 123 ms … Memory Size: 512 MB …`; undefined for any other line. */
export function parseReport(message: string): ReportUsage | undefined {
  const requestId = /^REPORT RequestId: (\S+)/.exec(message)?.[1];
  const billed = /Billed Duration: (\d+) ms/.exec(message)?.[1];
  const memory = /Memory Size: (\d+) MB/.exec(message)?.[1];
  if (!requestId || billed === undefined || memory === undefined) return undefined;
  return { requestId, billedMs: Number(billed), memoryMb: Number(memory) };
}

export interface Usage {
  requests: number;
  billedMs: number;
  /** Memory x billed duration. */
  gbSeconds: number;
  /** Ephemeral storage above the free 512 MB x billed duration. */
  ephemeralGbSeconds: number;
}

export const NO_USAGE: Usage = { requests: 0, billedMs: 0, gbSeconds: 0, ephemeralGbSeconds: 0 };

export function usageOf(reports: readonly ReportUsage[], ephemeralStorageMb = 512): Usage {
  let billedMs = 0;
  let gbSeconds = 0;
  for (const r of reports) {
    billedMs += r.billedMs;
    gbSeconds += (r.billedMs / 1000) * (r.memoryMb / 1024);
  }
  return { requests: reports.length, billedMs, gbSeconds, ephemeralGbSeconds: (billedMs / 1000) * (Math.max(0, ephemeralStorageMb - 512) / 1024) };
}

export const addUsage = (a: Usage, b: Usage): Usage => ({ requests: a.requests + b.requests, billedMs: a.billedMs + b.billedMs, gbSeconds: a.gbSeconds + b.gbSeconds, ephemeralGbSeconds: a.ephemeralGbSeconds + b.ephemeralGbSeconds });

export const scaleUsage = (u: Usage, factor: number): Usage => ({ requests: u.requests * factor, billedMs: u.billedMs * factor, gbSeconds: u.gbSeconds * factor, ephemeralGbSeconds: u.ephemeralGbSeconds * factor });

/** Duration in a month's tiers: each GB-s at the price of the tier it falls in. */
export function tieredUsd(gbSeconds: number, tiers: readonly PriceTier[]): number {
  let usd = 0;
  let from = 0;
  for (const tier of tiers) {
    const inTier = Math.max(0, Math.min(gbSeconds, tier.upToGbSeconds) - from);
    usd += inTier * tier.usdPerGbSecond;
    from = tier.upToGbSeconds;
    if (gbSeconds <= from) break;
  }
  return usd;
}

export interface Bill {
  requestsUsd: number;
  durationUsd: number;
  storageUsd: number;
  totalUsd: number;
}

/** The price of `usage` in one month on `architecture`; with the free tier, its requests and GB-s come off first. */
export function billOf(usage: Usage, architecture: Architecture, prices: LambdaPrices, freeTier = false): Bill {
  const requests = freeTier ? Math.max(0, usage.requests - prices.freeTier.requests) : usage.requests;
  const gbSeconds = freeTier ? Math.max(0, usage.gbSeconds - prices.freeTier.gbSeconds) : usage.gbSeconds;
  const requestsUsd = (requests / 1_000_000) * prices.usdPerMillionRequests;
  const durationUsd = tieredUsd(gbSeconds, prices.duration[architecture]);
  const storageUsd = usage.ephemeralGbSeconds * prices.usdPerEphemeralGbSecond;
  return { requestsUsd, durationUsd, storageUsd, totalUsd: requestsUsd + durationUsd + storageUsd };
}
