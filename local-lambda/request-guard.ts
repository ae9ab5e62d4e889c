// What every endpoint a browser can reach checks before anything else (Invoke API, Function URLs,
// signing proxies, dev reload). The service listens on 127.0.0.1 only, but a web page the developer
// opens can still send requests there: a cross-site form or `text/plain` POST needs no CORS
// preflight, and DNS rebinding lets a page name its own host and read the answers. So:
//   - Host must be a loopback name (127.0.0.1, localhost, [::1]) or the service's own name on its
//     Docker network: a rebound host name (evil.example resolving to 127.0.0.1) is refused;
//   - Origin, when a browser sends one, must be a loopback origin (the dashboard, the status page);
//     without Origin, `Sec-Fetch-Site: cross-site` is refused (a link or an <img> of another site).
// Pure: the callers answer the refusal in their own error shape.
import type { IncomingHttpHeaders } from 'node:http';

const LOOPBACK_NAME = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|[a-z0-9-]+\.localhost|\[::1\])$/i;

/** The host name of a Host header (`name[:port]`, `[v6]:port`), lowercased; undefined when malformed. */
export function hostName(host: string): string | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(host.trim());
  return m ? m[1]!.toLowerCase() : undefined;
}

/** A Host header naming this machine's loopback, or one of `alsoAllowed` (names on the Docker network). */
export function isAllowedHost(host: string | undefined, alsoAllowed: readonly string[] = []): boolean {
  const name = host === undefined ? undefined : hostName(host);
  if (name === undefined) return false;
  return LOOPBACK_NAME.test(name) || alsoAllowed.includes(name);
}

/** An Origin of a page served from this machine's loopback (http or https, any port). */
export function isLoopbackOrigin(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin.replace(/\/$/, '') && LOOPBACK_NAME.test(url.hostname);
}

export interface GuardOptions {
  /** Host names besides loopback this endpoint answers to (its name on the Docker network). */
  serviceNames?: readonly string[];
}

const one = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.join(',') : value);

/**
 * Why a request must be refused (403, with this sentence), or undefined when it may go on:
 * a foreign Host, a foreign Origin, or a cross-site fetch without Origin.
 */
export function foreignRequest(headers: IncomingHttpHeaders, options: GuardOptions = {}): string | undefined {
  const host = one(headers.host);
  if (!isAllowedHost(host, options.serviceNames)) {
    return `this endpoint answers only at 127.0.0.1 or localhost, not ${host ? JSON.stringify(host.slice(0, 100)) : 'a request without Host'} (a web page cannot reach it through DNS rebinding)`;
  }
  const origin = one(headers.origin);
  if (origin !== undefined) {
    if (!isLoopbackOrigin(origin)) return `a request from the page ${JSON.stringify(origin.slice(0, 100))} is cross-site: only pages served from 127.0.0.1 or localhost may call the local stack`;
    return undefined;
  }
  if (one(headers['sec-fetch-site']) === 'cross-site') return 'a cross-site request (Sec-Fetch-Site: cross-site) may not call the local stack: only pages served from 127.0.0.1 or localhost may';
  return undefined;
}

/**
 * Content types of requests with a body that the AWS SDKs and CLIs send to the Lambda API. The ones
 * a page may send cross-site without a preflight (text/plain, forms) are not among them.
 */
const SDK_CONTENT_TYPES = new Set(['application/json', 'application/x-amz-json-1.0', 'application/x-amz-json-1.1', 'application/octet-stream', 'binary/octet-stream']);

/** Why a Lambda API request's content type is refused (415), or undefined. No content type is fine (curl -d @- without it, SDKs with an empty body). */
export function unsupportedContentType(contentType: string | undefined): string | undefined {
  if (contentType === undefined || contentType.trim() === '') return undefined;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (SDK_CONTENT_TYPES.has(type)) return undefined;
  return `the content type ${JSON.stringify(contentType.slice(0, 100))} is not one the AWS SDKs send: use application/json (or application/octet-stream)`;
}

/**
 * Bytes of request bodies held in memory at once, across every endpoint: a body is read only with
 * its size reserved here first, so a flood of large requests is answered at once (429) instead of
 * being held in memory.
 */
export class BodyBudget {
  private used = 0;
  private peak = 0;
  refused = 0;

  constructor(readonly limitBytes: number) {}

  /** Reserves `bytes`; returns the release (call it once the body is no longer needed), or undefined when there is no room. */
  reserve(bytes: number): (() => void) | undefined {
    if (this.used + bytes > this.limitBytes && this.used > 0) {
      this.refused++;
      return undefined;
    }
    this.used += bytes;
    this.peak = Math.max(this.peak, this.used);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
    };
  }

  get usage(): { usedBytes: number; peakBytes: number; limitBytes: number; refused: number } {
    return { usedBytes: this.used, peakBytes: this.peak, limitBytes: this.limitBytes, refused: this.refused };
  }
}
