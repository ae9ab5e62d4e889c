// For each function, an event it completes without reaching AWS, and the answer it must post (a
// response, or for a function that cannot finish anything offline, the error it must report):
// lets a test or a benchmark run an image with nothing but a Runtime API.
import { readFileSync } from 'node:fs';
import { PROJECT } from './labels';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './ports';

/** A bucket of the stack as its template names it, in LocalStack's account and region. */
export const stackBucket = (name: string): string => `${PROJECT}-${name}-${LOCAL_ACCOUNT_ID}-${LOCAL_REGION}`;

export const s3Record = (bucket: string, key: string) => ({
  eventVersion: '2.1',
  eventSource: 'aws:s3',
  awsRegion: 'us-east-1',
  eventTime: '2026-11-20T10:00:00.000Z',
  eventName: 'ObjectCreated:Put',
  s3: { s3SchemaVersion: '1.0', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key, size: 10, eTag: 'e', sequencer: '01' } },
});

export type OfflineCase = { event: unknown; response: unknown } | { event: unknown; error: { errorType: string; errorMessage: string } };

export const offlineCases: Record<string, OfflineCase> = {
  // The recursion guard answers without touching S3.
  thumbnail: {
    event: { Records: [s3Record(stackBucket('thumbnails'), 'images/a.jpg/128.webp')] },
    response: { results: [{ key: 'images/a.jpg/128.webp', status: 'IGNORED', reason: `object is in the output bucket ${stackBucket('thumbnails')}` }] },
  },
  notify: { event: { Records: [] }, response: { results: [] } },
  'csv-import': {
    // The recursion guard: a rejected-rows report is never imported.
    event: { Records: [s3Record(stackBucket('uploads'), 'reports/imports/a.csv.errors.csv')] },
    response: { results: [{ key: 'reports/imports/a.csv.errors.csv', status: 'IGNORED', reason: 'a rejected-rows report (recursion guard)' }] },
  },
  audit: {
    event: { Records: [{ eventName: 'INSERT', dynamodb: { SequenceNumber: '1', NewImage: { status: { S: 'PROCESSED' } } } }] },
    response: { batchItemFailures: [] },
  },
  // GET /config answers from the function's configuration alone, as a Function URL response.
  api: {
    // Read from the repository root, where jest, make and the bench scripts run.
    event: JSON.parse(readFileSync('functions/api/events/get-config.json', 'utf8')),
    response: {
      statusCode: 200,
      // The api's security headers on every answer (functions/api/app.ts), then its own.
      headers: {
        'content-security-policy':
          "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https: http://127.0.0.1:* http://localhost:*; connect-src 'self' https: http://127.0.0.1:* http://localhost:*; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'none'",
        'content-type': 'application/json',
        'cross-origin-opener-policy': 'same-origin',
        'origin-agent-cluster': '?1',
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
        'x-dns-prefetch-control': 'off',
        'x-download-options': 'noopen',
        'x-frame-options': 'DENY',
        'x-permitted-cross-domain-policies': 'none',
        'x-xss-protection': '0',
      },
      isBase64Encoded: false,
      body: JSON.stringify({
        datasets: ['people', 'debian-releases'],
        limits: { imageBytes: 104_857_600, csvBytes: 1_073_741_824 },
        imageTypes: ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif', 'image/tiff', 'image/heic', 'image/heif'],
      }),
    },
  },
  // Every report reads DynamoDB: offline, a scheduled event with a bad time is refused before that.
  report: {
    event: { 'detail-type': 'Scheduled Event', source: 'aws.events', time: 'not a date' },
    error: { errorType: 'InvalidEvent', errorMessage: 'the scheduled event\'s time is not a date: "not a date"' },
  },
};

/** What the function must answer offline: its response, or `{errorType, errorMessage}`. */
export const offlineAnswer = (name: string): unknown => {
  const c = offlineCases[name]!;
  return 'response' in c ? c.response : c.error;
};

/** Whether the offline answer is a function error (X-Amz-Function-Error: Unhandled). */
export const offlineFails = (name: string): boolean => 'error' in offlineCases[name]!;

/** An answer as a tool returned it, with an error reduced to its type and message (tools add a trace). */
export function answerOf(body: unknown): unknown {
  if (body && typeof body === 'object' && 'errorType' in body && 'errorMessage' in body) {
    const { errorType, errorMessage } = body as { errorType: string; errorMessage: string };
    return { errorType, errorMessage };
  }
  return body;
}
