// The bench's HTTP/1.1 client: keep-alive, nothing between the call and the socket, so it adds as
// little as possible to what is measured (the AWS SDK would add about 0.75 ms to every call).
import { Agent, request } from 'node:http';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface KeepAliveClient {
  send(url: string, method: string, headers?: Record<string, string>, body?: Buffer | string): Promise<Answer>;
  destroy(): void;
}

export function keepAliveClient(options: { maxSockets?: number } = {}): KeepAliveClient {
  const agent = new Agent({ keepAlive: true, ...options });
  return {
    send: (url, method, headers = {}, body = '') =>
      new Promise((resolve, reject) => {
        const req = request(url, { method, headers: { 'content-length': String(Buffer.byteLength(body)), ...headers }, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      }),
    destroy: () => agent.destroy(),
  };
}
