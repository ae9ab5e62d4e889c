// Small helpers over node:http shared by the Runtime API and the Invoke API.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024; // Lambda's synchronous payload limit

export async function readBody(req: IncomingMessage, limit = MAX_PAYLOAD_BYTES): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * A body's size to reserve before reading it: its Content-Length (just over the limit when it says
 * more), the limit when it comes in chunks (readBody stops it there), 0 when there is none.
 */
export function declaredSize(req: IncomingMessage, limit: number): number {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    const length = Number(declared);
    return Number.isSafeInteger(length) && length >= 0 ? Math.min(length, limit + 1) : limit + 1;
  }
  return req.headers['transfer-encoding'] !== undefined ? limit : 0;
}

/** One query component decoded as a form would mean it ('+' is a space); a malformed escape stays as sent. */
export function decodeQueryComponent(raw: string): string {
  const spaced = raw.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/**
 * A query string as decoded pairs, in order. The one reading of a query: what a SigV4 signature is
 * checked against is what the function receives.
 */
export function queryPairs(rawQuery: string): Array<[string, string]> {
  return rawQuery
    .split('&')
    .filter(Boolean)
    .map((part) => {
      const at = part.indexOf('=');
      return at < 0 ? [decodeQueryComponent(part), ''] : [decodeQueryComponent(part.slice(0, at)), decodeQueryComponent(part.slice(at + 1))];
    });
}

export function send(res: ServerResponse, status: number, body: Buffer | string | object = '', headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const data = Buffer.isBuffer(body) ? body : typeof body === 'string' ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(data.length), ...headers });
  res.end(data);
}

/** The remote IPv4/IPv6 address of a request, used to find the container behind it. */
export const remoteAddress = (req: IncomingMessage): string => (req.socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
