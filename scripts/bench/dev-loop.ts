// "Dev loop": the time from saving a handler file to the new code answering, as `make dev` runs it
// (esbuild rebuilds the bundle, the local Lambda service replaces the function's environments). The
// bench saves a handler of its own in notify's slot, so no source file of the project is touched,
// then puts the service back as `make up` runs it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { lambdaClient } from '../../toolkit/clients';
import { compose } from '../../toolkit/compose';
import { eventually } from '../../toolkit/eventually';
import { functionOf, readStack } from '../../toolkit/stack';
import { COMPOSE_FILE, DEV_COMPOSE_FILE, reload, watchFunctions } from '../dev';
import { percentile, table } from './stats';

const FUNCTION = 'notify';
const ENTRY_DIR = '.cache/dev-bench';

/** A handler that answers its version for a probe event and is notify otherwise. */
const handlerSource = (version: number) => `import { handler as notify } from '${resolve('functions/notify/handler.ts')}';
export const handler = async (event: { devLoopProbe?: boolean }, context: unknown) =>
  event.devLoopProbe ? { version: ${version} } : notify(event as never, context as never);
`;


export async function benchDevLoop(saves: number): Promise<{ markdown: string }> {
  mkdirSync(ENTRY_DIR, { recursive: true });
  const entry = join(ENTRY_DIR, 'handler.ts');
  writeFileSync(entry, handlerSource(0));
  const lambda = lambdaClient();
  const bundled = new Map<number, () => void>();
  let version = 0;
  const contexts = await watchFunctions([FUNCTION], () => bundled.get(version)?.(), () => entry);
  const devFiles = `${COMPOSE_FILE}:${DEV_COMPOSE_FILE}`;
  const devEnv = { DEV_BUNDLES: resolve('.cache/dev') };
  try {
    // The service and its proxy as make dev runs them (the stack is up already).
    compose(['up', '-d', '--no-deps', 'docker-proxy', 'local-lambda'], { files: devFiles, env: devEnv });
    // Compose recreates the service in dev mode: it deploys (unchanged) and starts the functions anew.
    const name = functionOf(await eventually(() => readStack(), 'the local Lambda service in dev mode', 120_000, 500), FUNCTION).name;
    const answered = async (wanted: number, deadline: number) => {
      for (;;) {
        try {
          const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{"devLoopProbe":true}') }));
          if ((JSON.parse(Buffer.from(out.Payload!).toString()) as { version?: number }).version === wanted) return;
        } catch {
          // the service or the container is restarting
        }
        if (Date.now() > deadline) throw new Error(`version ${wanted} never answered`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await answered(0, Date.now() + 120_000);
    const times: number[] = [];
    for (let i = 1; i <= saves; i++) {
      version = i;
      const rebuilt = new Promise<void>((r) => bundled.set(i, r));
      const saved = performance.now();
      writeFileSync(entry, handlerSource(i));
      await rebuilt;
      await reload(FUNCTION);
      await answered(i, Date.now() + 60_000);
      times.push(performance.now() - saved);
      console.log(`  save ${i}: new code answering after ${times.at(-1)!.toFixed(0)} ms`);
    }
    const p50 = percentile(times, 50);
    return {
      markdown: [
        `${saves} saves of a handler in notify's slot under \`make dev\` (esbuild watch, the local Lambda service replacing the environment); from the file written to the first invocation answering with the new code. Each save ends in a cold start (the new code runs in a new environment, as after an update on AWS), so the Execution model section's cold start is part of every figure.`,
        '',
        table(['', 'p50 ms', 'p95 ms', 'min ms', 'max ms'], [['save -> new code answering', p50.toFixed(0), percentile(times, 95).toFixed(0), Math.min(...times).toFixed(0), Math.max(...times).toFixed(0)]]),
        '',
        `Goal p50 < 1500 ms: ${p50 < 1500 ? 'met' : 'MISSED'}.`,
      ].join('\n'),
    };
  } finally {
    await Promise.all(contexts.map((c) => c.dispose()));
    lambda.destroy();
    // Back to the stack make up runs, ready for the next section.
    compose(['up', '-d', '--no-deps', 'docker-proxy', 'local-lambda'], { files: COMPOSE_FILE });
    await eventually(() => readStack(), 'the local Lambda service back as make up runs it', 120_000, 500);
  }
}
