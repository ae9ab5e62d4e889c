// Compose as the Makefile runs it, for the scripts that drive the running stack (dev, bench):
// `docker compose` v2 when present, else docker-compose 1.29, always on the project `make up` made.
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { COMPOSE_PROJECT } from './labels';

const STACK_NAME = process.env.STACK_NAME ?? 'LambdaPipelines';

/** What scripts/up.sh gives compose for the template `make up` deployed: compose must see the same, or it recreates the service. */
function templateSha(): Record<string, string> {
  const file = `cdk.out/${STACK_NAME}.template.json`;
  return existsSync(file) ? { STACK_NAME, STACK_TEMPLATE_SHA: createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16) } : {};
}

export { COMPOSE_PROJECT };

let command: string[] | undefined;

/** The compose command: COMPOSE (set by the Makefile), else whichever this machine has. */
export function composeCommand(): string[] {
  if (command) return command;
  if (process.env.COMPOSE) return (command = process.env.COMPOSE.split(' '));
  try {
    execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' });
    command = ['docker', 'compose'];
  } catch {
    command = ['docker-compose'];
  }
  return command;
}

let images: Record<string, string> | undefined;

/** The base images `make up` used (scripts/base-images.sh): compose must not see other ones. */
function baseImages(): Record<string, string> {
  images ??= Object.fromEntries(
    execFileSync('scripts/base-images.sh', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/\\(.)/g, '$1')]),
  );
  return images;
}

/** Runs `compose -p <project> <args>`; `files` sets COMPOSE_FILE (e.g. with the dev override). */
export function compose(args: string[], options: ExecFileSyncOptions & { files?: string } = {}): string {
  const [cmd, ...base] = composeCommand();
  const { files, ...rest } = options;
  return String(
    execFileSync(cmd!, [...base, '-p', COMPOSE_PROJECT, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      ...rest,
      env: { ...process.env, ...baseImages(), ...templateSha(), ...(files && { COMPOSE_FILE: files }), ...rest.env },
    }),
  );
}
