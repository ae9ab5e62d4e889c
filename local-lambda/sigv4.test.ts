import { toUrlEvent } from './function-url';
import { precheckSigned, signForUrl, verifyPostPolicy, verifyRequest, verifySigned } from './sigv4';

const now = new Date('2026-11-24T12:00:00Z');
const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'test' };

/** A request signed by the SDK's signer, as the service receives it. */
async function signed(method: string, url: string, body = '', extra: Record<string, string> = {}) {
  jest.useFakeTimers({ now, doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'queueMicrotask'] });
  try {
    const headers = await signForUrl({ method, url, headers: { host: '127.0.0.1:9010', 'content-type': 'application/json', ...extra }, body: Buffer.from(body) }, 'us-east-1', creds);
    return { method, url, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])), body: Buffer.from(body) };
  } finally {
    jest.useRealTimers();
  }
}

describe('SigV4 on Function URLs', () => {
  it('accepts what the SDK signed: encoded paths, repeated and encoded query values, a body', async () => {
    const request = await signed('POST', '/uploads/images%2Fa%20b.jpg?limit=5&tag=x&tag=y&q=caf%C3%A9', '{"kind":"image"}');
    expect(await verifySigned(request, 'us-east-1', now)).toEqual({ ok: true, accessKeyId: 'AKIDEXAMPLE' });
  });

  it('refuses an unsigned request with AWS\'s "Forbidden"', async () => {
    expect(await verifySigned({ method: 'GET', url: '/', headers: { host: '127.0.0.1:9010' }, body: Buffer.alloc(0) }, 'us-east-1', now)).toEqual({ ok: false, message: 'Forbidden' });
  });

  it('refuses a changed body, path or signed header, and a wrong secret', async () => {
    const request = await signed('POST', '/uploads', '{"kind":"image"}');
    const mismatch = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.';
    expect(await verifySigned({ ...request, body: Buffer.from('{"kind":"csv"}') }, 'us-east-1', now)).toMatchObject({ ok: false });
    expect(await verifySigned({ ...request, url: '/alerts' }, 'us-east-1', now)).toEqual({ ok: false, message: mismatch });
    expect(await verifySigned({ ...request, headers: { ...request.headers, 'content-type': 'text/plain' } }, 'us-east-1', now)).toEqual({ ok: false, message: mismatch });
    expect(await verifySigned(request, 'us-east-1', now, () => 'another secret')).toEqual({ ok: false, message: mismatch });
  });

  it('refuses a malformed signed-header list (never a 500): a name the request does not carry, Object\'s own names included', async () => {
    const request = await signed('GET', '/uploads');
    const withList = (list: string) => ({ ...request, headers: { ...request.headers, authorization: request.headers.authorization!.replace(/SignedHeaders=[^,]+/, `SignedHeaders=${list}`) } });
    for (const list of ['constructor', 'host;constructor', 'host;__proto__', 'host;x-absent']) {
      expect(await verifySigned(withList(list), 'us-east-1', now)).toEqual({ ok: false, message: expect.stringMatching(/^SignedHeaders names .+, which the request does not carry$|^the host header must be signed$|is not a list of header names$/) });
    }
    expect(await verifySigned(withList('host;;x'), 'us-east-1', now)).toMatchObject({ ok: false, message: expect.stringContaining('is not a list of header names') });
  });

  it('checks all but the body before reading it: form, scope, date and signed headers', async () => {
    const request = await signed('POST', '/uploads', '{"kind":"image"}');
    const { body: _body, ...head } = request;
    expect(precheckSigned(head, 'us-east-1', now)).toEqual({ ok: true, accessKeyId: 'AKIDEXAMPLE' });
    expect(precheckSigned({ ...head, headers: { host: '127.0.0.1:9010' } }, 'us-east-1', now)).toEqual({ ok: false, message: 'Forbidden' });
    expect(precheckSigned(head, 'us-east-1', new Date(now.getTime() + 16 * 60_000))).toMatchObject({ ok: false, message: expect.stringMatching(/^Signature expired/) });
  });

  it('hands the function the query that was signed: a "+" is a space to both', async () => {
    const request = await signed('GET', '/search?q=a+b&r=c%2Bd');
    expect(await verifySigned(request, 'us-east-1', now)).toEqual({ ok: true, accessKeyId: 'AKIDEXAMPLE' });
    // Signed as "a b" (what a form means by '+'): the same URL with %20 verifies, one meaning a literal '+' does not.
    expect(await verifySigned({ ...request, url: '/search?q=a%20b&r=c%2Bd' }, 'us-east-1', now)).toEqual({ ok: true, accessKeyId: 'AKIDEXAMPLE' });
    expect(await verifySigned({ ...request, url: '/search?q=a%2Bb&r=c%2Bd' }, 'us-east-1', now)).toMatchObject({ ok: false });
    const event = toUrlEvent({ method: 'GET', url: request.url, rawHeaders: [], body: Buffer.alloc(0), sourceIp: '127.0.0.1' }, { requestId: 'r', accountId: '000000000000', urlId: 'u', region: 'us-east-1', now });
    expect(event.queryStringParameters).toEqual({ q: 'a b', r: 'c+d' });
  });

  it('refuses a stale signature and one scoped to another region or service', async () => {
    const request = await signed('GET', '/uploads');
    expect(await verifySigned(request, 'us-east-1', new Date(now.getTime() + 16 * 60_000))).toMatchObject({ ok: false, message: expect.stringMatching(/^Signature expired/) });
    expect(await verifySigned(request, 'eu-west-1', now)).toMatchObject({ ok: false, message: expect.stringContaining('scoped to a valid region (eu-west-1) and service (lambda)') });
  });
});

describe("SigV4 on the functions' AWS requests (header and query), and S3 POST policies", () => {
  // The imports are here so that the Function URL tests above stay free of the S3 and DynamoDB clients.
  const secrets: Record<string, string> = { AKIDTHUMBNAIL: 'per-run-secret-1', AKIDCSVIMPORT: 'per-run-secret-2' };
  const options = { region: 'us-east-1', services: ['s3', 'dynamodb', 'sns', 'sqs'], secretFor: (key: string) => secrets[key] };
  const config = (key: string, secret = secrets[key]!) => ({ region: 'us-east-1', endpoint: 'http://checker:4566', credentials: { accessKeyId: key, secretAccessKey: secret } });

  it('accepts what the SDK signed for S3 (keys with spaces, plus and unicode; a body) and DynamoDB, naming key and service', async () => {
    const { S3Client, PutObjectCommand, GetObjectCommand } = await import('@aws-sdk/client-s3');
    const { DynamoDBClient, PutItemCommand } = await import('@aws-sdk/client-dynamodb');
    const { sentBy } = await import('./iam/test-support');
    const put = await sentBy(new S3Client({ ...config('AKIDTHUMBNAIL'), forcePathStyle: true }), new PutObjectCommand({ Bucket: 'thumbs', Key: 'a b/c+d é.webp', Body: Buffer.from('webp bytes') }));
    expect(await verifyRequest(put, options)).toEqual({ ok: true, accessKeyId: 'AKIDTHUMBNAIL', service: 's3', region: 'us-east-1' });
    const ranged = await sentBy(new S3Client({ ...config('AKIDCSVIMPORT'), forcePathStyle: true }), new GetObjectCommand({ Bucket: 'uploads', Key: 'imports/people/x.csv', Range: 'bytes=0-99' }));
    expect(await verifyRequest(ranged, options)).toMatchObject({ ok: true, accessKeyId: 'AKIDCSVIMPORT' });
    const item = await sentBy(new DynamoDBClient(config('AKIDCSVIMPORT')), new PutItemCommand({ TableName: 'People', Item: { pk: { S: '1' } } }));
    expect(await verifyRequest(item, options)).toMatchObject({ ok: true, service: 'dynamodb' });
    // Another body than the one signed, another key's secret, an unknown key.
    expect(await verifyRequest({ ...put, body: Buffer.from('other bytes') }, options)).toMatchObject({ ok: false, reason: 'mismatch' });
    const forged = await sentBy(new S3Client({ ...config('AKIDTHUMBNAIL', secrets.AKIDCSVIMPORT), forcePathStyle: true }), new PutObjectCommand({ Bucket: 'thumbs', Key: 'k', Body: 'x' }));
    expect(await verifyRequest(forged, options)).toMatchObject({ ok: false, reason: 'mismatch' });
    const stranger = await sentBy(new DynamoDBClient(config('AKIDSTRANGER', 'x')), new PutItemCommand({ TableName: 'People', Item: { pk: { S: '1' } } }));
    expect(await verifyRequest(stranger, options)).toMatchObject({ ok: false, reason: 'unknown-key' });
    expect(await verifyRequest(item, { ...options, services: ['s3'] })).toMatchObject({ ok: false, reason: 'scope' });
  });

  it('a presigned GET verifies until it expires; a changed key does not', async () => {
    const { S3Client, GetObjectCommand } = await import('@aws-sdk/client-s3');
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
    const url = new URL(await getSignedUrl(new S3Client({ ...config('AKIDTHUMBNAIL'), forcePathStyle: true }), new GetObjectCommand({ Bucket: 'thumbs', Key: 'images/a b.webp' }), { expiresIn: 60 }));
    const request = { method: 'GET', url: `${url.pathname}${url.search}`, headers: { host: url.host }, body: Buffer.alloc(0) };
    expect(await verifyRequest(request, options)).toMatchObject({ ok: true, accessKeyId: 'AKIDTHUMBNAIL', service: 's3' });
    expect(await verifyRequest({ ...request, url: request.url.replace('a%20b', 'c') }, options)).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(await verifyRequest(request, { ...options, now: new Date(Date.now() + 61_000) })).toEqual({ ok: false, reason: 'expired', message: 'Request has expired' });
  });

  it("an S3 POST policy verifies with its key's secret, not another's, and not after its expiration", async () => {
    const { S3Client } = await import('@aws-sdk/client-s3');
    const { createPresignedPost } = await import('@aws-sdk/s3-presigned-post');
    const { fields } = await createPresignedPost(new S3Client({ ...config('AKIDTHUMBNAIL'), forcePathStyle: true }), { Bucket: 'uploads', Key: 'images/x.png', Expires: 60, Conditions: [['content-length-range', 1, 1024]] });
    expect(verifyPostPolicy(fields, options)).toMatchObject({ ok: true, accessKeyId: 'AKIDTHUMBNAIL' });
    expect(verifyPostPolicy(fields, { ...options, secretFor: () => 'another secret' })).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(verifyPostPolicy(fields, { ...options, now: new Date(Date.now() + 61_000) })).toMatchObject({ ok: false, reason: 'expired' });
    expect(verifyPostPolicy({ key: 'images/x.png' }, options)).toMatchObject({ ok: false, reason: 'missing' });
  });
});
