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

/** Network failures on the way to AWS: worth another attempt, as throttling is. */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);

/**
 * What a retry may cure: throttling, AWS's server-side errors, the SDK's own retryable verdict and
 * network failures. Anything else (a 4xx, a bug) would fail the same way again.
 */
export function isTransientError(error: unknown): boolean {
  if (isTransientAwsError(error)) return true;
  if (!(error instanceof Error)) return false;
  if ((error as { $retryable?: unknown }).$retryable) return true;
  const code = (error as { code?: unknown }).code ?? ((error as { cause?: { code?: unknown } }).cause?.code);
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
