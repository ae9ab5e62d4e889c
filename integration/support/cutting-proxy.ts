// A TCP proxy on 127.0.0.1 that forwards to a target and, for the connections chosen by `cut`,
// drops the connection (RST) after a number of bytes came back from the target: how a test breaks
// an S3 download in the middle, as a flaky network or an impatient server does.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface CuttingProxy {
  port: number;
  /** Connections cut so far. */
  cuts(): number;
  /** Connections opened so far. */
  connections(): number;
  close(): Promise<void>;
}

/** `cut(n)` for the n-th connection (1-based): bytes from the target after which it is dropped, or undefined. */
export async function startCuttingProxy(target: { host: string; port: number }, cut: (connection: number) => number | undefined): Promise<CuttingProxy> {
  let opened = 0;
  let cutCount = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const limit = cut(++opened);
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let forwarded = 0;
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (limit !== undefined && forwarded + chunk.length > limit) {
        client.write(chunk.subarray(0, Math.max(0, limit - forwarded)));
        cutCount++;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      forwarded += chunk.length;
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    });
    upstream.on('end', () => client.end());
    const done = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cuts: () => cutCount,
    connections: () => opened,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
