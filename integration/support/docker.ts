// Docker availability and cleanup for the integration suites. Ryuk (testcontainers' reaper)
// cannot run here, so every container a suite starts carries TEST_LABEL (the function containers
// too: the suites' Docker proxy adds it) and is removed by the suite, and by the next run if a crash
// left it behind.
import { execFileSync } from 'node:child_process';
import { imageOf, PROJECT, TEST_LABEL } from '../../toolkit/labels';

export { eventually } from '../../toolkit/eventually';
export { imageOf, PROJECT, TEST_LABEL };
/** Kept for the suites' `--label` arguments. */
export const LABEL = TEST_LABEL;

export function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 15_000 });
    return true;
  } catch {
    return false;
  }
}

const onPath = (command: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/**
 * `describe` when a Docker engine answers (and the `commands` the suite runs are installed).
 * Outside CI a missing one skips the suite with a message saying what to install; in CI (CI=true)
 * it is a failure, never a silent skip.
 */
export function describeWithDocker(name: string, body: () => void, { commands = [] as Array<[command: string, install: string]> } = {}): void {
  const missing = !dockerAvailable()
    ? 'no Docker engine answers (start Docker to run the integration suites)'
    : commands.filter(([command]) => !onPath(command)).map(([command, install]) => `${command} is not installed (${install})`).join('; ');
  if (!missing) return describe(name, body);
  if (process.env.CI === 'true') {
    describe(name, () => it('has what it needs', () => {
      throw new Error(`${missing}, and CI=true: integration suites must run in CI`);
    }));
    return;
  }
  console.warn(`skipping "${name}": ${missing}`);
  describe.skip(name, body);
}

/** Removes every container a test run labelled, e.g. leftovers of a crashed run. */
export function removeLabelledContainers(): void {
  const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=${TEST_LABEL}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  if (ids.length > 0) execFileSync('docker', ['rm', '-f', '-v', ...ids], { stdio: 'ignore' });
}
