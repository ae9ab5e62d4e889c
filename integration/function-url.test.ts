// The Function URL contract of the local Lambda service, from outside: requests signed by the AWS
// SDK's own SigV4 signer (@smithy/signature-v4) and unsigned ones, to the api's URL (AWS_IAM), with
// an echo handler in the api's slot (a production image and runtime) so that both sides show: the
// request as the payload-format-2.0 event the function got, the answer as the HTTP response.
import { GetFunctionUrlConfigCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from './support/sigv4-hash';
import { describeWithDocker, removeLabelledContainers } from './support/docker';
import { standIn } from './support/handlers';
import { startStack, type RunningStack } from './support/stack';


const credentials = { accessKeyId: 'AKIAFUNCTIONURLTEST', secretAccessKey: 'test' };

describeWithDocker('a Function URL served by the local Lambda service', () => {
  let stack: RunningStack;
  let base: URL;

  beforeAll(async () => {
    removeLabelledContainers();
    stack = await startStack({ handlers: { api: standIn('echo.handler') } });
    base = new URL(stack.functionUrl());
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  });

  /** Sends a request, signed by SignatureV4 unless told not to; the body as bytes. */
  async function send(method: string, path: string, options: { body?: Buffer | string; headers?: Record<string, string>; sign?: boolean; tamper?: boolean } = {}) {
    const [pathname, query = ''] = path.split('?', 2) as [string, string?];
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    let headers: Record<string, string> = { host: base.host, ...options.headers };
    if (options.sign !== false) {
      const signer = new SignatureV4({ service: 'lambda', region: 'us-east-1', credentials, sha256: Sha256 });
      const queryMap = Object.fromEntries([...new URLSearchParams(query).keys()].map((k) => [k, new URLSearchParams(query).getAll(k).length > 1 ? new URLSearchParams(query).getAll(k) : new URLSearchParams(query).get(k)!]));
      const signed = await signer.sign(new HttpRequest({ method, protocol: 'http:', hostname: base.hostname, port: Number(base.port), path: pathname, query: queryMap, headers, ...(body && { body }) }));
      headers = signed.headers;
      if (options.tamper) headers.authorization = headers.authorization!.replace(/Signature=(.)/, (_, c: string) => `Signature=${c === '0' ? '1' : '0'}`);
    }
    const { host: _host, ...sent } = headers;
    const res = await fetch(new URL(path, base), { method, headers: sent, ...(body && { body }) });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  }
  const echoed = (body: Buffer) => JSON.parse(body.toString()) as Record<string, any>;

  it('refuses an unsigned request with 403 Forbidden, and a tampered signature too', async () => {
    const unsigned = await send('GET', '/anything', { sign: false });
    expect([unsigned.status, unsigned.body.toString()]).toEqual([403, '{"Message":"Forbidden"}']);
    const tampered = await send('GET', '/anything', { tamper: true });
    expect(tampered.status).toBe(403);
    expect(echoed(tampered.body).Message).toMatch(/signature we calculated does not match/);
  });

  it('hands a signed binary request to the function as a 2.0 event, and its answer back: status, headers, cookies, base64 body', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]);
    const res = await send('POST', '/uploads/images%2Fa%20b.jpg?limit=5&tag=x&tag=y', { body: bytes, headers: { 'content-type': 'application/octet-stream', cookie: 'a=1; b=2', 'x-trace': 'abc' } });
    expect(res.status).toBe(207);
    expect(res.headers.get('x-echo')).toBe('yes');
    expect(res.headers.getSetCookie()).toEqual(['session=abc; Path=/; HttpOnly', 'theme=dark']);
    const event = echoed(res.body);
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/uploads/images%2Fa%20b.jpg',
      rawQueryString: 'limit=5&tag=x&tag=y',
      queryStringParameters: { limit: '5', tag: 'x,y' },
      cookies: ['a=1', 'b=2'],
      headers: { 'content-type': 'application/octet-stream', 'x-trace': 'abc' },
      isBase64Encoded: true,
      requestContext: { http: { method: 'POST', path: '/uploads/images/a b.jpg' }, authorizer: { iam: { accessKey: 'AKIAFUNCTIONURLTEST' } }, routeKey: '$default', stage: '$default' },
    });
    expect(Buffer.from(event.body, 'base64')).toEqual(bytes);
    expect(res.headers.get('x-amzn-requestid')).toBe(event.requestContext.requestId);
  });

  it('passes a JSON body as text, answers the shortcut as 200 JSON, and a custom status as it is', async () => {
    const json = echoed((await send('POST', '/uploads', { body: '{"kind":"image","name":"été"}', headers: { 'content-type': 'application/json' } })).body);
    expect([json.body, json.isBase64Encoded]).toEqual(['{"kind":"image","name":"été"}', false]);
    const plain = await send('GET', '/plain');
    expect([plain.status, plain.headers.get('content-type'), plain.body.toString()]).toEqual([200, 'application/json', '{"hello":"world"}']);
    const teapot = await send('GET', '/teapot');
    expect([teapot.status, teapot.body.toString()]).toEqual([418, 'short and stout']);
  });

  it('answers 502 when the function fails, and 413 for a body over 6 MB', async () => {
    const failed = await send('GET', '/throw');
    expect([failed.status, failed.body.toString()]).toEqual([502, '{"Message":"Internal Server Error"}']);
    const big = await send('POST', '/big', { body: Buffer.alloc(6 * 1024 * 1024 + 1, 97), headers: { 'content-type': 'text/plain' } });
    expect(big.status).toBe(413);
  });

  it("answers CORS preflights itself (no signature needed) and puts the URL's CORS headers on answers", async () => {
    const origin = 'http://127.0.0.1:9080';
    const pre = await send('OPTIONS', '/uploads', { sign: false, headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(pre.status).toBe(200);
    expect([pre.headers.get('access-control-allow-origin'), pre.headers.get('access-control-allow-methods'), pre.headers.get('access-control-max-age')]).toEqual([origin, 'GET,POST', '300']);
    const answer = await send('GET', '/anything', { headers: { origin } });
    expect(answer.headers.get('access-control-allow-origin')).toBe(origin); // the function's '*' replaced
    // Another site's page is refused outright (request-guard.ts), with no CORS header to read the answer by.
    const foreign = await send('GET', '/anything', { headers: { origin: 'https://attacker.example' } });
    expect([foreign.status, foreign.headers.get('access-control-allow-origin')]).toEqual([403, null]);
  });

  it('describes the URL to the SDK (GetFunctionUrlConfig), and opens it to a browser through the signing proxy', async () => {
    const lambda = new LambdaClient({ endpoint: stack.lambdaApiUrl, region: 'us-east-1', credentials, maxAttempts: 1 });
    const api = stack.view.functions.find((f) => f.command?.[0] === 'test/echo.handler')!.name;
    try {
      const config = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: api }));
      expect(config).toMatchObject({ AuthType: 'AWS_IAM', FunctionUrl: 'http://127.0.0.1:9010/', FunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${api}`, Cors: { AllowMethods: ['GET', 'POST'] } });
    } finally {
      lambda.destroy();
    }
    // No credentials in the request: the proxy signs it.
    const viaProxy = await fetch(new URL('/through/the/proxy?x=1', stack.signingProxyUrl()));
    expect(viaProxy.status).toBe(207);
    expect(echoed(Buffer.from(await viaProxy.arrayBuffer()))).toMatchObject({ rawPath: '/through/the/proxy', rawQueryString: 'x=1', requestContext: { authorizer: { iam: { accessKey: 'local-dashboard' } } } });
  });
});
