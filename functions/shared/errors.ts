// Error classification shared by the functions: what is the input's fault (record it, do not retry)
// and what is transient (throw, so the platform retries).

/** An event that is not what the function is wired to receive: an error naming what is missing. */
export class InvalidEvent extends Error {
  override name = 'InvalidEvent';
}

/** The input cannot be processed and retrying will not help: record it as FAILED. */
export class RejectedInput extends Error {
  override name = 'RejectedInput';
}

const TRANSIENT_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'SlowDown',
  'TimeoutError',
]);

/** Throttling and server-side errors worth retrying with backoff. */
export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return TRANSIENT_NAMES.has(error.name) || (status !== undefined && status >= 500);
}

export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
