// The browser's door to a Function URL with AWS_IAM auth: a proxy on 127.0.0.1 that signs every
// request with SigV4 and forwards it, so the URL itself never opens to the internet. The local
// Lambda service runs one per URL (make up prints it); against AWS, run it yourself with your
// credentials and the deployed URL:
//   npx tsx local-lambda/signing-proxy.ts https://<id>.lambda-url.<region>.on.aws/ [port]
// It answers only to 127.0.0.1/localhost (a web page cannot reach it through DNS rebinding), signs
// only writes from its own pages (a same-origin Origin is required) and no cross-site read but a
// followed link (another site cannot make your browser post, or fetch, through it).
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { declaredSize, MAX_PAYLOAD_BYTES, readBody } from './http-util';
import { isAllowedHost, type BodyBudget } from './request-guard';
import { signForUrl } from './sigv4';

export interface SigningProxyOptions {
  /** The Function URL to forward to. */
  target: URL;
  region: string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Request bodies are read only with their size reserved here (429 otherwise). */
  bodyBudget?: BodyBudget;
}

/** What is forwarded of a browser's request: what the function can use, nothing that would not survive signing. */
const FORWARDED = ['content-type', 'accept', 'accept-language', 'origin', 'cookie', 'if-none-match', 'if-modified-since'];
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length']);

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: 'refused by the signing proxy', message }));
}

export function signingProxyHandler(options: SigningProxyOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { target } = options;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return async (req, res) => {
    const host = req.headers.host ?? '';
    if (!isAllowedHost(host)) return refuse(res, 403, `this proxy answers only at 127.0.0.1 or localhost, not ${host || 'a request without Host'}`);
    const method = req.method ?? 'GET';
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    if (!['GET', 'HEAD', 'OPTIONS'].includes(method)) {
      // It signs with the developer's credentials: a write must come from a page it served itself
      // (a browser always sends Origin with one; a form of another site sends its own).
      if (origin !== `http://${host}`) return refuse(res, 403, `a ${method} ${origin === undefined ? 'without Origin' : `from ${origin}`} is refused: only pages served by this proxy (http://${host}) may write through it`);
    } else if ((origin !== undefined && origin !== `http://${host}`) || (site === 'cross-site' && req.headers['sec-fetch-mode'] !== 'navigate')) {
      // Another site's fetch, <img> or <script> is not signed; following a link to the dashboard is.
      return refuse(res, 403, `a cross-site ${method} ${origin ? `from ${origin} ` : ''}is refused: only pages served by this proxy (http://${host}) may read through it`);
    }
    const size = declaredSize(req, MAX_PAYLOAD_BYTES);
    if (size > MAX_PAYLOAD_BYTES) return refuse(res, 413, 'a request through the proxy is at most 6 MB (upload files straight to S3)');
    const release = options.bodyBudget ? options.bodyBudget.reserve(size) : () => undefined;
    if (!release) return refuse(res, 429, 'too many large requests at once; try again');
    try {
      await forward(req, res, method, host);
    } finally {
      release();
    }
  };

  async function forward(req: IncomingMessage, res: ServerResponse, method: string, host: string): Promise<void> {
    const body = await readBody(req);
    if (body === 'too-large') return refuse(res, 413, 'a request through the proxy is at most 6 MB (upload files straight to S3)');
    const headers: Record<string, string> = { host: target.host };
    for (const name of FORWARDED) {
      const value = req.headers[name];
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    // The page's own origin is the proxy's; to the URL, the caller is the proxy's target origin.
    if (headers.origin) headers.origin = `http://${host}`;
    const url = `${target.pathname.replace(/\/$/, '')}${req.url ?? '/'}`;
    const signed = await signForUrl({ method, url, headers, body }, options.region, options.credentials);
    await new Promise<void>((resolve) => {
      const upstream = send(
        { protocol: target.protocol, hostname: target.hostname, port: target.port || undefined, method, path: url, headers: { ...signed, 'content-length': String(body.length) } },
        (answer) => {
          const out: string[] = [];
          for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) if (!HOP_BY_HOP.has(answer.rawHeaders[i]!.toLowerCase())) out.push(answer.rawHeaders[i]!, answer.rawHeaders[i + 1]!);
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => {
            const data = Buffer.concat(chunks);
            res.writeHead(answer.statusCode ?? 502, [...out, 'content-length', String(data.length)]);
            res.end(data);
            resolve();
          });
          answer.on('error', () => {
            refuse(res, 502, 'the Function URL closed the connection');
            resolve();
          });
        },
      );
      upstream.on('error', (error) => {
        refuse(res, 502, `the Function URL ${target.origin} does not answer: ${error.message}`);
        resolve();
      });
      upstream.end(body);
    });
  }
}

/** The region of a Function URL, from its domain: <id>.lambda-url.<region>.on.aws. */
export const regionOfUrl = (url: URL): string | undefined => /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(url.hostname)?.[1];

async function main(): Promise<void> {
  const [raw, portArg = '9080'] = process.argv.slice(2);
  if (!raw) {
    console.error('usage: npx tsx local-lambda/signing-proxy.ts <function-url> [port]  (credentials: your AWS profile or environment)');
    process.exit(2);
  }
  const target = new URL(raw);
  const region = regionOfUrl(target) ?? process.env.AWS_REGION;
  if (!region) throw new Error(`cannot tell the region of ${raw}: set AWS_REGION`);
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  const { createServer } = await import('node:http');
  const handle = signingProxyHandler({ target, region, credentials: defaultProvider() });
  createServer((req, res) => void handle(req, res).catch((error: unknown) => refuse(res, 500, (error as Error).message))).listen(Number(portArg), '127.0.0.1', () =>
    console.log(`open http://127.0.0.1:${portArg}/ : requests are signed with your AWS credentials and sent to ${target.origin}`),
  );
}

if (process.argv[1]?.endsWith('signing-proxy.ts')) {
  main().catch((error: unknown) => {
    console.error(`signing-proxy: ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
