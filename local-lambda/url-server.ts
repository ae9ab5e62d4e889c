// A function's URL, served over HTTP by the local Lambda service as Lambda serves a Function URL:
// CORS preflights answered without invoking, AWS_IAM requests checked for a valid SigV4 signature
// (403 otherwise), the request invoked as a payload-format-2.0 event, the answer mapped back.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { UrlPlan } from './template/plan';
import type { FunctionRuntime } from './function-runtime';
import { badGateway, fromUrlPayload, headerMap, preflight, toUrlEvent, urlIdOf, withCors, type UrlResponse } from './function-url';
import { declaredSize, MAX_PAYLOAD_BYTES, readBody, remoteAddress } from './http-util';
import { logInvocation, outcomeOf } from './event-sources/poller';
import { foreignRequest, type BodyBudget, type GuardOptions } from './request-guard';
import { precheckSigned, verifySigned } from './sigv4';

export interface UrlServerDeps {
  config: UrlPlan;
  runtime: FunctionRuntime;
  region: string;
  accountId: string;
  logger: Logger;
  /** False while shutting down. */
  accepting: () => boolean;
  now?: () => Date;
  /** Host names besides loopback it answers to (request-guard.ts). */
  guard?: GuardOptions;
  /** Request bodies are read only with their size reserved here (429 otherwise). */
  bodyBudget?: BodyBudget;
}

const tooLarge = (): UrlResponse => json(413, { Message: `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation` });
const json = (status: number, body: object): UrlResponse => ({ status, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify(body)) });

function write(res: ServerResponse, r: UrlResponse, requestId?: string): void {
  if (res.headersSent || res.destroyed) return;
  const headers = [...r.headers, ['content-length', String(r.body.length)], ...(requestId ? [['x-amzn-requestid', requestId]] : [])].flat();
  res.writeHead(r.status, headers);
  res.end(r.body);
}

export function functionUrlHandler(deps: UrlServerDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { config, runtime, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const urlId = urlIdOf(config.function);
  return async (req, res) => {
    const method = req.method ?? 'GET';
    // Every header as sent, the cookie included: the signature covers what the client signed.
    const headers = headerMap(req.rawHeaders);
    const cors = config.cors;
    // A web page may not call it unless served from this machine (request-guard.ts); a rebound
    // host name is refused before its signature is looked at.
    const foreign = foreignRequest(req.headers, deps.guard);
    if (foreign) return write(res, json(403, { Message: foreign }));
    if (!deps.accepting()) return write(res, json(503, { Message: 'Service Unavailable: the local Lambda service is stopping' }));
    const pre = preflight(cors, method, headers);
    if (pre) return write(res, pre);
    // Whatever can be refused is refused before the body is read: its size, then its signature.
    const size = declaredSize(req, MAX_PAYLOAD_BYTES);
    if (size > MAX_PAYLOAD_BYTES) return write(res, withCors(cors, headers.origin, tooLarge()));
    if (config.authType === 'AWS_IAM') {
      const early = await precheckSigned({ method, url: req.url ?? '/', headers }, deps.region, now());
      if (!early.ok) return write(res, withCors(cors, headers.origin, json(403, { Message: early.message })));
    }
    const admission = runtime.admit();
    if (!admission.ok) return write(res, withCors(cors, headers.origin, json(429, { Message: 'Rate Exceeded.' })));
    const release = deps.bodyBudget ? deps.bodyBudget.reserve(size) : () => undefined;
    if (!release) {
      admission.release();
      return write(res, withCors(cors, headers.origin, json(429, { Message: 'Rate Exceeded.' })));
    }
    try {
      await answer(req, res, method, headers, admission.release);
    } finally {
      release();
      admission.release();
    }
  };

  async function answer(req: IncomingMessage, res: ServerResponse, method: string, headers: Record<string, string>, admitted: () => void): Promise<void> {
    const cors = config.cors;
    const body = await readBody(req);
    if (body === 'too-large') return write(res, withCors(cors, headers.origin, tooLarge()));
    let caller: { accessKeyId: string; accountId: string } | undefined;
    if (config.authType === 'AWS_IAM') {
      const verdict = await verifySigned({ method, url: req.url ?? '/', headers, body }, deps.region, now());
      if (!verdict.ok) return write(res, withCors(cors, headers.origin, json(403, { Message: verdict.message })));
      caller = { accessKeyId: verdict.accessKeyId, accountId: deps.accountId };
    }
    const requestId = randomUUID();
    const event = toUrlEvent(
      { method, url: req.url ?? '/', rawHeaders: req.rawHeaders, body, sourceIp: remoteAddress(req) },
      { requestId, accountId: deps.accountId, urlId, region: deps.region, now: now(), ...(caller && { caller }) },
    );
    // Lambda's limit is on the event: a binary body counts base64-encoded, with the headers beside it.
    const payload = Buffer.from(JSON.stringify(event));
    if (payload.length > MAX_PAYLOAD_BYTES) return write(res, withCors(cors, headers.origin, tooLarge()));
    const result = await runtime.invoke({ payload, requestId }, { admitted });
    logInvocation(logger, { function: config.function, source: 'function-url', requestId: result.requestId, durationMs: result.durationMs, outcome: outcomeOf(result), method, path: String(event.rawPath) });
    // No room in the function's concurrency: the URL answers 429, as Lambda's do.
    if (!result.ok && result.kind === 'Throttled') return write(res, withCors(cors, headers.origin, json(429, { Message: 'Rate Exceeded.' })), result.requestId);
    const answer = result.ok && result.payload.length <= MAX_PAYLOAD_BYTES ? fromUrlPayload(result.payload) : badGateway();
    write(res, withCors(cors, headers.origin, answer), result.requestId);
  }
}
