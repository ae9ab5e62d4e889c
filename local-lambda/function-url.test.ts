import { fromUrlPayload, preflight, toUrlEvent, withCors } from './function-url';

const ctx = { requestId: 'req-1', accountId: '000000000000', urlId: 'abc123', region: 'us-east-1', now: new Date('2026-11-24T21:46:36.123Z') };

describe('a Function URL request as a payload-format-2.0 event', () => {
  it('carries path, query, headers, cookies and a text body as AWS sends them', () => {
    const event = toUrlEvent(
      {
        method: 'POST',
        url: '/uploads/images%2Fa%20b.jpg?limit=5&tag=x&tag=y&q=a+b',
        rawHeaders: ['Host', '127.0.0.1:9010', 'Content-Type', 'application/json', 'Cookie', 'a=1; b=2', 'X-Multi', 'one', 'X-Multi', 'two', 'User-Agent', 'jest'],
        body: Buffer.from('{"kind":"image"}'),
        sourceIp: '172.18.0.1',
      },
      { ...ctx, caller: { accessKeyId: 'test', accountId: '000000000000' } },
    );
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/uploads/images%2Fa%20b.jpg',
      rawQueryString: 'limit=5&tag=x&tag=y&q=a+b',
      cookies: ['a=1', 'b=2'],
      headers: { host: '127.0.0.1:9010', 'content-type': 'application/json', 'x-multi': 'one,two', 'user-agent': 'jest' },
      queryStringParameters: { limit: '5', tag: 'x,y', q: 'a b' },
      requestContext: {
        accountId: '000000000000',
        apiId: 'abc123',
        domainName: 'abc123.lambda-url.us-east-1.on.aws',
        http: { method: 'POST', path: '/uploads/images/a b.jpg', protocol: 'HTTP/1.1', sourceIp: '172.18.0.1', userAgent: 'jest' },
        requestId: 'req-1',
        time: '24/Nov/2026:21:46:36 +0000',
        timeEpoch: 1795556796123,
        authorizer: { iam: { accessKey: 'test', accountId: '000000000000' } },
      },
      body: '{"kind":"image"}',
      isBase64Encoded: false,
    });
    expect((event.headers as Record<string, string>).cookie).toBeUndefined();
  });

  it('base64-encodes a binary body, and leaves out what is absent', () => {
    const binary = toUrlEvent({ method: 'PUT', url: '/x', rawHeaders: ['Content-Type', 'image/png'], body: Buffer.from([0, 1, 2, 255]), sourceIp: '::1' }, ctx);
    expect([binary.body, binary.isBase64Encoded]).toEqual(['AAEC/w==', true]);
    const bare = toUrlEvent({ method: 'GET', url: '/', rawHeaders: [], body: Buffer.alloc(0), sourceIp: '::1' }, ctx);
    expect(bare).not.toHaveProperty('body');
    expect(bare).not.toHaveProperty('cookies');
    expect(bare).not.toHaveProperty('queryStringParameters');
    expect((bare.requestContext as Record<string, unknown>).authorizer).toBeUndefined();
  });
});

describe("the function's answer as an HTTP response", () => {
  it('uses statusCode, headers, cookies and a base64 body', () => {
    const r = fromUrlPayload(Buffer.from(JSON.stringify({ statusCode: 201, headers: { 'Content-Type': 'image/png' }, cookies: ['s=1; HttpOnly', 't=2'], body: Buffer.from([1, 2]).toString('base64'), isBase64Encoded: true })));
    expect(r).toEqual({ status: 201, headers: [['content-type', 'image/png'], ['set-cookie', 's=1; HttpOnly'], ['set-cookie', 't=2']], body: Buffer.from([1, 2]) });
  });

  it("takes JSON without a statusCode for a 200 application/json body (Lambda's shortcut)", () => {
    expect(fromUrlPayload(Buffer.from('{"hello":"world"}'))).toEqual({ status: 200, headers: [['content-type', 'application/json']], body: Buffer.from('{"hello":"world"}') });
    expect(fromUrlPayload(Buffer.from('"text"')).body.toString()).toBe('"text"');
  });

  it('answers 502 for what is not a response', () => {
    expect(fromUrlPayload(Buffer.from('not json')).status).toBe(502);
    expect(fromUrlPayload(Buffer.from('{"statusCode":"abc"}')).status).toBe(502);
  });
});

describe("the URL's CORS configuration", () => {
  const cors = { allowOrigins: ['http://127.0.0.1:9080'], allowMethods: ['GET', 'POST'], allowHeaders: ['content-type'], maxAge: 300 };

  it('answers a preflight from an allowed origin without invoking the function', () => {
    const r = preflight(cors, 'OPTIONS', { origin: 'http://127.0.0.1:9080', 'access-control-request-method': 'POST' })!;
    expect(r.status).toBe(200);
    expect(Object.fromEntries(r.headers)).toMatchObject({ 'access-control-allow-origin': 'http://127.0.0.1:9080', 'access-control-allow-methods': 'GET,POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '300' });
  });

  it('gives another origin no CORS headers, and is not a preflight without Access-Control-Request-Method', () => {
    const r = preflight(cors, 'OPTIONS', { origin: 'https://evil.example', 'access-control-request-method': 'POST' })!;
    expect(r.headers.some(([k]) => k.startsWith('access-control-'))).toBe(false);
    expect(preflight(cors, 'OPTIONS', { origin: 'http://127.0.0.1:9080' })).toBeUndefined();
    expect(preflight(undefined, 'OPTIONS', { origin: 'http://127.0.0.1:9080', 'access-control-request-method': 'GET' })).toBeUndefined();
  });

  it("replaces the function's own CORS headers with the URL's", () => {
    const r = withCors(cors, 'http://127.0.0.1:9080', { status: 200, headers: [['access-control-allow-origin', '*'], ['content-type', 'text/plain']], body: Buffer.alloc(0) });
    expect(r.headers).toEqual([['content-type', 'text/plain'], ['access-control-allow-origin', 'http://127.0.0.1:9080'], ['vary', 'Origin']]);
  });
});
