// For the unit tests of the permission check: the request a real SDK client sends for a command
// (its serializer and signer ran), caught before it leaves, in the shape a server receives it.
import { Readable } from 'node:stream';

export interface CaughtRequest {
  method: string;
  /** Path and query as sent (encoded). */
  url: string;
  path: string;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: Buffer;
  /** The service and region of the signature's scope. */
  service: string;
  region: string;
}

class Caught extends Error {}

const encodeQuery = (query: Record<string, string | string[] | null>): string =>
  Object.entries(query)
    .flatMap(([k, v]) => (v === null ? [encodeURIComponent(k)] : [v].flat().map((one) => `${encodeURIComponent(k)}=${encodeURIComponent(one)}`)))
    .join('&');

export async function sentBy(client: { send(command: any): Promise<unknown>; middlewareStack: any }, command: unknown): Promise<CaughtRequest> {
  let request: any;
  client.middlewareStack.add(
    () => async (args: any) => {
      request = args.request;
      throw new Caught();
    },
    { step: 'finalizeRequest', priority: 'low', name: 'catch-request' },
  );
  try {
    await client.send(command);
  } catch (error) {
    if (!(error instanceof Caught)) throw error;
  }
  if (!request) throw new Error('the client sent nothing');
  const raw = request.body;
  // Some serializers hand over a Uint8Array subclass from another realm: copy its bytes.
  const body = raw === undefined ? Buffer.alloc(0) : raw instanceof Readable ? Buffer.concat(await raw.toArray()) : ArrayBuffer.isView(raw) ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength) : Buffer.from(String(raw));
  const headers = Object.fromEntries(Object.entries(request.headers as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
  const scope = /Credential=[^/]+\/\d+\/([^/]+)\/([^/]+)\//.exec(headers.authorization ?? '');
  const query = encodeQuery(request.query ?? {});
  return { method: request.method, url: `${request.path}${query ? `?${query}` : ''}`, path: request.path, headers, body, service: scope?.[2] ?? '', region: scope?.[1] ?? '' };
}
