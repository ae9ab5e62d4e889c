// Asynchronous invocations (InvocationType Event): retried twice with backoff like Lambda, then
// sent to the function's on-failure destination in AWS's destination record format.
import type { FunctionRuntime, InvocationResult } from './function-runtime';

export interface DestinationRecord {
  version: '1.0';
  timestamp: string;
  requestContext: { requestId: string; functionArn: string; condition: 'RetriesExhausted'; approximateInvokeCount: number };
  requestPayload: unknown;
  responseContext: { statusCode: number; executedVersion: '$LATEST'; functionError: 'Unhandled' };
  responsePayload: unknown;
}

const parseJson = (payload: Buffer): unknown => {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return payload.toString('utf8');
  }
};

export function destinationRecord(
  payload: Buffer,
  failure: Extract<InvocationResult, { ok: false }>,
  functionArn: string,
  attempts: number,
  now = new Date(),
): DestinationRecord {
  return {
    version: '1.0',
    timestamp: now.toISOString(),
    requestContext: { requestId: failure.requestId, functionArn: `${functionArn}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: attempts },
    requestPayload: parseJson(payload),
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: failure.error,
  };
}

export interface AsyncInvokeOptions {
  functionArn: string;
  /** Delay before each retry; its length is the number of retries (Lambda: 2). */
  retryDelaysMs: readonly number[];
  sleep: (ms: number) => Promise<void>;
  sendToDestination: (record: DestinationRecord) => Promise<void>;
}

/** Runs an Event invocation to completion: success, or retries exhausted and the record sent on. */
export async function invokeAsync(runtime: FunctionRuntime, payload: Buffer, options: AsyncInvokeOptions): Promise<InvocationResult> {
  let attempts = 0;
  for (;;) {
    const result = await runtime.invoke({ payload });
    attempts++;
    if (result.ok) return result;
    const delay = options.retryDelaysMs[attempts - 1];
    if (delay === undefined) {
      await options.sendToDestination(destinationRecord(payload, result, options.functionArn, attempts));
      return result;
    }
    await options.sleep(delay);
  }
}
