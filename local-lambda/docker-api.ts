// The Docker Engine API over its Unix socket, as the Docker proxy uses it: a JSON call, or a stream.
import { request, type IncomingMessage } from 'node:http';

export interface DockerReply {
  status: number;
  body: any;
}

export class DockerApi {
  constructor(private readonly socketPath: string) {}

  /** The raw response (events, logs): the caller reads or pipes it. */
  stream(method: string, path: string, body?: unknown): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request({ socketPath: this.socketPath, method, path, headers: { Host: 'docker', ...(data && { 'Content-Type': 'application/json', 'Content-Length': String(data.length) }) } }, resolve);
      req.on('error', reject);
      req.end(data);
    });
  }

  /** A call whose answer is JSON (or text, kept as `{ message }`). */
  async call(method: string, path: string, body?: unknown): Promise<DockerReply> {
    const res = await this.stream(method, path, body);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text || 'null');
    } catch {
      parsed = { message: text };
    }
    return { status: res.statusCode ?? 0, body: parsed };
  }

  /** A call that must succeed (2xx, or one of `also`); throws with Docker's message otherwise. */
  async must(method: string, path: string, body?: unknown, also: number[] = []): Promise<any> {
    const reply = await this.call(method, path, body);
    if ((reply.status >= 200 && reply.status < 300) || also.includes(reply.status)) return reply.body;
    throw new DockerError(reply.status, `${method} ${path.split('?')[0]}: ${reply.body?.message ?? `status ${reply.status}`}`);
  }
}

export class DockerError extends Error {
  override name = 'DockerError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
