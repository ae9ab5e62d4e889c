// A Lambda Function URL's contract, as pure functions: the HTTP request as a payload-format-2.0
// event, the function's answer back as an HTTP response, and the URL's CORS configuration applied
// as Lambda applies it (preflights answered without invoking, headers added to every answer).
import { queryPairs } from './http-util';

export interface UrlRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  /** Raw header pairs, in order (node's rawHeaders): repeated headers stay repeated. */
  rawHeaders: string[];
  body: Buffer;
  sourceIp: string;
}

export interface UrlContext {
  requestId: string;
  accountId: string;
  /** The URL id: the first label of its domain. */
  urlId: string;
  region: string;
  now: Date;
  /** Who signed (AWS_IAM); absent for NONE. */
  caller?: { accessKeyId: string; accountId: string };
}

export interface UrlResponse {
  status: number;
  /** Pairs: Set-Cookie may repeat. */
  headers: Array<[string, string]>;
  body: Buffer;
}

/** The path decoded, as Lambda puts it in requestContext.http.path; a malformed escape stays as sent. */
function decodePath(rawPath: string): string {
  try {
    return decodeURIComponent(rawPath);
  } catch {
    return rawPath;
  }
}

/** A URL's id, the first label of its domain: the function name hex-padded the way AWS's ids look (stable across restarts). */
export const urlIdOf = (fn: string): string => Buffer.from(fn).toString('hex').padEnd(32, '0').slice(0, 32);

/** Content types Lambda passes as text; anything else arrives base64-encoded. */
const TEXT_TYPE = /^(text\/|application\/(json|javascript|xml|x-www-form-urlencoded|[\w.+-]+\+(json|xml))\b)/i;

/** `24/Nov/2026:21:46:36 +0000`, as requestContext.time reads. */
function clfTime(d: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Header pairs as a map: names lowercased, repeats joined with commas (as SigV4 and Lambda join them). */
export function headerMap(rawHeaders: string[]): Record<string, string> {
  const joined = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    joined.set(name, joined.has(name) ? `${joined.get(name)},${rawHeaders[i + 1]!}` : rawHeaders[i + 1]!);
  }
  // fromEntries: a header named `constructor` or `__proto__` is an own property like any other.
  return Object.fromEntries(joined);
}

/** Header pairs into Lambda's event shape: the cookies apart, in their own list. */
export function headersOf(rawHeaders: string[]): { headers: Record<string, string>; cookies: string[] } {
  const { cookie, ...headers } = headerMap(rawHeaders);
  return { headers, cookies: (cookie ?? '').split(/[;,]\s*/).filter(Boolean) };
}

export function toUrlEvent(req: UrlRequest, ctx: UrlContext): Record<string, unknown> {
  const [rawPath = '/', rawQueryString = ''] = req.url.split('?', 2) as [string, string?];
  const { headers, cookies } = headersOf(req.rawHeaders);
  // The query as the signature check read it (http-util.ts): what was signed is what arrives.
  const joined = new Map<string, string>();
  for (const [key, value] of queryPairs(rawQueryString)) joined.set(key, joined.has(key) ? `${joined.get(key)},${value}` : value);
  // fromEntries: every name, `__proto__` included, becomes an own property.
  const query: Record<string, string> = Object.fromEntries(joined);
  const text = TEXT_TYPE.test(headers['content-type'] ?? '');
  const domainName = `${ctx.urlId}.lambda-url.${ctx.region}.on.aws`;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(Object.keys(query).length > 0 && { queryStringParameters: query }),
    requestContext: {
      accountId: ctx.accountId,
      apiId: ctx.urlId,
      ...(ctx.caller && {
        authorizer: {
          iam: {
            accessKey: ctx.caller.accessKeyId,
            accountId: ctx.caller.accountId,
            callerId: ctx.caller.accessKeyId,
            cognitoIdentity: null,
            principalOrgId: null,
            userArn: `arn:aws:iam::${ctx.caller.accountId}:root`,
            userId: ctx.caller.accessKeyId,
          },
        },
      }),
      domainName,
      domainPrefix: ctx.urlId,
      http: { method: req.method, path: decodePath(rawPath), protocol: 'HTTP/1.1', sourceIp: req.sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: ctx.requestId,
      routeKey: '$default',
      stage: '$default',
      time: clfTime(ctx.now),
      timeEpoch: ctx.now.getTime(),
    },
    ...(req.body.length > 0 && { body: text ? req.body.toString('utf8') : req.body.toString('base64') }),
    isBase64Encoded: req.body.length > 0 && !text,
  };
}

/**
 * The function's answer as an HTTP response. An object with a statusCode is a response; any other
 * JSON is the body of a 200 application/json (Lambda's shortcut); what is not JSON is an error.
 */
export function fromUrlPayload(payload: Buffer): UrlResponse {
  let answer: unknown;
  try {
    answer = JSON.parse(payload.toString('utf8') || 'null');
  } catch {
    return badGateway();
  }
  const r = answer as { statusCode?: unknown; headers?: Record<string, unknown>; body?: unknown; isBase64Encoded?: boolean; cookies?: unknown[] } | null;
  if (r === null || typeof r !== 'object' || Array.isArray(r) || r.statusCode === undefined) {
    return { status: 200, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify(answer)) };
  }
  const status = Number(r.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) return badGateway();
  const headers: Array<[string, string]> = Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]);
  for (const cookie of r.cookies ?? []) headers.push(['set-cookie', String(cookie)]);
  const body = typeof r.body === 'string' ? Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8') : r.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(r.body));
  return { status, headers, body };
}

/** What a Function URL answers when the function fails or answers nonsense. */
export const badGateway = (): UrlResponse => ({ status: 502, headers: [['content-type', 'application/json']], body: Buffer.from('{"Message":"Internal Server Error"}') });

/** A Function URL's CORS configuration (AWS::Lambda::Url Cors), every list optional as in the template. */
export interface UrlCors {
  allowOrigins?: string[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAge?: number;
  allowCredentials?: boolean;
}
type Cors = UrlCors;

const allowedOrigin = (cors: Cors, origin: string | undefined): string | undefined => {
  if (!origin) return undefined;
  if (cors.allowOrigins?.includes('*')) return cors.allowCredentials ? origin : '*';
  return cors.allowOrigins?.includes(origin) ? origin : undefined;
};

/** A CORS preflight the URL answers itself, or undefined when the request is not one. */
export function preflight(cors: Cors | undefined, method: string, headers: Record<string, string>): UrlResponse | undefined {
  if (!cors || method !== 'OPTIONS' || !headers.origin || !headers['access-control-request-method']) return undefined;
  const origin = allowedOrigin(cors, headers.origin);
  const requested = headers['access-control-request-method'].toUpperCase();
  const methodOk = Boolean(cors.allowMethods?.includes('*') || cors.allowMethods?.includes(requested));
  const out: Array<[string, string]> = [['vary', 'Origin']];
  if (origin && methodOk) {
    out.push(['access-control-allow-origin', origin], ['access-control-allow-methods', (cors.allowMethods ?? []).join(',')]);
    if (cors.allowHeaders?.length) out.push(['access-control-allow-headers', cors.allowHeaders.join(',')]);
    if (cors.maxAge !== undefined) out.push(['access-control-max-age', String(cors.maxAge)]);
    if (cors.allowCredentials) out.push(['access-control-allow-credentials', 'true']);
  }
  return { status: 200, headers: out, body: Buffer.alloc(0) };
}

/** The URL's CORS headers on an answer (they replace any the function set). */
export function withCors(cors: Cors | undefined, origin: string | undefined, response: UrlResponse): UrlResponse {
  if (!cors) return response;
  const headers = response.headers.filter(([k]) => !k.startsWith('access-control-'));
  const allowed = allowedOrigin(cors, origin);
  if (allowed) {
    headers.push(['access-control-allow-origin', allowed]);
    if (cors.exposeHeaders?.length) headers.push(['access-control-expose-headers', cors.exposeHeaders.join(',')]);
    if (cors.allowCredentials) headers.push(['access-control-allow-credentials', 'true']);
  }
  headers.push(['vary', 'Origin']);
  return { ...response, headers };
}
