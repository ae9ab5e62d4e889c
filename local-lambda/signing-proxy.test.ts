import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './http-util';
import { signingProxyHandler } from './signing-proxy';
import { verifySigned } from './sigv4';
import { headerMap } from './function-url';

/** A stand-in Function URL on loopback: checks the signature as the service does, echoes what it got. */
async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function call(port: number, method: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the signing proxy', () => {
  let target: { server: Server; port: number };
  let proxy: { server: Server; port: number };

  beforeAll(async () => {
    target = await listen(async (req, res) => {
      const body = (await readBody(req)) as Buffer;
      const headers = headerMap(req.rawHeaders);
      const verdict = await verifySigned({ method: req.method!, url: req.url!, headers, body }, 'us-east-1');
      res.writeHead(verdict.ok ? 200 : 403, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ verdict, url: req.url, body: body.toString(), origin: headers.origin ?? null }));
    });
    proxy = await listen(signingProxyHandler({ target: new URL(`http://127.0.0.1:${target.port}/`), region: 'us-east-1', credentials: { accessKeyId: 'local-dashboard', secretAccessKey: 'test' } }));
  });
  afterAll(() => {
    target.server.close();
    proxy.server.close();
  });

  it('signs what the page sends, so the AWS_IAM URL accepts it', async () => {
    const host = `127.0.0.1:${proxy.port}`;
    const get = await call(proxy.port, 'GET', '/uploads?limit=5', { host });
    expect(get).toMatchObject({ status: 200, body: { verdict: { ok: true, accessKeyId: 'local-dashboard' }, url: '/uploads?limit=5' } });
    const post = await call(proxy.port, 'POST', '/uploads', { host, origin: `http://${host}`, 'content-type': 'application/json', cookie: 'theme=dark' }, '{"kind":"image"}');
    expect(post).toMatchObject({ status: 200, body: { verdict: { ok: true }, body: '{"kind":"image"}', origin: `http://${host}` } });
  });

  it('answers only to 127.0.0.1 and localhost (no DNS rebinding)', async () => {
    expect(await call(proxy.port, 'GET', '/', { host: 'attacker.example' })).toMatchObject({ status: 403, body: { message: 'this proxy answers only at 127.0.0.1 or localhost, not attacker.example' } });
    expect((await call(proxy.port, 'GET', '/', { host: `localhost:${proxy.port}` })).status).toBe(200);
  });

  it('signs a write only from its own pages (Origin required), and no cross-site read but a followed link', async () => {
    const host = `127.0.0.1:${proxy.port}`;
    const post = (headers: Record<string, string>) => call(proxy.port, 'POST', '/uploads', { host, 'content-type': 'application/json', ...headers }, '{}');
    expect(await post({ origin: 'https://attacker.example' })).toMatchObject({ status: 403, body: { message: expect.stringContaining('a POST from https://attacker.example is refused') } });
    expect(await post({})).toMatchObject({ status: 403, body: { message: expect.stringContaining('a POST without Origin is refused') } });
    expect(await post({ origin: `http://localhost:${proxy.port}` })).toMatchObject({ status: 403 });
    expect((await post({ origin: `http://${host}` })).status).toBe(200);

    const get = (headers: Record<string, string>) => call(proxy.port, 'GET', '/uploads', { host, ...headers });
    expect(await get({ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' })).toMatchObject({ status: 403, body: { message: expect.stringContaining('a cross-site GET is refused') } });
    expect((await get({ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' })).status).toBe(403);
    expect((await get({ origin: 'https://attacker.example' })).status).toBe(403);
    expect((await get({ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' })).status).toBe(200);
    expect((await get({ 'sec-fetch-site': 'same-origin' })).status).toBe(200);
  });
});
