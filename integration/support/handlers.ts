// Stand-in handlers for suites that must make a function wait, hang, exit or echo: the files of
// integration/fixtures/test-handler/ copied into a production function image (its runtime,
// aws-lambda-ric, unchanged), as a user would build an image of their own. The image keeps the
// function-image label, so the Docker proxy runs it; a test stack points a function at it with a
// handler of its choice (ImageConfig.Command), the way a CDK app would.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { imageOf, PROJECT } from '../../toolkit/labels';

export const TEST_HANDLERS_REPOSITORY = `${PROJECT}/test-handlers`;
const FIXTURES = join(__dirname, '../fixtures/test-handler');

let built = false;

/** Builds `<project>/test-handlers:latest` once per run: the api's image with the fixtures in /var/task/test/. */
export function buildTestHandlers(): void {
  if (built) return;
  const dockerfile = `FROM ${imageOf('api')}\nCOPY *.mjs /var/task/test/\n`;
  execFileSync('docker', ['build', '-q', '-t', `${TEST_HANDLERS_REPOSITORY}:latest`, '-f', '-', FIXTURES], { input: dockerfile, env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: ['pipe', 'ignore', 'inherit'] });
  built = true;
}

/** A function folder running `test/<file>.<export>` of the stand-in image. */
export const standIn = (handler: string): { image: string; command: string[] } => {
  buildTestHandlers();
  return { image: TEST_HANDLERS_REPOSITORY, command: [`test/${handler}`] };
};
