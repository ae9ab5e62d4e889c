// A real registry for the push suite: Debian's docker-registry (the CNCF distribution registry v2),
// run by the test on 127.0.0.1 with storage in a temporary folder. Docker treats 127.0.0.0/8
// registries as insecure by default, so plain HTTP needs no daemon setting.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../toolkit/free-port';
import { eventually } from './docker';

export { freePort };

export interface LocalRegistry {
  host: string;
  stop(): void;
}

export async function startRegistry(): Promise<LocalRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'registry-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    ['version: 0.1', 'log:', '  level: warn', 'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`, '  delete:', '    enabled: true', 'http:', `  addr: 127.0.0.1:${port}`, ''].join('\n'),
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const host = `127.0.0.1:${port}`;
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${log.slice(-500)}`);
    return (await fetch(`http://${host}/v2/`)).ok ? true : undefined;
  }, `docker-registry answering on ${host}`, 30_000);
  return { host, stop: () => child.kill() };
}
