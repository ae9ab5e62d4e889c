// The suites that run the README's own commands (`make up`, `make down`) against the fixed ports of
// the developer's stack: one way to run make, and a stack the developer already had up is left up.
import { execFileSync } from 'node:child_process';

export const ROOT = `${__dirname}/../..`;

export const make = (target: string): void => {
  execFileSync('make', ['--no-print-directory', target], { cwd: ROOT, stdio: 'inherit', timeout: 900_000 });
};

/** True when `make up`'s stack (compose project lambda-pipelines) is running already. */
export const stackWasUp = (): boolean => {
  try {
    return execFileSync('docker', ['ps', '-q', '--filter', 'label=com.docker.compose.project=lambda-pipelines'], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
};
