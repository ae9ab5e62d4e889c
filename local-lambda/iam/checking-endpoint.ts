// The endpoint functions reach AWS through locally (their AWS_ENDPOINT_URL): it checks each request
// as AWS would before LocalStack (which checks nothing) serves it.
//   1. The signature (SigV4 in the header, a presigned URL's query, or an S3 POST policy), made
//      with the credentials of one function of this run (function-credentials.ts).
//   2. The IAM action(s) and resource(s) of the request (request-actions.ts), evaluated for the
//      function's role against its identity policies and the resource's policy from the template
//      (policy-evaluation.ts, template-policies.ts).
//   3. Allowed: forwarded to LocalStack as sent, the answer streamed back. Denied: the service's own
//      AccessDenied answer with AWS's message. IAM_MODE=warn forwards and logs the denial instead;
//      off forwards everything unchecked.
// Bodies: what must be read to decide (DynamoDB, SNS, SQS, S3 DeleteObjects) is read whole, up to
// 16 MB; an S3 upload is streamed, its SHA-256 checked as it passes and the upload cut off before
// its last byte reaches LocalStack when it does not match; a POST upload's form fields are read up
// to its file.
import { createHash, randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import type { Logger } from 'pino';
import { readBody } from '../http-util';
import { verifyPostPolicy, verifyRequest, type SignatureFailure, type SignatureVerdict } from '../sigv4';
import type { FunctionCredentials } from './function-credentials';
import { evaluate, type Decision, type PolicyDocument, type RequestPrincipal } from './policy-evaluation';
import { requiredPermissions, UnmappedRequestError, type RequiredPermission } from './request-actions';

export type IamMode = 'enforce' | 'warn' | 'off';

export const CHECKED_SERVICES = ['s3', 'dynamodb', 'sns', 'sqs'] as const;
const MAX_READ_BODY = 16 * 1024 * 1024;
const FORM_HEAD_LIMIT = 64 * 1024;

export interface CallerRole {
  roleArn: string;
  roleName: string;
  policies: readonly PolicyDocument[];
}

export interface CheckingEndpointDeps {
  /** LocalStack. */
  upstream: URL;
  region: string;
  account: string;
  mode: IamMode;
  credentials: FunctionCredentials;
  /** The role a function runs as (undefined: a function without a role in the template). */
  roleOf(functionName: string): CallerRole | undefined;
  /** The policy attached to a bucket, topic or queue (by its ARN). */
  resourcePolicy(arn: string): PolicyDocument | undefined;
  logger: Logger;
  now?: () => Date;
  /** Each checked request: who, what, the decision, and how long the check took. */
  onChecked?: (entry: { function: string; permissions: RequiredPermission[]; allowed: boolean; checkMs: number }) => void;
}

type Service = (typeof CHECKED_SERVICES)[number];

/** The bucket, topic or queue whose policy governs a resource. */
export function policyOwner(resource: string): string {
  const s3 = /^arn:aws:s3:::([^/]+)/.exec(resource);
  return s3 ? `arn:aws:s3:::${s3[1]}` : resource;
}

interface Refusal {
  status: number;
  code: string;
  message: string;
}

/** The service's own error answer (S3 and SNS: XML; DynamoDB and SQS: JSON), as the SDKs parse it. */
function refusalBody(service: Service | undefined, refusal: Refusal, requestId: string, jsonProtocol: boolean): { body: string; headers: Record<string, string> } {
  const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  if (service === 's3' || service === undefined) {
    return { body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal.code}</Code><Message>${xml(refusal.message)}</Message><RequestId>${requestId}</RequestId><HostId>local</HostId></Error>`, headers: { 'Content-Type': 'application/xml' } };
  }
  if (service === 'sns' && !jsonProtocol) {
    return {
      body: `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>${refusal.code}</Code><Message>${xml(refusal.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      headers: { 'Content-Type': 'text/xml' },
    };
  }
  return {
    body: JSON.stringify({ __type: `com.amazon.coral.service#${refusal.code}`, message: refusal.message, Message: refusal.message }),
    headers: { 'Content-Type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${refusal.code};Sender` },
  };
}

/** What each service answers to a signature it refuses. */
function signatureRefusal(service: Service | undefined, reason: SignatureFailure, message: string): Refusal {
  if (service === 's3' || service === undefined) {
    const code = reason === 'unknown-key' ? 'InvalidAccessKeyId' : reason === 'mismatch' ? 'SignatureDoesNotMatch' : 'AccessDenied';
    return { status: reason === 'malformed' ? 400 : 403, code, message: reason === 'unknown-key' ? 'The AWS Access Key Id you provided does not exist in our records.' : reason === 'missing' ? 'Access Denied' : message };
  }
  const code = { missing: 'MissingAuthenticationTokenException', malformed: 'IncompleteSignatureException', scope: 'InvalidSignatureException', expired: 'InvalidSignatureException', 'unknown-key': 'UnrecognizedClientException', mismatch: 'InvalidSignatureException' }[reason];
  return { status: service === 'dynamodb' ? 400 : 403, code: service === 'dynamodb' ? code : code.replace(/Exception$/, ''), message };
}

/** The AccessDenied of each service for a denied action. */
function denialRefusal(service: Service, message: string): Refusal {
  if (service === 's3') return { status: 403, code: 'AccessDenied', message };
  if (service === 'sns') return { status: 403, code: 'AuthorizationError', message };
  if (service === 'sqs') return { status: 403, code: 'AccessDenied', message };
  return { status: 400, code: 'AccessDeniedException', message };
}

const serviceOf = (req: IncomingMessage, url: URL): Service | undefined => {
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? /^[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(url.searchParams.get('X-Amz-Credential') ?? '')?.[1];
  if (scope) return (CHECKED_SERVICES as readonly string[]).includes(scope) ? (scope as Service) : undefined;
  // An unsigned request: S3 is the one whose requests carry no target header (a browser's POST upload).
  return req.headers['x-amz-target'] ? (String(req.headers['x-amz-target']).startsWith('DynamoDB') ? 'dynamodb' : 'sqs') : 's3';
};

const headersOf = (req: IncomingMessage): Record<string, string> =>
  Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v ?? '')]));

/** The first bytes of a multipart form, up to the start of its file part (or `limit`); the rest stays unread. */
function readFormHead(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: Buffer | Error) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      const head = Buffer.concat(chunks);
      if (size >= limit || /name="file"/i.test(head.toString('latin1'))) {
        req.pause();
        done(head);
      }
    };
    const onEnd = () => done(Buffer.concat(chunks));
    const onError = (error: Error) => done(error);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** The fields of a multipart form's head (those before the file). */
export function formFields(head: Buffer, contentType: string): Record<string, string> {
  const boundary = /boundary=("?)([^";]+)\1/i.exec(contentType)?.[2];
  if (!boundary) return {};
  const fields: Record<string, string> = {};
  for (const part of head.toString('latin1').split(`--${boundary}`)) {
    const [rawHeaders, ...rest] = part.split('\r\n\r\n');
    const name = /content-disposition:\s*form-data;\s*name="([^"]+)"/i.exec(rawHeaders ?? '')?.[1];
    if (!name || /filename=/i.test(rawHeaders ?? '') || rest.length === 0) continue;
    fields[name] = Buffer.from(rest.join('\r\n\r\n').replace(/\r\n$/, ''), 'latin1').toString('utf8');
  }
  return fields;
}

/** Passes bytes on, holding back the last chunk until the whole body's SHA-256 is the one claimed. */
class HashCheck extends Transform {
  private readonly hash = createHash('sha256');
  private held: Buffer | undefined;
  mismatch = false;
  constructor(private readonly claimed: string) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    if (this.held) this.push(this.held);
    this.held = chunk;
    callback();
  }
  override _flush(callback: TransformCallback): void {
    if (this.hash.digest('hex') !== this.claimed) {
      this.mismatch = true;
      callback(new Error("The provided 'x-amz-content-sha256' header does not match what was computed."));
      return;
    }
    if (this.held) this.push(this.held);
    callback();
  }
}

export function checkingEndpointHandler(deps: CheckingEndpointDeps) {
  const now = deps.now ?? (() => new Date());

  const refuse = (res: ServerResponse, req: IncomingMessage, service: Service | undefined, refusal: Refusal) => {
    const requestId = randomUUID();
    const { body, headers } = refusalBody(service, refusal, requestId, String(req.headers['content-type'] ?? '').includes('x-amz-json'));
    if (res.headersSent || res.destroyed) return;
    const data = req.method === 'HEAD' ? '' : body;
    res.writeHead(refusal.status, { ...headers, 'Content-Length': String(Buffer.byteLength(data)), 'x-amzn-RequestId': requestId, 'x-amz-request-id': requestId });
    res.end(data);
  };

  /** Sends the request on to LocalStack: `prefix` (bytes already read) then the rest of `req`, or `body`. */
  const forward = (req: IncomingMessage, res: ServerResponse, body: { whole: Buffer } | { prefix: Buffer; check?: HashCheck }, missingIsDenied = false) => {
    // The client's 100-continue was answered here already.
    const { expect: _expect, ...sent } = req.headers;
    const headers = { ...sent, host: deps.upstream.host };
    const upstream = httpRequest({ host: deps.upstream.hostname, port: deps.upstream.port, method: req.method, path: req.url, headers }, (answer) => {
      if (missingIsDenied && answer.statusCode === 404) {
        // S3 answers a missing key with 404 only to who may list the bucket; others get 403.
        answer.resume();
        refuse(res, req, 's3', { status: 403, code: 'AccessDenied', message: 'Access Denied' });
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    let cutOff = false;
    upstream.on('error', (error) => {
      if (cutOff) return;
      if (!res.headersSent) refuse(res, req, 's3', { status: 502, code: 'ServiceUnavailable', message: `LocalStack did not answer: ${error.message}` });
      else res.destroy();
    });
    if ('whole' in body) {
      upstream.end(body.whole);
      return;
    }
    const check = body.check;
    if (req.readableEnded) {
      // All of it was read already.
      upstream.end(body.prefix);
      return;
    }
    if (!check) {
      if (body.prefix.length) upstream.write(body.prefix);
      req.pipe(upstream);
      req.resume();
      return;
    }
    check.on('error', () => {
      // Cut off before the last byte: LocalStack never sees a whole upload.
      cutOff = true;
      upstream.destroy();
      refuse(res, req, 's3', { status: 400, code: 'XAmzContentSHA256Mismatch', message: "The provided 'x-amz-content-sha256' header does not match what was computed." });
    });
    check.pipe(upstream);
    if (body.prefix.length) check.write(body.prefix);
    req.pipe(check);
    req.resume();
  };

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://checker');
    } catch {
      return refuse(res, req, undefined, { status: 400, code: 'InvalidURI', message: 'Couldn\'t parse the specified URI.' });
    }
    if (deps.mode === 'off' || req.method === 'OPTIONS') {
      // CORS preflights carry no credentials, on AWS as here.
      return forward(req, res, { prefix: Buffer.alloc(0) });
    }
    const service = serviceOf(req, url);
    if (!service) return refuse(res, req, undefined, { status: 403, code: 'AccessDenied', message: 'the local checking endpoint serves S3, DynamoDB, SNS and SQS only' });
    const headers = headersOf(req);
    const contentType = headers['content-type'] ?? '';
    const isFormUpload = service === 's3' && req.method === 'POST' && /^multipart\/form-data/i.test(contentType) && !headers.authorization;
    const claimed = headers['x-amz-content-sha256'];
    const streamed = service === 's3' && !isFormUpload && !(req.method === 'POST' && url.searchParams.has('delete')) && claimed !== undefined && /^[0-9a-f]{64}$/.test(claimed);
    const unhashed = service === 's3' && claimed !== undefined && !/^[0-9a-f]{64}$/.test(claimed);

    let body: Buffer;
    let verdict: SignatureVerdict;
    if (isFormUpload) {
      body = await readFormHead(req, FORM_HEAD_LIMIT);
      verdict = verifyPostPolicy(formFields(body, contentType), { region: deps.region, now: now(), secretFor: (k) => deps.credentials.secretFor(k) });
    } else if (streamed || unhashed) {
      // The signature covers the claimed hash; the body is checked against it as it passes.
      body = Buffer.alloc(0);
      verdict = await verifyRequest({ method: req.method ?? 'GET', url: req.url ?? '/', headers, body, bodyHash: claimed }, { region: deps.region, services: CHECKED_SERVICES, now: now(), secretFor: (k) => deps.credentials.secretFor(k) });
    } else {
      const read = await readBody(req, MAX_READ_BODY);
      if (read === 'too-large') return refuse(res, req, service, { status: 413, code: 'RequestEntityTooLarge', message: `a ${service} request body over ${MAX_READ_BODY} bytes is more than the local checking endpoint reads` });
      body = read;
      verdict = await verifyRequest({ method: req.method ?? 'GET', url: req.url ?? '/', headers, body }, { region: deps.region, services: CHECKED_SERVICES, now: now(), secretFor: (k) => deps.credentials.secretFor(k) });
    }
    if (!verdict.ok) return refuse(res, req, service, signatureRefusal(service, verdict.reason, verdict.message));
    const fn = deps.credentials.functionOf(verdict.accessKeyId)!;
    const token = headers['x-amz-security-token'] ?? url.searchParams.get('X-Amz-Security-Token') ?? undefined;
    if (!isFormUpload && token !== deps.credentials.sessionTokenFor(verdict.accessKeyId)) {
      return refuse(res, req, service, signatureRefusal(service, 'unknown-key', 'The security token included in the request is invalid.'));
    }

    let missingIsDenied = false;
    const forwardRead = () =>
      streamed ? forward(req, res, { prefix: Buffer.alloc(0), check: new HashCheck(claimed!) }, missingIsDenied) : unhashed || isFormUpload ? forward(req, res, { prefix: body }) : forward(req, res, { whole: body }, missingIsDenied);
    const role = deps.roleOf(fn);
    let permissions: RequiredPermission[];
    try {
      permissions = requiredPermissions({ service, region: deps.region, account: deps.account, method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, body });
    } catch (error) {
      if (!(error instanceof UnmappedRequestError)) throw error;
      if (deps.mode === 'warn') {
        deps.logger.warn({ function: fn, iam: 'unmapped' }, error.message);
        return forwardRead();
      }
      return refuse(res, req, service, { status: service === 'dynamodb' ? 400 : 403, code: service === 's3' ? 'AccessDenied' : service === 'sns' ? 'AuthorizationError' : 'AccessDeniedException', message: error.message });
    }
    const principal: RequestPrincipal = role
      ? { kind: 'role', account: deps.account, roleArn: role.roleArn, sessionArn: `arn:aws:sts::${deps.account}:assumed-role/${role.roleName}/${fn}` }
      : { kind: 'role', account: deps.account, roleArn: `arn:aws:iam::${deps.account}:role/none`, sessionArn: `arn:aws:sts::${deps.account}:assumed-role/none/${fn}` };
    let denied: Decision | undefined;
    for (const p of permissions) {
      const decision = evaluate(
        {
          principal,
          action: p.action,
          resource: p.resource,
          // Functions reach AWS over TLS: the local hop in plain HTTP stands for it.
          context: { 'aws:SecureTransport': 'true', 'aws:PrincipalArn': principal.kind === 'role' ? principal.roleArn : '', 'aws:PrincipalAccount': deps.account, 'aws:CurrentTime': now().toISOString(), ...p.context },
        },
        { identity: role?.policies ?? [], resource: deps.resourcePolicy(policyOwner(p.resource)) },
      );
      if (!decision.allowed) {
        denied = decision;
        break;
      }
    }
    const reads = service === 's3' && (req.method === 'GET' || req.method === 'HEAD') ? permissions.find((p) => p.action === 's3:GetObject' || p.action === 's3:GetObjectVersion') : undefined;
    if (!denied && reads && deps.mode === 'enforce') {
      const bucket = policyOwner(reads.resource);
      missingIsDenied = !evaluate({ principal, action: 's3:ListBucket', resource: bucket, context: { 'aws:SecureTransport': 'true' } }, { identity: role?.policies ?? [], resource: deps.resourcePolicy(bucket) }).allowed;
    }
    deps.onChecked?.({ function: fn, permissions, allowed: !denied, checkMs: performance.now() - started });
    if (denied && !denied.allowed) {
      if (deps.mode === 'enforce') {
        deps.logger.info({ function: fn, iam: 'denied', action: permissions.map((p) => p.action).join(',') }, denied.message);
        return refuse(res, req, service, denialRefusal(service, denied.message));
      }
      deps.logger.warn({ function: fn, iam: 'would deny' }, denied.message);
    }
    return forwardRead();
  };
}
