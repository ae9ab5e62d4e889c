// Exponential backoff with full jitter (the AWS Architecture Blog's recommendation): a retry waits
// a random time in [0, min(cap, base * 2^attempt)], which spreads retries of many clients apart.
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  random?: () => number;
}

export function fullJitterDelay(attempt: number, { baseMs, capMs, random = Math.random }: BackoffOptions): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
