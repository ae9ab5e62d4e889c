import { signForUrl, verifySigned } from './sigv4';

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

  it('refuses a stale signature and one scoped to another region or service', async () => {
    const request = await signed('GET', '/uploads');
    expect(await verifySigned(request, 'us-east-1', new Date(now.getTime() + 16 * 60_000))).toMatchObject({ ok: false, message: expect.stringMatching(/^Signature expired/) });
    expect(await verifySigned(request, 'eu-west-1', now)).toMatchObject({ ok: false, message: expect.stringContaining('scoped to a valid region (eu-west-1) and service (lambda)') });
  });
});
