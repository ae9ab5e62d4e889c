// "HTTP API": two routes of the api on the running stack, GET /config (no AWS call: what the
// plumbing costs shows) and GET /uploads (the dashboard's recent list: DynamoDB queries by day),
// each three ways, one call at a time after a warm-up:
// - Invoke API with LogType Tail: the function's own duration, from the REPORT line;
// - the Function URL, SigV4-signed as an AWS client signs it: URL server + signature check added;
// - the signing proxy, as the dashboard's browser calls it: one more local hop and a signature.
// The differences between the p50s are what the local Function URL costs over the function itself.
import { Agent, request } from 'node:http';
import { findFunction } from '#stack';
import { BRIDGE_PORT, functionUrlPort, signingProxyPort } from '../../bridge/addresses';
import { signForUrl } from '../../bridge/sigv4';
import { percentile, table } from './stats';

const FUNCTION = 'api';
const PATHS = ['/config', '/uploads?limit=20'];
const REGION = 'us-east-1';
const credentials = { accessKeyId: 'bench', secretAccessKey: 'test' };
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(url: string, method: string, headers: Record<string, string>, body = ''): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The Function URL event a GET /uploads becomes (payload format 2.0), for the Invoke API. */
function urlEvent(path: string): string {
  const [rawPath, rawQueryString = ''] = path.split('?') as [string, string?];
  return JSON.stringify({
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers: { host: `127.0.0.1:${functionUrlPort({ name: FUNCTION })}`, accept: 'application/json' },
    queryStringParameters: Object.fromEntries(new URLSearchParams(rawQueryString)),
    requestContext: { http: { method: 'GET', path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' }, requestId: 'bench', routeKey: '$default', stage: '$default', timeEpoch: Date.now() },
    isBase64Encoded: false,
  });
}

const expectOk = (how: string, path: string, answer: Answer) => {
  if (answer.status !== 200) throw new Error(`${how}: GET ${path} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
};

export async function benchApi(calls: number): Promise<{ markdown: string }> {
  if (!findFunction(FUNCTION)?.url) throw new Error(`stack/stack.ts has no function ${FUNCTION} with a Function URL`);
  const urlBase = `http://127.0.0.1:${functionUrlPort({ name: FUNCTION })}`;
  const proxyBase = `http://127.0.0.1:${signingProxyPort({ name: FUNCTION })}`;
  const invokeUrl = `http://127.0.0.1:${BRIDGE_PORT}/2015-03-31/functions/${FUNCTION}/invocations`;
  const waysFor = (path: string): Array<{ name: string; call: () => Promise<number | undefined> }> => [
    {
      name: 'function duration (Invoke API, REPORT Duration)',
      call: async () => {
        const answer = await send(invokeUrl, 'POST', { 'content-type': 'application/json', 'x-amz-log-type': 'Tail' }, urlEvent(path));
        const payload = JSON.parse(answer.body) as { statusCode?: number; body?: string };
        if (answer.status !== 200 || payload.statusCode !== 200) throw new Error(`Invoke API: ${answer.status} ${answer.body.slice(0, 200)}`);
        const report = Buffer.from(String(answer.headers['x-amz-log-result'] ?? ''), 'base64').toString();
        const duration = /Duration: ([\d.]+) ms/.exec(report)?.[1];
        if (!duration) throw new Error(`Invoke API: no REPORT Duration in the log tail: ${report}`);
        return Number(duration);
      },
    },
    {
      name: 'Function URL, SigV4-signed client',
      call: async () => {
        const headers = await signForUrl({ method: 'GET', url: path, headers: { host: new URL(urlBase).host, accept: 'application/json' }, body: Buffer.alloc(0) }, REGION, credentials);
        expectOk('Function URL', path, await send(`${urlBase}${path}`, 'GET', headers));
        return undefined;
      },
    },
    {
      name: 'signing proxy (as the dashboard calls it)',
      call: async () => {
        expectOk('signing proxy', path, await send(`${proxyBase}${path}`, 'GET', { accept: 'application/json' }));
        return undefined;
      },
    },
  ];

  const rows: string[][] = [];
  const overheads: string[] = [];
  for (const path of PATHS) {
    const p50s: number[] = [];
    for (const way of waysFor(path)) {
      await way.call(); // warm-up, not counted
      const times: number[] = [];
      for (let i = 0; i < calls; i++) {
        const started = performance.now();
        const reported = await way.call();
        times.push(reported ?? performance.now() - started);
      }
      p50s.push(percentile(times, 50));
      rows.push([`\`GET ${path}\`: ${way.name}`, percentile(times, 50).toFixed(1), percentile(times, 95).toFixed(1), Math.min(...times).toFixed(1), Math.max(...times).toFixed(1)]);
      console.log(`  api: GET ${path}: ${way.name}: p50 ${percentile(times, 50).toFixed(1)} ms`);
    }
    const [fn, url, proxy] = p50s as [number, number, number];
    overheads.push(`\`GET ${path}\`: the Function URL adds ${(url - fn).toFixed(1)} ms to the function's p50, the signing proxy ${(proxy - url).toFixed(1)} ms more.`);
  }
  agent.destroy();
  return {
    markdown: [
      `${calls} calls per row (after one warm-up), one at a time over a keep-alive connection, to the api function of the stack \`make up\` runs. "function duration" is the function's own time as the local Lambda service measures it (Runtime API next -> response); the other rows are wall-clock times at the client. On AWS, a Function URL adds its own network and signature check instead.`,
      '',
      table(['ms', 'p50', 'p95', 'min', 'max'], rows),
      '',
      ...overheads.map((o) => `- ${o}`),
    ].join('\n'),
  };
}
