// `make logs FUNCTION=thumbnail`: follows the output of a function's environments (its containers,
// which the local Lambda service starts and replaces), a line at a time prefixed with the container,
// following new environments as they come.
//   npx tsx scripts/logs.ts <function folder | function name>
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { FUNCTION_LABEL, STACK_LABEL, COMPOSE_PROJECT } from '../toolkit/labels';
import { functionOf, readStack } from '../toolkit/stack';

async function main(): Promise<void> {
  const which = process.argv[2] ?? '';
  const fn = functionOf(await readStack(), which);
  console.log(`==> following ${fn.name} (${fn.image}); Ctrl-C stops`);
  const following = new Map<string, ChildProcess>();
  const follow = () => {
    const ids = execFileSync('docker', ['ps', '-q', '--filter', `label=${STACK_LABEL}=${COMPOSE_PROJECT}`, '--filter', `label=${FUNCTION_LABEL}=${fn.name}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const id of ids) {
      if (following.has(id)) continue;
      const child = spawn('docker', ['logs', '-f', '--tail', '50', id], { stdio: ['ignore', 'pipe', 'pipe'] });
      const prefix = `${id.slice(0, 12)} | `;
      for (const stream of [child.stdout!, child.stderr!]) {
        let buffered = '';
        stream.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('utf8');
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          for (const line of lines) console.log(prefix + line);
        });
      }
      child.on('exit', () => following.delete(id));
      following.set(id, child);
    }
  };
  follow();
  setInterval(follow, 2_000);
}

main().catch((error: unknown) => {
  console.error(`logs: ${(error as Error).message}`);
  process.exitCode = 1;
});
