// Restarts the container behind a timed-out invocation through the Docker Engine API, as Lambda
// recycles a timed-out sandbox. The container is found by the address its `/next` came from.
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import type { Logger } from 'pino';

function dockerApi(socketPath: string, method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { Host: 'docker' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface ContainerSummary {
  Id: string;
  Names: string[];
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

export type Restarter = (workerAddress: string) => Promise<void>;

/** A restarter when the Docker socket is mounted; otherwise one that only logs. */
export function dockerRestarter(socketPath: string, logger: Logger): Restarter {
  if (!existsSync(socketPath)) {
    return async (worker) => logger.warn({ worker }, 'timed-out container not restarted: no Docker socket mounted');
  }
  return async (worker) => {
    try {
      const list = await dockerApi(socketPath, 'GET', '/containers/json');
      const containers = JSON.parse(list.body) as ContainerSummary[];
      const match = containers.find((c) => Object.values(c.NetworkSettings?.Networks ?? {}).some((n) => n.IPAddress === worker));
      if (!match) return logger.warn({ worker }, 'timed-out container not found by address; not restarted');
      const res = await dockerApi(socketPath, 'POST', `/containers/${match.Id}/restart?t=0`);
      logger.info({ worker, container: match.Names[0], status: res.status }, 'restarted timed-out container');
    } catch (error) {
      logger.error({ worker, err: (error as Error).message }, 'could not restart the timed-out container');
    }
  };
}
