// SigV4 for Function URLs with AWS_IAM auth, both ways, with the SDK's own signer (@smithy/signature-v4):
// - verify: the local Lambda service recomputes the signature of a request from the headers it
//   names as signed, as Lambda does, and refuses an unsigned, stale or mis-signed request;
// - sign: the signing proxy (local-lambda/signing-proxy.ts) signs what a browser sends.
// Locally any access key is accepted with LocalStack's secret, `test`.
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, SourceData } from '@smithy/types';

const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string' ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);

/** node:crypto in the shape the signer takes (a hash, or an HMAC with a secret). */
class Sha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

export const LOCAL_SECRET_ACCESS_KEY = 'test';
/** How far a request's X-Amz-Date may be from now: AWS allows 15 minutes. */
const MAX_SKEW_MS = 15 * 60_000;

export interface IncomingSigned {
  method: string;
  /** Path and query as received (still encoded). */
  url: string;
  /** Header names in lowercase; repeated headers joined with commas. */
  headers: Record<string, string>;
  body: Buffer;
}

/** A query string into the signer's map, values decoded ('+' kept, as SigV4 clients send spaces as %20). */
function queryOf(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const part of raw.split('&').filter(Boolean)) {
    const [k, v = ''] = part.split('=', 2) as [string, string?];
    const key = decodeURIComponent(k);
    const value = decodeURIComponent(v);
    const existing = query[key];
    query[key] = existing === undefined ? value : [...[existing].flat(), value];
  }
  return query;
}

function httpRequest(method: string, url: string, headers: Record<string, string>, body: Buffer): HttpRequest {
  const [path = '/', rawQuery = ''] = url.split('?', 2) as [string, string?];
  const [hostname = '', port] = (headers.host ?? '').split(':');
  return new HttpRequest({ method, protocol: 'http:', hostname, ...(port && { port: Number(port) }), path, query: queryOf(rawQuery), headers, body });
}

export type Verdict = { ok: true; accessKeyId: string } | { ok: false; message: string };

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/** Checks a request signed for `lambda` in `region`, as a Function URL with AWS_IAM auth does. */
export async function verifySigned(request: IncomingSigned, region: string, now = new Date(), secretFor = (_accessKeyId: string) => LOCAL_SECRET_ACCESS_KEY): Promise<Verdict> {
  const authorization = request.headers.authorization;
  if (!authorization) return { ok: false, message: 'Forbidden' };
  const m = AUTHORIZATION.exec(authorization);
  if (!m) return { ok: false, message: 'Authorization header requires a SigV4 Credential, SignedHeaders and Signature' };
  const [, accessKeyId, , scopeRegion, service, signedList, signature] = m as unknown as [string, string, string, string, string, string, string];
  if (service !== 'lambda' || scopeRegion !== region) return { ok: false, message: `Credential should be scoped to a valid region (${region}) and service (lambda), not ${scopeRegion}/${service}` };
  const amzDate = request.headers['x-amz-date'] ?? '';
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!date) return { ok: false, message: 'a signed request needs an X-Amz-Date header' };
  const signingDate = new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!));
  if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_SKEW_MS) return { ok: false, message: `Signature expired: ${amzDate} is more than 15 minutes from ${now.toISOString()}` };
  const signed = signedList.split(';');
  if (!signed.includes('host')) return { ok: false, message: 'the host header must be signed' };
  // The body is hashed here, whatever the client claims its hash is.
  const claimed = request.headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== createHash('sha256').update(request.body).digest('hex')) {
    return { ok: false, message: "The provided 'x-amz-content-sha256' header does not match what was computed." };
  }
  const headers = Object.fromEntries(signed.filter((h) => request.headers[h] !== undefined).map((h) => [h, request.headers[h]!]));
  const credentials: AwsCredentialIdentity = {
    accessKeyId,
    secretAccessKey: secretFor(accessKeyId),
    ...(request.headers['x-amz-security-token'] && { sessionToken: request.headers['x-amz-security-token'] }),
  };
  const signer = new SignatureV4({ service: 'lambda', region, credentials, sha256: Sha256, applyChecksum: false });
  const resigned = await signer.sign(httpRequest(request.method, request.url, headers, request.body), { signingDate, signableHeaders: new Set(signed) });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(resigned.headers.authorization))?.[1] ?? '';
  if (expected.length !== signature.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    return { ok: false, message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.' };
  }
  return { ok: true, accessKeyId };
}

/** Signs a request for a Function URL (service `lambda`): `url` is the path and query, `headers.host` the URL's host. Returns the headers to send. */
export async function signForUrl(
  request: { method: string; url: string; headers: Record<string, string>; body: Buffer },
  region: string,
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({ service: 'lambda', region, credentials, sha256: Sha256 });
  const signed = await signer.sign(httpRequest(request.method, request.url, request.headers, request.body));
  return signed.headers;
}
