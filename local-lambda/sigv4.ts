// SigV4 both ways, with the SDK's own signer (@smithy/signature-v4):
// - verify: a request's signature is recomputed from the headers (or, presigned, the query) it
//   names as signed, as AWS services do, and an unsigned, stale, mis-scoped or mis-signed request
//   is refused: Function URLs with AWS_IAM auth (any key with LocalStack's secret, `test`), and
//   the requests of functions, each with the secret of its own key; S3 POST policies likewise;
// - sign: the signing proxy (local-lambda/signing-proxy.ts) signs what a browser sends.
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { queryPairs } from './http-util';
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
  /** Set when the caller checks the body against its claimed x-amz-content-sha256 itself (a streamed upload). */
  bodyHash?: string;
}

/**
 * A query string into the signer's map, read as the Function URL event reads it (http-util.ts:
 * '+' is a space): the query a function receives is the one that was signed.
 */
function queryOf(raw: string): Record<string, string | string[]> {
  const joined = new Map<string, string | string[]>();
  for (const [key, value] of queryPairs(raw)) {
    const existing = joined.get(key);
    joined.set(key, existing === undefined ? value : [...[existing].flat(), value]);
  }
  return Object.fromEntries(joined);
}

/** A header of the request, by lowercase name; only its own (a header named `constructor` is not Object's). */
const headerOf = (headers: Readonly<Record<string, string>>, name: string): string | undefined => (Object.hasOwn(headers, name) ? headers[name] : undefined);

function httpRequest(method: string, url: string, headers: Record<string, string>, body: Buffer): HttpRequest {
  const [path = '/', rawQuery = ''] = url.split('?', 2) as [string, string?];
  const [hostname = '', port] = (headerOf(headers, 'host') ?? '').split(':');
  return new HttpRequest({ method, protocol: 'http:', hostname, ...(port && { port: Number(port) }), path, query: queryOf(rawQuery), headers, body });
}

export type Verdict = { ok: true; accessKeyId: string } | { ok: false; message: string };

/** What a verified request was signed as: the key, and the service and region of its scope. */
export type SignatureVerdict = { ok: true; accessKeyId: string; service: string; region: string } | { ok: false; reason: SignatureFailure; message: string };

/** Why a signature is refused, in the words AWS services use (each service has its own code for each). */
export type SignatureFailure = 'missing' | 'malformed' | 'scope' | 'expired' | 'unknown-key' | 'mismatch';

export interface VerifyOptions {
  region: string;
  /** The services a request may be signed for. */
  services: readonly string[];
  now?: Date;
  /** The secret of an access key; undefined: no such key. */
  secretFor?: (accessKeyId: string) => string | undefined;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;._-]+), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
/** Payload hashes S3 accepts in place of the body's SHA-256. */
const UNHASHED_PAYLOADS = new Set(['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']);

const parseAmzDate = (value: string): Date | undefined => {
  const d = AMZ_DATE.exec(value);
  return d ? new Date(Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!)) : undefined;
};

const refuse = (reason: SignatureFailure, message: string): { ok: false; reason: SignatureFailure; message: string } => ({ ok: false, reason, message });
const MISMATCH = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.';

const sameSignature = (expected: string, actual: string) => expected.length === actual.length && timingSafeEqual(Buffer.from(expected), Buffer.from(actual));

/**
 * Checks a SigV4-signed request, as AWS services do: signed in the Authorization header, or in the
 * query string (a presigned URL). The service of the scope must be one of `services`; S3's paths
 * are signed as sent, the others' escaped once more, as the SDK signs them.
 */
export async function verifyRequest(request: IncomingSigned, options: VerifyOptions): Promise<SignatureVerdict> {
  const parsed = parseSigned(request, options);
  if (!parsed.ok) return parsed;
  const { accessKeyId, secretAccessKey, scopeRegion, service, signed, signature, signingDate, expiresSeconds, presigned, path, query } = parsed;
  // The body is hashed here, whatever the client claims its hash is (S3 may sign no payload).
  const claimed = headerOf(request.headers, 'x-amz-content-sha256');
  if (!presigned && request.bodyHash === undefined && claimed !== undefined && !(service === 's3' && UNHASHED_PAYLOADS.has(claimed)) && claimed !== createHash('sha256').update(request.body).digest('hex')) {
    return refuse('mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const headers: Record<string, string> = Object.fromEntries(signed.map((h) => [h, headerOf(request.headers, h)!]));
  const sessionToken = headerOf(request.headers, 'x-amz-security-token') ?? (typeof query['X-Amz-Security-Token'] === 'string' ? query['X-Amz-Security-Token'] : undefined);
  const credentials: AwsCredentialIdentity = { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) };
  const signer = new SignatureV4({ service, region: scopeRegion, credentials, sha256: Sha256, applyChecksum: false, uriEscapePath: service !== 's3' });
  let expected: string;
  if (presigned) {
    // The query without what presign adds back itself.
    const rest = Object.fromEntries(Object.entries(query).filter(([k]) => !/^X-Amz-(Algorithm|Credential|Date|Expires|SignedHeaders|Signature|Security-Token|Content-Sha256)$/.test(k)));
    // A payload hash in the query (S3's UNSIGNED-PAYLOAD) was a header the presigner hoisted.
    const payload: Record<string, string> = typeof query['X-Amz-Content-Sha256'] === 'string' ? { 'X-Amz-Content-Sha256': query['X-Amz-Content-Sha256'] } : {};
    const unsigned = new HttpRequest({ ...httpRequest(request.method, path, { ...headers, ...payload }, Buffer.alloc(0)), query: rest });
    const again = await signer.presign(unsigned, { signingDate, expiresIn: expiresSeconds, signableHeaders: new Set(signed), unhoistableHeaders: new Set(Object.keys(headers)) });
    expected = String(again.query?.['X-Amz-Signature'] ?? '');
  } else {
    const again = await signer.sign(httpRequest(request.method, request.url, headers, request.body), { signingDate, signableHeaders: new Set(signed) });
    expected = /Signature=([0-9a-f]{64})/.exec(String(again.headers.authorization))?.[1] ?? '';
  }
  if (!sameSignature(expected, signature)) return refuse('mismatch', MISMATCH);
  return { ok: true, accessKeyId, service, region: scopeRegion };
}

interface ParsedSignature {
  ok: true;
  accessKeyId: string;
  secretAccessKey: string;
  scopeRegion: string;
  service: string;
  /** The signed header names, each one the request carries. */
  signed: string[];
  signature: string;
  signingDate: Date;
  expiresSeconds: number | undefined;
  presigned: boolean;
  path: string;
  query: Record<string, string | string[]>;
}

/** Header names as SigV4 lists them: lowercase, sorted, no repeats, none empty. */
const SIGNED_HEADER = /^[a-z0-9][a-z0-9._-]*$/;

/**
 * Everything of a signature that can be checked without the body: its form, scope, date, the key,
 * and that each signed header (host first of all) is one the request carries.
 */
function parseSigned(request: Omit<IncomingSigned, 'body'>, options: VerifyOptions): ParsedSignature | { ok: false; reason: SignatureFailure; message: string } {
  const { region, services, now = new Date(), secretFor = () => LOCAL_SECRET_ACCESS_KEY } = options;
  const [path = '/', rawQuery = ''] = request.url.split('?', 2) as [string, string?];
  const query = queryOf(rawQuery);
  const presigned = query['X-Amz-Credential'] !== undefined;
  let accessKeyId: string, scopeRegion: string, service: string, signedList: string, signature: string, amzDate: string;
  let expiresSeconds: number | undefined;
  if (presigned) {
    const credential = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(String(query['X-Amz-Credential']));
    if (query['X-Amz-Algorithm'] !== 'AWS4-HMAC-SHA256' || !credential || typeof query['X-Amz-Signature'] !== 'string' || typeof query['X-Amz-SignedHeaders'] !== 'string') {
      return refuse('malformed', 'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
    }
    [, accessKeyId, , scopeRegion, service] = credential as unknown as [string, string, string, string, string];
    signedList = query['X-Amz-SignedHeaders'];
    signature = query['X-Amz-Signature'];
    amzDate = String(query['X-Amz-Date'] ?? '');
    expiresSeconds = Number(query['X-Amz-Expires']);
    if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > 604_800) return refuse('malformed', 'X-Amz-Expires must be a whole number of seconds from 1 to 604800');
  } else {
    const authorization = headerOf(request.headers, 'authorization');
    if (!authorization) return refuse('missing', 'Missing Authentication Token');
    const m = AUTHORIZATION.exec(authorization);
    if (!m) return refuse('malformed', 'Authorization header requires a SigV4 Credential, SignedHeaders and Signature');
    [, accessKeyId, , scopeRegion, service, signedList, signature] = m as unknown as [string, string, string, string, string, string, string];
    amzDate = headerOf(request.headers, 'x-amz-date') ?? '';
  }
  if (!services.includes(service) || scopeRegion !== region) return refuse('scope', `Credential should be scoped to a valid region (${region}) and service (${services.join(' or ')}), not ${scopeRegion}/${service}`);
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) return refuse('malformed', 'a signed request needs an X-Amz-Date');
  if (expiresSeconds !== undefined) {
    if (now.getTime() > signingDate.getTime() + expiresSeconds * 1000) return refuse('expired', 'Request has expired');
    if (signingDate.getTime() - now.getTime() > MAX_SKEW_MS) return refuse('expired', `Signature not yet current: ${amzDate} is after ${now.toISOString()}`);
  } else if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_SKEW_MS) {
    return refuse('expired', `Signature expired: ${amzDate} is more than 15 minutes from ${now.toISOString()}`);
  }
  const signed = signedList.split(';');
  if (!signed.every((h) => SIGNED_HEADER.test(h))) return refuse('malformed', `SignedHeaders ${JSON.stringify(signedList.slice(0, 200))} is not a list of header names`);
  if (!signed.includes('host')) return refuse('malformed', 'the host header must be signed');
  // Each signed header is one the request carries (an own entry: `constructor` is not a header here).
  const absent = signed.filter((h) => headerOf(request.headers, h) === undefined);
  if (absent.length > 0) return refuse('malformed', `SignedHeaders names ${absent.slice(0, 5).join(', ')}, which the request does not carry`);
  const secretAccessKey = secretFor(accessKeyId);
  if (secretAccessKey === undefined) return refuse('unknown-key', 'The security token included in the request is invalid.');
  return { ok: true, accessKeyId, secretAccessKey, scopeRegion, service, signed, signature, signingDate, expiresSeconds, presigned, path, query };
}

/**
 * What a Function URL with AWS_IAM auth checks before it reads the body: a signature is there, for
 * `lambda` in `region`, current, signing the host (the Host the request came to) and only headers it
 * carries. The signature itself is checked once the body is read (verifySigned).
 */
export function precheckSigned(request: Omit<IncomingSigned, 'body'>, region: string, now = new Date()): Verdict {
  if (!headerOf(request.headers, 'authorization') && !request.url.includes('X-Amz-Credential=')) return { ok: false, message: 'Forbidden' };
  const parsed = parseSigned(request, { region, services: ['lambda'], now });
  return parsed.ok ? { ok: true, accessKeyId: parsed.accessKeyId } : { ok: false, message: parsed.message };
}

/** Checks a request signed for `lambda` in `region`, as a Function URL with AWS_IAM auth does. */
export async function verifySigned(request: IncomingSigned, region: string, now = new Date(), secretFor = (_accessKeyId: string) => LOCAL_SECRET_ACCESS_KEY): Promise<Verdict> {
  if (!headerOf(request.headers, 'authorization') && !request.url.includes('X-Amz-Credential=')) return { ok: false, message: 'Forbidden' };
  const verdict = await verifyRequest(request, { region, services: ['lambda'], now, secretFor });
  return verdict.ok ? { ok: true, accessKeyId: verdict.accessKeyId } : { ok: false, message: verdict.message };
}

/** The signing key of SigV4 (date, region, service), as AWS derives it. */
function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/**
 * Checks the signature of an S3 POST upload's policy (a presigned POST), as S3 does: the form's
 * `Policy` (base64) signed with the key of its X-Amz-Credential, unexpired. Returns the access key.
 */
export function verifyPostPolicy(fields: Readonly<Record<string, string>>, options: Omit<VerifyOptions, 'services'>): SignatureVerdict {
  const { region, now = new Date(), secretFor = () => LOCAL_SECRET_ACCESS_KEY } = options;
  const field = (name: string) => Object.entries(fields).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  const policy = field('Policy');
  const signature = field('X-Amz-Signature');
  const credential = /^([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request$/.exec(field('X-Amz-Credential') ?? '');
  if (!policy || !signature || !credential || field('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return refuse('missing', 'Bucket POST must contain a field named Policy, X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date and X-Amz-Signature');
  const [, accessKeyId, date, scopeRegion] = credential as unknown as [string, string, string, string];
  if (scopeRegion !== region) return refuse('scope', `Credential should be scoped to a valid region (${region}), not ${scopeRegion}`);
  let expiration: number;
  try {
    expiration = Date.parse((JSON.parse(Buffer.from(policy, 'base64').toString('utf8')) as { expiration?: string }).expiration ?? '');
  } catch {
    return refuse('malformed', 'Invalid Policy: Invalid JSON.');
  }
  if (!Number.isFinite(expiration)) return refuse('malformed', 'Invalid Policy: Policy missing expiration.');
  if (now.getTime() > expiration) return refuse('expired', 'Invalid according to Policy: Policy expired.');
  const secret = secretFor(accessKeyId);
  if (secret === undefined) return refuse('unknown-key', 'The AWS Access Key Id you provided does not exist in our records.');
  const expected = createHmac('sha256', signingKey(secret, date, region, 's3')).update(policy).digest('hex');
  if (!sameSignature(expected, signature)) return refuse('mismatch', MISMATCH);
  return { ok: true, accessKeyId, service: 's3', region };
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
