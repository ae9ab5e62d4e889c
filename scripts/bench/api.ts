// "HTTP API": two routes of the api on the running stack, GET /config (no AWS call: what the
// plumbing costs shows) and GET /uploads (the dashboard's recent list: DynamoDB queries by day),
// each three ways, one call at a time after a warm-up:
// - Invoke API with LogType Tail: the function's own duration, from the REPORT line;
// - the Function URL, SigV4-signed as an AWS client signs it: URL server + signature check added;
// - the signing proxy, as the dashboard's browser calls it: one more local hop and a signature.
// The differences between the p50s are what the local Function URL costs over the function itself.
import { randomUUID } from 'node:crypto';
import { toUrlEvent, urlIdOf } from '../../local-lambda/function-url';
import { signForUrl } from '../../local-lambda/sigv4';
import { FUNCTION_URL_BASE_PORT, LAMBDA_API_PORT, LOCAL_ACCOUNT_ID, LOCAL_REGION, SIGNING_PROXY_BASE_PORT } from '../../toolkit/ports';
import { functionOf, readStack } from '../../toolkit/stack';
import { keepAliveClient, type Answer } from './http-client';
import { percentile, table } from './stats';

const FOLDER = 'api';
const PATHS = ['/config', '/uploads?limit=20'];
const credentials = { accessKeyId: 'bench', secretAccessKey: 'test' };
const client = keepAliveClient({ maxSockets: 1 });

/** The event the Function URL makes of a GET (the service's own mapping), for the Invoke API. */
const urlEvent = (fn: string, path: string, host: string): string =>
  JSON.stringify(
    toUrlEvent(
      { method: 'GET', url: path, rawHeaders: ['Host', host, 'Accept', 'application/json'], body: Buffer.alloc(0), sourceIp: '127.0.0.1' },
      { requestId: randomUUID(), accountId: LOCAL_ACCOUNT_ID, urlId: urlIdOf(fn), region: LOCAL_REGION, now: new Date() },
    ),
  );

const expectOk = (how: string, path: string, answer: Answer) => {
  if (answer.status !== 200) throw new Error(`${how}: GET ${path} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
};

export async function benchApi(calls: number): Promise<{ markdown: string }> {
  const view = await readStack();
  const fn = functionOf(view, FOLDER).name;
  const index = view.urls.findIndex((u) => u.function === fn);
  if (index < 0) throw new Error(`the stack's function ${fn} (functions/${FOLDER}/) has no Function URL`);
  const urlBase = `http://127.0.0.1:${FUNCTION_URL_BASE_PORT + index}`;
  const proxyBase = `http://127.0.0.1:${SIGNING_PROXY_BASE_PORT + index}`;
  const invokeUrl = `http://127.0.0.1:${LAMBDA_API_PORT}/2015-03-31/functions/${fn}/invocations`;
  const waysFor = (path: string): Array<{ name: string; call: () => Promise<number | undefined> }> => [
    {
      name: 'function duration (Invoke API, REPORT Duration)',
      call: async () => {
        const answer = await client.send(invokeUrl, 'POST', { 'content-type': 'application/json', 'x-amz-log-type': 'Tail' }, urlEvent(fn, path, new URL(urlBase).host));
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
        const headers = await signForUrl({ method: 'GET', url: path, headers: { host: new URL(urlBase).host, accept: 'application/json' }, body: Buffer.alloc(0) }, LOCAL_REGION, credentials);
        expectOk('Function URL', path, await client.send(`${urlBase}${path}`, 'GET', headers));
        return undefined;
      },
    },
    {
      name: 'signing proxy (as the dashboard calls it)',
      call: async () => {
        expectOk('signing proxy', path, await client.send(`${proxyBase}${path}`, 'GET', { accept: 'application/json' }));
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
  client.destroy();
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
