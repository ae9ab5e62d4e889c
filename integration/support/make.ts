// The suites that run the README's own commands (`make up`, `make down`) against the fixed ports of
// the developer's stack: one way to run make, and a stack the developer already had up is left up.
import { execFileSync } from 'node:child_process';

export const ROOT = `${__dirname}/../..`;

/** Runs `make <target>`; with `capture`, returns what it printed (and prints it too). */
export const make = (target: string, { capture = false } = {}): string => {
  if (!capture) {
    execFileSync('make', ['--no-print-directory', target], { cwd: ROOT, stdio: 'inherit', timeout: 900_000 });
    return '';
  }
  const out = execFileSync('make', ['--no-print-directory', target], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 900_000 });
  process.stdout.write(out);
  return out;
};

/** True when `make up`'s stack (compose project lambda-pipelines) is running already. */
export const stackWasUp = (): boolean => {
  try {
    return execFileSync('docker', ['ps', '-q', '--filter', 'label=com.docker.compose.project=lambda-pipelines'], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
};
