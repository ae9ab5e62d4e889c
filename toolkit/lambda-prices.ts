// What Lambda charges for on-demand functions, US East (N. Virginia), as published on
// https://aws.amazon.com/lambda/pricing/ (read 2026-11-29). Update the date with the figures.
// Requests and duration (GB-s: configured memory x billed duration, rounded up to the ms, INIT
// included since August 2025); ephemeral storage above the free 512 MB per GB-s too. Duration is
// priced in monthly tiers; the free tier (1M requests and 400,000 GB-s a month) is shared by both
// architectures.

export type Architecture = 'x86_64' | 'arm64';

export interface PriceTier {
  /** GB-s a month up to which this price applies (Infinity for the last tier). */
  upToGbSeconds: number;
  usdPerGbSecond: number;
}

export interface LambdaPrices {
  region: string;
  read: string;
  source: string;
  usdPerMillionRequests: number;
  duration: Record<Architecture, PriceTier[]>;
  usdPerEphemeralGbSecond: number;
  freeTier: { requests: number; gbSeconds: number };
}

export const LAMBDA_PRICES: LambdaPrices = {
  region: 'us-east-1',
  read: '2026-11-29',
  source: 'https://aws.amazon.com/lambda/pricing/',
  usdPerMillionRequests: 0.2,
  duration: {
    x86_64: [
      { upToGbSeconds: 6e9, usdPerGbSecond: 0.0000166667 },
      { upToGbSeconds: 15e9, usdPerGbSecond: 0.000015 },
      { upToGbSeconds: Infinity, usdPerGbSecond: 0.0000133334 },
    ],
    arm64: [
      { upToGbSeconds: 7.5e9, usdPerGbSecond: 0.0000133334 },
      { upToGbSeconds: 18.75e9, usdPerGbSecond: 0.0000120001 },
      { upToGbSeconds: Infinity, usdPerGbSecond: 0.0000106667 },
    ],
  },
  usdPerEphemeralGbSecond: 0.0000000309,
  freeTier: { requests: 1_000_000, gbSeconds: 400_000 },
};
